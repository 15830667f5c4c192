import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalLines, changedLinesOf, diffLines, sideBySide, type DiffLine } from '../../../webview/conflict/json-diff';

/** Applying the script to `a` must give `b`, and the equal lines must match on both sides. */
function check(a: string[], b: string[], script: DiffLine[]): void {
  assert.deepEqual(
    script.filter((l) => l.op !== 'added').map((l) => l.text),
    a,
  );
  assert.deepEqual(
    script.filter((l) => l.op !== 'removed').map((l) => l.text),
    b,
  );
  for (const l of script) {
    if (l.op !== 'added') assert.equal(a[l.left! - 1], l.text);
    if (l.op !== 'removed') assert.equal(b[l.right! - 1], l.text);
  }
}

test('identical texts are all equal lines', () => {
  const a = ['{', '  "a": 1', '}'];
  const d = diffLines(a, a);
  assert.deepEqual(
    d.map((l) => l.op),
    ['equal', 'equal', 'equal'],
  );
  check(a, a, d);
});

test('a changed value is one removed and one added line', () => {
  const a = canonicalLines({ name: 'milk', qty: 1, done: false });
  const b = canonicalLines({ name: 'milk', qty: 2, done: false });
  const d = diffLines(a, b);
  check(a, b, d);
  assert.deepEqual(
    d.filter((l) => l.op !== 'equal').map((l) => `${l.op} ${l.text.trim()}`),
    ['removed "qty": 1', 'added "qty": 2'],
  );
});

test('the script is minimal for insertions and deletions in the middle', () => {
  const a = ['a', 'b', 'c', 'd', 'e', 'f'];
  const b = ['a', 'x', 'c', 'd', 'f', 'g'];
  const d = diffLines(a, b);
  check(a, b, d);
  assert.equal(d.filter((l) => l.op !== 'equal').length, 4); // -b +x -e +g
  assert.equal(d.filter((l) => l.op === 'equal').length, 4); // a c d f
});

test('empty sides', () => {
  check([], ['a', 'b'], diffLines([], ['a', 'b']));
  check(['a', 'b'], [], diffLines(['a', 'b'], []));
  assert.deepEqual(diffLines([], []), []);
});

test('random edits always give a valid script with an LCS-sized equal part', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const lcs = (a: string[], b: string[]): number => {
    const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
    return t[a.length]![b.length]!;
  };
  for (let round = 0; round < 200; round++) {
    const a = Array.from({ length: rnd(15) }, () => 'abcde'[rnd(5)]!);
    const b = Array.from({ length: rnd(15) }, () => 'abcde'[rnd(5)]!);
    const d = diffLines(a, b);
    check(a, b, d);
    assert.equal(d.filter((l) => l.op === 'equal').length, lcs(a, b), `${a.join('')} → ${b.join('')}`);
  }
});

test('canonical lines sort keys so key order is not a difference', () => {
  assert.deepEqual(canonicalLines({ b: 1, a: { d: 2, c: [{ z: 1, y: 2 }] } }), canonicalLines({ a: { c: [{ y: 2, z: 1 }], d: 2 }, b: 1 }));
  assert.deepEqual(canonicalLines(null), ['null']);
});

test('side by side pairs a modification on one row and pads insertions', () => {
  const rows = sideBySide(diffLines(['{', '  "a": 1', '}'], ['{', '  "a": 2', '  "b": 3', '}']));
  assert.deepEqual(
    rows.map((r) => [r.left?.text ?? null, r.right?.text ?? null, r.left?.changed ?? r.right?.changed]),
    [
      ['{', '{', false],
      ['  "a": 1', '  "a": 2', true],
      [null, '  "b": 3', true],
      ['}', '}', false],
    ],
  );
});

test('changed lines of one column against a reference', () => {
  assert.deepEqual([...changedLinesOf(['a', 'b', 'c'], ['a', 'B', 'c', 'd'])], [2, 4]);
});
