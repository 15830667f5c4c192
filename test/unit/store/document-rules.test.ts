/**
 * One set of document rules for every write path of the store: local saves and revisions inserted
 * from peers refuse the same IDs and bodies with the same errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NESTING, type Collection, type JsonObject } from '../../../server/store';
import { nestedJson } from '../../helpers/raw-peer';
import { openTempDb } from '../../helpers/open-db';

/** Runs a write on both paths and checks they fail alike. */
function refusedAlike(c: Collection, id: string, bodyJson: string, expected: { code: string; message: RegExp }): void {
  let local: unknown;
  let foreign: unknown;
  try {
    c.save({ id, body: JSON.parse(bodyJson) as JsonObject });
  } catch (e) {
    local = e;
  }
  try {
    c.insertRevisionWithHistory({ id, bodyJson }, ['1-aaaa']);
  } catch (e) {
    foreign = e;
  }
  assert.ok(local instanceof Error && foreign instanceof Error, `both paths refuse ${id} ${bodyJson.slice(0, 60)}`);
  assert.equal((local as { code?: string }).code, expected.code);
  assert.equal((foreign as { code?: string }).code, expected.code);
  assert.match(local.message, expected.message);
  assert.equal(foreign.message, local.message);
}

test('document IDs: 1–240 bytes of UTF-8, no leading "_", no control characters, on every write path', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const bad: [string, RegExp][] = [
    ['_design', /must not start with "_"/],
    ['a\nb', /control characters/],
    ['a\u001fb', /control characters/],
    ['é'.repeat(120) + 'x', /1–240 bytes/],
    ['\uD800x', /unpaired surrogate/],
    ['', /1–240 bytes/],
  ];
  for (const [id, message] of bad) refusedAlike(c, id, '{}', { code: 'INVALID_DOC_ID', message });
  for (const id of ['é'.repeat(120), 'a_b', '-x', 'del\u007f', '😀']) {
    c.save({ id, body: {} });
    c.insertRevisionWithHistory({ id: `${id.slice(0, 100)}.p`, bodyJson: '{}' }, ['1-aaaa']);
  }
  assert.equal(c.count(), 10);
  assert.equal(c.lastSequence, 10, 'refused writes consumed no sequence');
});

test('reserved top-level names and "__proto__" anywhere are refused alike', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  for (const key of ['_id', '_rev', '_deleted', '__proto__']) {
    refusedAlike(c, 'doc', `{${JSON.stringify(key)}:1}`, { code: 'INVALID_DOCUMENT', message: new RegExp(`"${key}" is reserved`) });
  }
  refusedAlike(c, 'doc', '{"a":[{"__proto__":{"x":1}}]}', { code: 'INVALID_DOCUMENT', message: /"__proto__" is not allowed/ });
  assert.equal(c.count({ includeDeleted: true }), 0);
  // A conflict handler cannot slip a reserved name in either.
  c.save({ id: 'h', body: { v: 1 } });
  assert.throws(
    () =>
      c.save({ id: 'h', body: { v: 2 } }, (toSave) => {
        toSave['_id'] = 'other';
        return true;
      }),
    { code: 'INVALID_DOCUMENT', message: /"_id" is reserved/ },
  );
});

test(`nesting: ${MAX_NESTING} levels are stored and read back; one more is refused alike, and 5000 levels do not overflow the stack`, async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  c.save({ id: 'local', body: JSON.parse(nestedJson(MAX_NESTING)) as JsonObject });
  c.insertRevisionWithHistory({ id: 'foreign', bodyJson: nestedJson(MAX_NESTING) }, ['1-aaaa']);
  for (const id of ['local', 'foreign']) assert.ok(JSON.stringify(c.get(id)?.body, null, 2).includes('{}'));
  const message = new RegExp(`deeper than ${MAX_NESTING} levels`);
  refusedAlike(c, 'over', nestedJson(MAX_NESTING + 1), { code: 'INVALID_DOCUMENT', message });
  refusedAlike(c, 'deep', nestedJson(5000), { code: 'INVALID_DOCUMENT', message });
  assert.throws(() => c.insertRevisionWithHistory({ id: 'arrays', bodyJson: `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}` }, ['1-aaaa']), { message });
  assert.equal(c.count(), 2);
});

test('a listener insert (onlyExtending) checks the ancestry it inserts, not a longer one it was given', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  c.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":3}' }, ['3-c', '2-b', '1-a']);
  // The current revision 3-c is not among the revisions inserted: refused, nothing changes.
  assert.throws(() => c.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":9}' }, ['9-i', '8-h', '7-g'], { onlyExtending: true }), { code: 'CONFLICT' });
  assert.equal(c.get('doc')?.revId, '3-c');
  assert.deepEqual(c.conflicts(), []);
  c.insertRevisionWithHistory({ id: 'doc', bodyJson: '{"v":5}' }, ['5-e', '4-d', '3-c'], { onlyExtending: true });
  assert.equal(c.get('doc')?.revId, '5-e');
});
