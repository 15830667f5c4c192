import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Database, computeRevId, canonicalJson, type Change, type RevId } from '../../../server/store';
import { openTempDb } from '../../helpers/open-db';

test('save and get: a new document gets generation 1, edits build on the current revision', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const d1 = c.save({ id: 'doc', body: { n: 1 } });
  assert.equal(d1.revId, computeRevId(null, false, canonicalJson({ n: 1 })));
  assert.equal(d1.sequence, 1);
  const d2 = c.save({ id: 'doc', revId: d1.revId, body: { n: 2 } });
  assert.match(d2.revId, /^2-/);
  assert.deepEqual(c.get('doc')?.body, { n: 2 });
  assert.deepEqual(c.get('doc', { rev: d1.revId })?.body, undefined, 'non-leaf bodies are dropped');
  assert.equal(c.get('doc', { rev: d1.revId })?.revId, d1.revId);
  assert.equal(c.get('missing'), undefined);
  const generated = c.save({ body: { a: 1 } });
  assert.ok(generated.id.length > 0 && c.get(generated.id));
});

test('concurrency control: lastWriteWins, failOnConflict and a conflict handler', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const base = c.save({ id: 'd', body: { v: 0 } });
  const theirs = c.save({ id: 'd', revId: base.revId, body: { v: 1, theirs: true } });

  assert.throws(() => c.save({ id: 'd', revId: base.revId, body: { v: 2 } }, 'failOnConflict'), { code: 'CONFLICT' });
  assert.equal(c.get('d')?.revId, theirs.revId, 'a refused save changes nothing');

  const lww = c.save({ id: 'd', revId: base.revId, body: { v: 3 } }, 'lastWriteWins');
  assert.deepEqual(lww.body, { v: 3 });
  assert.equal(c.getRevisionHistory('d')?.filter((r) => r.leaf).length, 1, 'saved on top of the current revision: no branch');

  let seen: unknown;
  const merged = c.save({ id: 'd', revId: base.revId, body: { mine: true } }, (toSave, current) => {
    seen = current?.body;
    Object.assign(toSave, current?.body);
    return true;
  });
  assert.deepEqual(seen, { v: 3 });
  assert.deepEqual(merged.body, { mine: true, v: 3 });
  assert.throws(() => c.save({ id: 'd', revId: base.revId, body: {} }, () => false), { code: 'CONFLICT' });
  assert.throws(() => c.save({ id: 'd', body: { fresh: true } }, 'failOnConflict'), { code: 'CONFLICT' }, 'creating an existing ID is a conflict');
});

test('invalid input is refused with clear errors and writes nothing', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  assert.throws(() => c.save({ id: '', body: {} }), { code: 'INVALID_DOC_ID' });
  assert.throws(() => c.save({ id: 'x'.repeat(241), body: {} }), { code: 'INVALID_DOC_ID' });
  assert.doesNotThrow(() => c.save({ id: 'é'.repeat(120), body: {} }), '240 bytes of UTF-8 is fine');
  assert.throws(() => c.save({ id: 'é'.repeat(120) + 'x', body: {} }), { code: 'INVALID_DOC_ID' }, '241 bytes is too long');
  assert.throws(() => c.save({ id: 'a\u0000b', body: {} }), { code: 'INVALID_DOC_ID' });
  assert.throws(() => c.save({ id: 'r', body: { _rev: 'x' } }), { code: 'INVALID_DOCUMENT' });
  assert.throws(() => c.save({ id: 'n', body: { n: Number.POSITIVE_INFINITY } }), { code: 'INVALID_DOCUMENT' });
  assert.throws(() => c.save({ id: 'b', body: { img: { '@type': 'blob', digest: 'md5-nope', length: 1 } } }), { code: 'INVALID_DOCUMENT' });
  assert.equal(c.lastSequence, 1, 'only the valid save consumed a sequence');
  assert.equal(c.count(), 1);
});

test('tombstones: delete adds a revision that replicates; get hides it unless asked', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const d = c.save({ id: 'gone', body: { a: 1 } });
  const tomb = c.delete('gone');
  assert.equal(tomb.deleted, true);
  assert.match(tomb.revId, /^2-/);
  assert.equal(c.get('gone'), undefined);
  assert.equal(c.get('gone', { includeDeleted: true })?.deleted, true);
  assert.equal(c.count(), 0);
  assert.equal(c.count({ includeDeleted: true }), 1);
  assert.deepEqual(
    c.changesSince(0).map((ch) => [ch.docId, ch.deleted]),
    [['gone', true]],
  );
  assert.deepEqual(c.changesSince(0, { activeOnly: true }), []);
  assert.throws(() => c.delete('gone'), { code: 'NOT_FOUND' });
  const again = c.save({ id: 'gone', body: { back: true } });
  assert.match(again.revId, /^3-/, 're-creating a deleted document continues its history');
  assert.notEqual(again.revId, d.revId);
});

test('purge removes a document and its history without a tombstone; sequences are never reused', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  c.save({ id: 'a', body: {} });
  c.save({ id: 'b', body: {} });
  const purged: string[] = [];
  c.on('purge', (id) => purged.push(id));
  assert.equal(c.purge('b'), true);
  assert.equal(c.purge('b'), false);
  assert.deepEqual(purged, ['b']);
  assert.equal(c.get('b', { includeDeleted: true }), undefined);
  assert.deepEqual(
    c.changesSince(0).map((ch) => ch.docId),
    ['a'],
  );
  assert.equal(c.save({ id: 'c', body: {} }).sequence, 3);
});

test('changes feed: each document once at its latest sequence, with limit and docIDs', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  for (const id of ['a', 'b', 'c', 'd']) c.save({ id, body: { id } });
  c.save({ id: 'b', revId: c.get('b')!.revId, body: { id: 'b', v: 2 } });
  const all = c.changesSince(0);
  assert.deepEqual(
    all.map((ch) => [ch.sequence, ch.docId]),
    [
      [1, 'a'],
      [3, 'c'],
      [4, 'd'],
      [5, 'b'],
    ],
  );
  assert.equal(all[3]!.bodySize, Buffer.byteLength('{"id":"b","v":2}'));
  assert.deepEqual(
    c.changesSince(3, { limit: 1 }).map((ch) => ch.docId),
    ['d'],
  );
  assert.deepEqual(
    c.changesSince(0, { docIds: ['d', 'a'] }).map((ch) => ch.docId),
    ['a', 'd'],
  );
  assert.equal(c.lastSequence, 5);
});

test('change events fire once per committed transaction, never for a rolled-back one', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const batches: Change[][] = [];
  c.on('change', (b) => batches.push(b));
  db.inBatch(() => {
    c.save({ id: 'x', body: {} });
    c.save({ id: 'y', body: {} });
  });
  assert.throws(() =>
    db.inBatch(() => {
      c.save({ id: 'z', body: {} });
      throw new Error('abort');
    }),
  );
  assert.equal(c.get('z'), undefined, 'rolled back');
  assert.equal(c.lastSequence, 2, 'the rolled-back sequence is handed out again');
  c.save({ id: 'w', body: {} });
  assert.deepEqual(
    batches.map((b) => b.map((ch) => `${ch.docId}@${ch.sequence}`)),
    [['x@1', 'y@2'], ['w@3']],
  );
});

test('insertRevisionWithHistory creates a conflict that keeps the local winner until resolved', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const base = c.save({ id: 'doc', body: { v: 'base' } });
  const local = c.save({ id: 'doc', revId: base.revId, body: { v: 'local' } });
  const remoteRev = computeRevId(base.revId, false, canonicalJson({ v: 'remote' }));
  const remote3 = computeRevId(remoteRev, false, canonicalJson({ v: 'remote', more: 1 }));
  const out = c.insertRevisionWithHistory({ id: 'doc', body: { v: 'remote', more: 1 } }, [remote3, remoteRev, base.revId]);
  assert.equal(out.added, 2);
  assert.equal(out.conflicted, true);
  assert.equal(c.get('doc')?.revId, local.revId, 'local stays current even though the remote branch is longer');
  assert.equal(c.get('doc')?.conflicted, true);
  assert.deepEqual(c.conflicts(), [{ docId: 'doc', revId: local.revId }]);
  const conflict = c.getConflict('doc')!;
  assert.equal(conflict.local.revId, local.revId);
  assert.equal(conflict.remote.revId, remote3);
  assert.deepEqual(conflict.remote.body, { v: 'remote', more: 1 });
  assert.equal(c.insertRevisionWithHistory({ id: 'doc', body: {} }, [remote3]).added, 0, 'already known');
  const diff = c.revsDiff({ doc: [remote3, '4-abc'], other: ['1-aa'] });
  assert.deepEqual(diff.doc?.missing, ['4-abc']);
  assert.ok(diff.doc?.possibleAncestors.includes(remote3));
  assert.deepEqual(diff.other, { missing: ['1-aa'], possibleAncestors: [] });
});

test('a pulled revision that extends the winner is a plain update; bodies can arrive as raw JSON', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const changes: Change[][] = [];
  c.on('change', (b) => changes.push(b));
  const r1 = '1-aaaa' as RevId;
  const r2 = '2-bbbb' as RevId;
  c.insertRevisionWithHistory({ id: 'p', bodyJson: '{"z":1,"a":2}' }, [r1]);
  c.insertRevisionWithHistory({ id: 'p', bodyJson: '{"z":2}' }, [r2, r1]);
  assert.equal(c.get('p')?.revId, r2);
  assert.equal(c.get('p')?.conflicted, false);
  assert.equal(c.getJson('p')?.json, '{"z":2}', 'stored as received');
  assert.equal(changes.length, 2);
  assert.throws(() => c.insertRevisionWithHistory({ id: 'p', bodyJson: '[1]' }, ['3-c', r2]), { code: 'INVALID_DOCUMENT' });
  assert.throws(() => c.insertRevisionWithHistory({ id: 'p', bodyJson: '{' }, ['3-c', r2]), { code: 'INVALID_DOCUMENT' });
});

test('local documents (checkpoints) refuse a stale revision', async (t) => {
  const { db } = await openTempDb(t);
  assert.equal(db.getLocal('cp-1'), undefined);
  const a = db.putLocal('cp-1', { seq: 10 }, null);
  assert.equal(a.rev, '0-1');
  assert.throws(() => db.putLocal('cp-1', { seq: 11 }, null), { code: 'CONFLICT' });
  assert.throws(() => db.putLocal('cp-1', { seq: 11 }, '0-7'), { code: 'CONFLICT' });
  assert.equal(db.putLocal('cp-1', { seq: 12 }, '0-1').rev, '0-2');
  assert.deepEqual(db.getLocal('cp-1')?.body, { seq: 12 });
  assert.equal(db.defaultCollection.lastSequence, 0, 'local documents are not in the changes feed');
  assert.equal(db.deleteLocal('cp-1'), true);
  assert.equal(db.getLocal('cp-1'), undefined);
});

test('collections have their own documents and sequences; the default cannot be deleted', async (t) => {
  const { db, path } = await openTempDb(t);
  const inv = db.createCollection('store.inventory');
  inv.save({ id: 'x', body: { in: 'inventory' } });
  inv.save({ id: 'y', body: {} });
  db.defaultCollection.save({ id: 'x', body: { in: 'default' } });
  assert.equal(inv.lastSequence, 2);
  assert.equal(db.defaultCollection.lastSequence, 1);
  assert.equal(db.collection('store.inventory'), inv);
  assert.equal(db.createCollection('store.inventory'), inv, 'idempotent');
  assert.throws(() => db.createCollection('bad name'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => db.deleteCollection('_default'), { code: 'INVALID_ARGUMENT' });
  db.createCollection('temp');
  db.deleteCollection('temp');
  db.close();
  const again = await Database.open(path);
  t.after(() => again.close());
  assert.deepEqual(
    again.collections().map((c) => c.fullName),
    ['_default._default', 'store.inventory'],
  );
  assert.deepEqual(again.requireCollection('store.inventory').get('x')?.body, { in: 'inventory' });
  assert.equal(again.requireCollection('store.inventory').lastSequence, 2);
  assert.throws(() => again.requireCollection('temp'), { code: 'NOT_FOUND' });
});

test('blobs are stored content-addressed on disk and referenced from documents', async (t) => {
  const { db } = await openTempDb(t);
  const content = Buffer.from('hello blob');
  const ref = db.saveBlob(content, 'text/plain');
  // printf 'hello blob' | openssl sha1 -binary | base64
  assert.equal(ref.digest, 'sha1-c2XTGPrFT86b4bdd8Xo4E/Zpuww=');
  assert.equal(ref.length, content.length);
  assert.deepEqual(db.getBlob(ref.digest), content);
  assert.equal(db.saveBlob(content).digest, ref.digest, 'same content, same blob');
  const doc = db.defaultCollection.save({ id: 'withblob', body: { file: { ...ref } } });
  assert.deepEqual(doc.body, { file: { '@type': 'blob', digest: ref.digest, length: 10, content_type: 'text/plain' } });
  assert.equal(db.getBlob('sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA='), undefined);
});

test('revision trees are pruned to maxRevTreeDepth', async (t) => {
  const { db } = await openTempDb(t, { maxRevTreeDepth: 5 });
  const c = db.defaultCollection;
  let rev: string | null = null;
  for (let i = 0; i < 12; i++) rev = c.save({ id: 'deep', revId: rev, body: { i } }).revId;
  const h = c.getRevisionHistory('deep')!;
  assert.ok(h.length <= 6, `kept ${h.length}`);
  assert.equal(c.getAncestry('deep')?.length, h.length);
  assert.match(c.get('deep')!.revId, /^12-/);
});

test('remote revisions: recorded per peer, looked up in bulk (any count), replaced by newer ones', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const peerA = db.remoteId('wss://a.example/db');
  const peerB = db.remoteId('wss://b.example/db');
  const ids = Array.from({ length: 600 }, (_, i) => `doc-${i}`);
  c.setRemoteRevs(
    peerA,
    ids.filter((_, i) => i % 3 !== 0).map((id) => [id, `1-${id}`]),
  );
  c.setRemoteRevs(peerB, [['doc-1', '7-b']]);
  c.setRemoteRevs(peerA, [['doc-2', '2-newer']]);

  const all = c.getRemoteRevs(peerA, [...ids, 'never-seen']);
  assert.equal(all.size, 400, 'every recorded document of peer A, written and read across chunks; none of the others');
  for (const [i, id] of ids.entries()) assert.equal(all.get(id), i % 3 === 0 ? undefined : i === 2 ? '2-newer' : `1-${id}`, id);
  assert.deepEqual([...c.getRemoteRevs(peerB, ['doc-1', 'doc-2'])], [['doc-1', '7-b']], 'peers are kept apart');
  assert.deepEqual(
    [...c.getRemoteRevs(peerA, ['doc-4', 'doc-4', 'doc-5'])],
    [
      ['doc-4', '1-doc-4'],
      ['doc-5', '1-doc-5'],
    ],
    'repeated IDs are harmless',
  );
  assert.equal(c.getRemoteRevs(peerA, []).size, 0);
});

test('insertRevisionWithHistory with onlyExtending: a revision that does not descend from the current one is refused, and nothing changes', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const mine = c.save({ id: 'doc', body: { v: 'mine' } });
  const theirs = computeRevId(null, false, canonicalJson({ v: 'theirs' }));
  assert.throws(() => c.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":"theirs"}' }, [theirs], { onlyExtending: true }), { code: 'CONFLICT', message: /doc is at 1-.* does not descend from/ });
  assert.equal(c.get('doc')?.revId, mine.revId);
  assert.equal(c.get('doc', { rev: theirs }), undefined, 'the refused revision was not stored');

  const child = computeRevId(mine.revId, false, canonicalJson({ v: 'next' }));
  const out = c.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":"next"}' }, [child, mine.revId], { onlyExtending: true });
  assert.equal(out.added, 1);
  assert.equal(c.get('doc')?.revId, child);
  assert.equal(c.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":"next"}' }, [child, mine.revId], { onlyExtending: true }).added, 0, 'already there: accepted, nothing added');
  assert.equal(c.insertRevisionWithHistory({ id: 'new', bodyJson: '{"n":1}' }, [theirs], { onlyExtending: true }).added, 1, 'a document it does not have is accepted');
});
