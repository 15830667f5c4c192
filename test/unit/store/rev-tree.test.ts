import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RevTree } from '../../../server/store/rev-tree';
import type { RevId, Sequence } from '../../../server/store/types';

const r = (s: string) => s as RevId;
const seq = (n: number) => n as Sequence;

function linear(n: number, prefix = 'a'): RevTree {
  const t = new RevTree();
  let parent = null;
  for (let g = 1; g <= n; g++) parent = t.addChild(r(`${g}-${prefix}${g}`), parent, `{"g":${g}}`, false, seq(g));
  return t;
}

test('a linear history has one leaf, the winner, and only the leaf keeps its body', () => {
  const t = linear(3);
  assert.deepEqual(
    t.leaves().map((n) => n.revId),
    ['3-a3'],
  );
  assert.equal(t.winner()?.revId, '3-a3');
  assert.deepEqual(
    t.nodes.map((n) => n.body !== undefined),
    [false, false, true],
  );
  assert.deepEqual(t.history('3-a3'), ['3-a3', '2-a2', '1-a1']);
  assert.equal(t.isConflicted(), false);
});

test('winner: leaf beats non-leaf, live beats deleted, higher generation then digest', () => {
  const t = linear(2);
  t.insertWithHistory([r('3-b'), r('2-a2')], '{}', false, seq(3), false);
  t.insertWithHistory([r('3-c'), r('2-a2')], '{}', false, seq(4), false);
  assert.equal(t.winner()?.revId, '3-c', 'same generation: larger digest wins');
  t.insertWithHistory([r('4-d'), r('3-b')], '{}', true, seq(5), false);
  assert.equal(t.winner()?.revId, '3-c', 'a deleted leaf loses to a live one even with a higher generation');
  assert.equal(t.isConflicted(), false, 'a closed (deleted, unflagged) branch is not a conflict');
});

test('a branch that does not extend the winner is a marked conflict and loses until resolved', () => {
  const t = linear(2);
  const res = t.insertWithHistory([r('4-z'), r('3-y'), r('2-x'), r('1-a1')], '{"remote":true}', false, seq(3), true);
  assert.deepEqual(res, { added: 3, conflict: true });
  assert.equal(t.winner()?.revId, '2-a2', 'non-conflict beats conflict despite the higher generation');
  assert.equal(t.isConflicted(), true);
  assert.deepEqual(
    t.conflictingLeaves().map((n) => n.revId),
    ['4-z'],
  );
  assert.equal(t.get('3-y')?.body, undefined, 'ancestors received only as history have no body');
  assert.equal(t.get('4-z')?.body, '{"remote":true}');
  t.acceptBranch(t.get('4-z')!);
  assert.equal(t.winner()?.revId, '4-z');
});

test('extending the winner is not a conflict; re-inserting a known revision adds nothing', () => {
  const t = linear(2);
  assert.deepEqual(t.insertWithHistory([r('3-q'), r('2-a2'), r('1-a1')], '{}', false, seq(3), true), { added: 1, conflict: false });
  assert.deepEqual(t.insertWithHistory([r('3-q'), r('2-a2')], '{}', false, seq(4), true), { added: 0, conflict: false });
  assert.equal(t.get('2-a2')?.body, undefined, 'the parent body is dropped once it is no longer a leaf');
});

test('a history with no common ancestor starts a second root and conflicts', () => {
  const t = linear(1);
  const res = t.insertWithHistory([r('2-m'), r('1-n')], '{}', false, seq(2), true);
  assert.equal(res.conflict, true);
  assert.equal(t.nodes.filter((n) => n.parent === -1).length, 2);
});

test('histories that are not consecutive generations are rejected', () => {
  const t = new RevTree();
  assert.throws(() => t.insertWithHistory([r('3-a'), r('1-b')], '{}', false, seq(1), true), { code: 'INVALID_HISTORY' });
  assert.throws(() => t.insertWithHistory([], '{}', false, seq(1), true), { code: 'INVALID_HISTORY' });
  assert.throws(() => t.insertWithHistory([r('x')], '{}', false, seq(1), true), { code: 'INVALID_REV_ID' });
});

test('pruning keeps the newest maxDepth revisions of a branch', () => {
  const t = linear(60);
  assert.equal(t.prune(50), 10);
  assert.equal(t.size, 50);
  assert.deepEqual(t.history('60-a60').at(-1), '11-a11');
  assert.equal(t.nodes.filter((n) => n.parent === -1).length, 1, 'the oldest kept revision becomes the root');
  assert.equal(t.winner()?.revId, '60-a60');
  assert.equal(t.prune(50), 0);
});

test('pruning keeps a revision that is within maxDepth of any leaf', () => {
  const t = linear(60);
  t.insertWithHistory([r('56-side'), r('55-a55')], '{}', false, seq(61), true);
  assert.equal(t.prune(50), 6);
  assert.equal(t.history('56-side').length, 50, 'the short side branch keeps 50 revisions');
  assert.equal(t.history('60-a60').length, 54, 'so the shared main line is kept further back');
  assert.equal(t.winner()?.revId, '60-a60');
});

test('encode/decode round-trips, leaving out the body kept elsewhere', () => {
  const t = linear(3);
  t.insertWithHistory([r('3-zz'), r('2-a2')], '{"c":1}', false, seq(9), true);
  const w = t.winner()!;
  const back = RevTree.decode(t.encode(w));
  assert.equal(back.get(w.revId)?.body, undefined);
  assert.equal(back.get('3-zz')?.body, '{"c":1}');
  assert.deepEqual(
    back.describe().map((d) => [d.revId, d.parentRevId, d.conflict, d.leaf]),
    t.describe().map((d) => [d.revId, d.parentRevId, d.conflict, d.leaf]),
  );
});

test('possible ancestors are lower-generation revisions, leaves first', () => {
  const t = linear(3);
  assert.deepEqual(t.possibleAncestors(r('3-new')), ['2-a2', '1-a1']);
  assert.deepEqual(t.possibleAncestors(r('9-new'), 2), ['3-a3', '2-a2']);
});
