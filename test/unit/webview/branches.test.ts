import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepChoices, shallowMergeAll } from '../../../webview/conflict/branches';
import type { LeafView } from '../../../webview/conflict/messages';

const leaf = (revId: string, role: LeafView['role'], body: Record<string, unknown> | null, deleted = false): LeafView => ({ revId, role, body, deleted, winner: false });

test('one keep choice per branch, each peer branch named by its revision', () => {
  const leaves = [leaf('3-aaaaaaaaaa', 'local', { a: 1 }), leaf('3-bbbbbbbbbb', 'remote', { a: 2 }), leaf('4-cccccccccc', 'other', null, true)];
  assert.deepEqual(
    keepChoices({ leaves }).map((c) => [c.label, c.revId]),
    [
      ['Keep local', '3-aaaaaaaaaa'],
      ['Keep 3-bbbbbbb (from peer)', '3-bbbbbbbbbb'],
      ['Keep deletion (from peer)', '4-cccccccccc'],
    ],
  );
});

test('the shallow merge has every key of every live branch; local wins, then the first branches', () => {
  const leaves = [
    leaf('2-r', 'remote', { name: 'oat milk', qty: 1, done: true }),
    leaf('2-l', 'local', { name: 'milk', qty: 2, note: 'local' }),
    leaf('2-o', 'other', { qty: 6, shop: 'corner', done: false }),
    leaf('3-d', 'other', null, true),
  ];
  assert.deepEqual(shallowMergeAll(leaves), { name: 'milk', qty: 2, note: 'local', done: true, shop: 'corner' });
  assert.deepEqual(shallowMergeAll([leaf('1-x', 'local', null, true)]), {});
});
