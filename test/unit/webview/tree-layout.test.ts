import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generationOf, layoutRevisionTree, type RevisionInput } from '../../../webview/conflict/tree-layout';

function rev(revId: string, parentRevId: string | null, flags: Partial<RevisionInput> = {}): RevisionInput {
  return { revId, parentRevId, deleted: false, leaf: false, conflict: false, winner: false, hasBody: false, ...flags };
}

test('generation comes from the revision ID prefix', () => {
  assert.equal(generationOf('12-abc'), 12);
  assert.equal(generationOf('bogus'), 0);
});

test('a linear history is one column, one row per generation, oldest first', () => {
  const l = layoutRevisionTree([rev('3-c', '2-b', { leaf: true, winner: true, hasBody: true }), rev('1-a', null), rev('2-b', '1-a')]);
  assert.equal(l.columns, 1);
  assert.equal(l.rows, 3);
  assert.deepEqual(
    l.nodes.map((n) => [n.revId, n.row, n.column]),
    [
      ['1-a', 0, 0],
      ['2-b', 1, 0],
      ['3-c', 2, 0],
    ],
  );
  assert.deepEqual(new Set(l.edges.map((e) => `${e.from}>${e.to}`)), new Set(['3-c>2-b', '2-b>1-a']));
});

test('the winning branch takes column 0 even when the other branch is longer', () => {
  const l = layoutRevisionTree([
    rev('1-a', null),
    rev('2-w', '1-a', { leaf: true, winner: true }),
    rev('2-x', '1-a'),
    rev('3-x', '2-x', { leaf: true, conflict: true }),
    rev('2-t', '1-a', { leaf: true, deleted: true }),
  ]);
  const at = Object.fromEntries(l.nodes.map((n) => [n.revId, [n.row, n.column]]));
  assert.deepEqual(at['2-w'], [1, 0]);
  assert.deepEqual(at['1-a'], [0, 0]); // shared ancestor stays on the winner's column
  assert.deepEqual(at['3-x'], [2, 1]);
  assert.deepEqual(at['2-x'], [1, 1]);
  assert.deepEqual(at['2-t'], [1, 2]); // tombstoned branches go last
  assert.equal(l.columns, 3);
});

test('pruned ancestors: no edge to a missing parent, and rows skip absent generations', () => {
  const l = layoutRevisionTree([rev('7-a', '6-gone'), rev('9-b', '7-a', { leaf: true, winner: true })]);
  assert.equal(l.rows, 2);
  assert.deepEqual(l.edges, [{ from: '9-b', to: '7-a' }]);
});

test('every node gets a column even without leaves', () => {
  const l = layoutRevisionTree([rev('1-a', null), rev('2-b', '1-a')]);
  assert.ok(l.nodes.every((n) => Number.isInteger(n.column)));
  assert.equal(l.columns, 1);
});
