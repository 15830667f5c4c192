/**
 * A listener applies the store's rules to pushed revisions (`rev`), with the same messages as a
 * local save, and answers 400 for a body or ID it refuses — before anything is stored or fetched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlipError } from '../../../server/blip';
import { MAX_NESTING, StoreError } from '../../../server/store';
import { connectRawClient, nestedJson, pushRev } from '../../helpers/raw-peer';
import { openTempDb } from '../../helpers/open-db';

function refusedWith(code: number, message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof BlipError, `expected a BlipError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

/** The message a local save gives for the same body. */
function localSaveError(save: () => unknown): RegExp {
  try {
    save();
  } catch (e) {
    assert.ok(e instanceof StoreError);
    return new RegExp(e.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
  assert.fail('the local save was expected to fail');
}

const chain = (from: number, to: number): string[] => {
  const out: string[] = [];
  for (let g = from; g >= to; g--) out.push(`${g}-${g.toString(16).padStart(8, '0')}`);
  return out;
};

test('a pushed revision whose link to the current one lies beyond the history kept is refused (409), not stored as a conflict', async (t) => {
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  const [five, ...older] = chain(5, 1);
  coll.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":5}' }, [five!, ...older]);
  const client = connectRawClient(t, db);
  const [tip, ...history] = chain(62, 1); // 61 ancestors: "5-…" is the 57th, past the 50 inserted
  assert.equal(history.length, 61);
  await assert.rejects(pushRev(client, 'doc', tip!, '{"v":62}', { history }), refusedWith(409));
  const doc = coll.get('doc');
  assert.equal(doc?.revId, five);
  assert.equal(doc?.conflicted, false, 'no conflict was stored');
  assert.deepEqual(coll.conflicts(), []);

  // Within the history kept, the same push extends the document.
  const [tip2, ...near] = chain(20, 1);
  await pushRev(client, 'doc', tip2!, '{"v":20}', { history: near });
  assert.equal(coll.get('doc')?.revId, tip2);
  assert.equal(coll.get('doc')?.conflicted, false);
});

for (const key of ['_id', '_rev', '_deleted', '__proto__']) {
  test(`a pushed body with a top-level ${key} is refused (400) with a local save's message, and nothing is stored`, async (t) => {
    const { db } = await openTempDb(t);
    const client = connectRawClient(t, db);
    const body = `{${JSON.stringify(key)}:"other","v":1}`;
    const message = localSaveError(() => db.defaultCollection.save({ id: 'local', body: JSON.parse(body) as Record<string, string> }));
    await assert.rejects(pushRev(client, 'real', '1-aaaa', body), refusedWith(400, message));
    assert.equal(db.defaultCollection.get('real'), undefined);
    assert.equal(db.defaultCollection.count({ includeDeleted: true }), 0);
  });
}

test('other top-level "_" properties of a pushed body are removed before storing, as Couchbase Lite does', async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  await pushRev(client, 'doc', '1-aaaa', '{"_exp":5,"_attachments":{"blob_/img":{"stub":true}},"v":1}');
  assert.deepEqual(db.defaultCollection.get('doc')?.body, { v: 1 });
  // Legacy attachments (not stand-ins for blobs in the body) would be lost: refused instead.
  await assert.rejects(pushRev(client, 'att', '1-bbbb', '{"_attachments":{"photo.jpg":{"stub":true,"digest":"sha1-x"}}}'), refusedWith(400, /_attachments/));
  // A tombstone's body may say it is deleted.
  await pushRev(client, 'doc', '2-cccc', '{"_deleted":true}', { history: ['1-aaaa'], deleted: true });
  assert.equal(db.defaultCollection.get('doc', { includeDeleted: true })?.deleted, true);
});

test('a "__proto__" property anywhere in a body is refused on every path', async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  const body = '{"a":{"b":[{"__proto__":{"polluted":true}}]}}';
  const message = localSaveError(() => db.defaultCollection.save({ id: 'local', body: JSON.parse(body) as Record<string, never> }));
  await assert.rejects(pushRev(client, 'doc', '1-aaaa', body), refusedWith(400, message));
  assert.equal(db.defaultCollection.get('doc'), undefined);
});

test(`bodies nested deeper than ${MAX_NESTING} levels are refused (400), with a blob inside too; ${MAX_NESTING} levels are accepted`, async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  const deep = nestedJson(5000);
  const message = localSaveError(() => db.defaultCollection.save({ id: 'local', body: JSON.parse(nestedJson(MAX_NESTING + 1)) as Record<string, never> }));
  await assert.rejects(pushRev(client, 'deep', '1-aaaa', deep), refusedWith(400, message));
  const blob = '{"@type":"blob","digest":"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=","length":0}';
  await assert.rejects(pushRev(client, 'deep-blob', '1-bbbb', nestedJson(5000, blob)), refusedWith(400, message));
  await assert.rejects(pushRev(client, 'just-over', '1-cccc', nestedJson(MAX_NESTING + 1)), refusedWith(400, message));
  await pushRev(client, 'at-limit', '1-dddd', nestedJson(MAX_NESTING));
  assert.deepEqual(
    db.defaultCollection.allDocs().map((d) => d.id),
    ['at-limit'],
  );
  assert.ok(JSON.stringify(db.defaultCollection.get('at-limit')?.body, null, 2).length > 0);
});

test('a body that is not valid UTF-8 is refused (400) rather than stored with replacement characters', async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  const bytes = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
  await assert.rejects(pushRev(client, 'doc', '1-aaaa', bytes), refusedWith(400, /not valid UTF-8/));
  assert.equal(db.defaultCollection.get('doc'), undefined);
  await pushRev(client, 'ok', '1-bbbb', Buffer.from('{"name":"café"}', 'utf8'));
  assert.deepEqual(db.defaultCollection.get('ok')?.body, { name: 'café' });
});

test('document IDs follow Couchbase Lite rules on the rev path: no leading "_", no control characters, at most 240 bytes', async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  for (const id of ['_design', 'tab\there', 'x'.repeat(241)]) {
    await assert.rejects(pushRev(client, id, '1-aaaa', '{}'), refusedWith(400, /document ID/), id);
  }
  await pushRev(client, 'x'.repeat(240), '1-aaaa', '{}');
  assert.equal(db.defaultCollection.count(), 1);
});

test('a blob reference whose "@type" is written with escapes is still found, so its content must be obtained first', async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  // The client has no getAttachment handler: the content cannot be obtained, so the revision is refused.
  const body = '{"img":{"\\u0040type":"blob","digest":"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=","length":0}}';
  await assert.rejects(pushRev(client, 'doc', '1-aaaa', body), (e: unknown) => e instanceof BlipError);
  assert.equal(db.defaultCollection.get('doc'), undefined);
});
