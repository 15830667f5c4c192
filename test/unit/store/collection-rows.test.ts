import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeChangeRow,
  decodeCollectionRow,
  decodeCount,
  decodeDocRevRow,
  decodeDocRow,
  decodeIdRow,
  decodeListedRow,
  decodeLocalDocRow,
  decodeLocalRevRow,
  decodeRemoteRevRow,
  decodeRevisionRow,
  decodeTreeRow,
} from '../../../server/store/collection-rows';
import { F_CONFLICTED, F_DELETED } from '../../../server/store/collection-schema';
import type { DocId, RevId, Sequence } from '../../../server/store';
import { openTempDb } from '../../helpers/open-db';

const REV = '2-9f0c4b1e';

test('a document row decodes to typed values, keeping a missing tree as null', () => {
  const row = decodeDocRow([7, REV, F_CONFLICTED, '{"a":1}', null]);
  assert.deepEqual(row, { seq: 7, rev: REV, flags: F_CONFLICTED, body: '{"a":1}', tree: null });
  // The branded types are what the rest of the store relies on; these assignments only compile with them.
  const seq: Sequence = row.seq;
  const rev: RevId = row.rev;
  assert.equal(seq, 7);
  assert.equal(rev, REV);
  assert.equal(decodeDocRow([7, REV, 0, '{}', 'encoded tree']).tree, 'encoded tree');
});

test('rows with an ID decode it as a DocId, and rows without a body say so', () => {
  const tree = decodeTreeRow(['doc', 3, REV, F_DELETED, null]);
  const id: DocId = tree.id;
  assert.equal(id, 'doc');
  assert.deepEqual(tree.row, { seq: 3, rev: REV, flags: F_DELETED, body: '', tree: null });
  const listed = decodeListedRow([4, 'other', REV, 0, '{"b":2}']);
  assert.deepEqual(listed, { id: 'other', row: { seq: 4, rev: REV, flags: 0, body: '{"b":2}', tree: null } });
  assert.deepEqual(decodeDocRevRow(['doc', REV]), { docId: 'doc', revId: REV });
});

test('flags become booleans where only the deletion matters', () => {
  assert.deepEqual(decodeRevisionRow([REV, F_DELETED | F_CONFLICTED]), { revId: REV, deleted: true });
  assert.deepEqual(decodeChangeRow([9, 'doc', REV, F_CONFLICTED, 12]), { sequence: 9, docId: 'doc', revId: REV, deleted: false, bodySize: 12 });
});

test('counts, collections and what a peer has', () => {
  assert.equal(decodeCount([42]), 42);
  assert.equal(decodeCount(undefined), 0);
  assert.deepEqual(decodeCollectionRow([2, 'scope', 'name', 0]), { id: 2, scope: 'scope', name: 'name', lastSeq: 0 });
  // Recorded as the replicator gave it: not held to the shape of a revision ID made here.
  assert.deepEqual(decodeRemoteRevRow(['doc', '1-doc-1']), { doc: 'doc', rev: '1-doc-1' });
});

test('a column of the wrong type is CORRUPT, naming the column and what was found', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => decodeDocRow(['7', REV, 0, '{}', null]), /stored seq is text "7", expected a non-negative integer/],
    [() => decodeDocRow([7, REV, 1.5, '{}', null]), /stored flags is real 1.5/],
    [() => decodeDocRow([7, REV, 0, new Uint8Array(3), null]), /stored body is a blob of 3 bytes, expected text/],
    [() => decodeDocRow([7, REV, 0, '{}', 5]), /stored tree is integer 5, expected text or NULL/],
    [() => decodeDocRow([7, null, 0, '{}', null]), /stored rev is NULL, expected text/],
    [() => decodeDocRow([7, REV, 0, '{}']), /stored tree is missing/],
    [() => decodeDocRow([0, REV, 0, '{}', null]), /stored seq is integer 0, expected a sequence/],
    [() => decodeChangeRow([1, 'doc', REV, -1, 0]), /stored flags is integer -1/],
    [() => decodeCollectionRow([1, 'scope', 'name', null]), /stored last_seq is NULL/],
    [() => decodeRemoteRevRow(['doc', 3]), /stored remote_revs.rev is integer 3/],
    [() => decodeCount(['many']), /stored count is text "many"/],
  ];
  for (const [decode, message] of cases) assert.throws(decode, { name: 'StoreError', code: 'CORRUPT', message });
});

test('a stored ID that breaks the rules it was written under is CORRUPT too', () => {
  assert.throws(() => decodeDocRow([7, 'not-a-rev', 0, '{}', null]), { code: 'CORRUPT', message: /stored rev is not valid: invalid revision ID "not-a-rev"/ });
  assert.throws(() => decodeDocRevRow(['', REV]), { code: 'CORRUPT', message: /stored id is not valid: document ID must be/ });
});

test('a damaged row in a database is reported as CORRUPT when the document is read', async (t) => {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  c.save({ id: 'doc', body: { v: 1 } });
  // INTEGER affinity cannot turn this into a number, so the text is what gets stored.
  db.engine.transaction(() => db.engine.run(`UPDATE docs_${c.id} SET flags = 'x' WHERE id = ?`, ['doc']));
  assert.throws(() => c.get('doc'), { code: 'CORRUPT', message: /stored flags is text "x"/ });
  assert.throws(() => c.changesSince(0), { code: 'CORRUPT', message: /stored flags is text "x"/ });
});

test("the database's own tables: local documents and row IDs", () => {
  assert.deepEqual(decodeLocalDocRow([3, '{"c":1}']), { rev: 3, body: '{"c":1}' });
  assert.equal(decodeLocalRevRow([3]), 3);
  assert.equal(decodeIdRow([5], 'remotes.id'), 5);
  assert.throws(() => decodeLocalDocRow(['3', '{}']), { code: 'CORRUPT', message: /stored local_docs.rev is text "3"/ });
  assert.throws(() => decodeIdRow(undefined, 'next remote id'), { code: 'CORRUPT', message: /stored next remote id is missing/ });
});
