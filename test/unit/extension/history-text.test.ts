import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderHistory, type HistoryNode } from '../../../extension/documents/history-text';

function n(revId: string, parentRevId: string | null, f: Partial<HistoryNode> = {}): HistoryNode {
  return { revId, parentRevId, deleted: false, leaf: false, conflict: false, winner: false, hasBody: false, sequence: 1, ...f };
}

test('a conflicted tree draws both branches under their common ancestor, winner first', () => {
  const text = renderHistory('History of "x"', [
    n('1-a', null),
    n('2-b', '1-a'),
    n('3-l', '2-b', { leaf: true, conflict: true, hasBody: true, sequence: 7 }),
    n('3-w', '2-b', { leaf: true, winner: true, hasBody: true, sequence: 5 }),
  ]);
  assert.equal(
    text,
    [
      'History of "x"',
      '4 revisions, 2 leaf revisions, 1 in conflict; current: 3-w',
      '',
      '1-a  body pruned · seq 1',
      '└─ 2-b  body pruned · seq 1',
      '   ├─ 3-w  ★ current winner · seq 5',
      '   └─ 3-l  ⚠ conflict · leaf · seq 7',
      '',
    ].join('\n'),
  );
});

test('pruned roots are called out and tombstones marked', () => {
  const text = renderHistory('t', [n('5-a', '4-gone'), n('6-d', '5-a', { leaf: true, winner: true, deleted: true })]);
  assert.match(text, /older revisions before 5-a were pruned/);
  assert.match(text, /6-d {2}★ current winner · ✕ deleted · body pruned/);
});
