import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellView, compareValues, count, idColumn, nextSort, pageOf, sortRows } from '../../../webview/query/grid';

test('numbers sort numerically, not as text', () => {
  const rows = [{ n: 10 }, { n: 9 }, { n: 100 }, { n: -1.5 }];
  assert.deepEqual(
    sortRows(rows, { column: 'n', direction: 'asc' }).map((r) => r.n),
    [-1.5, 9, 10, 100],
  );
  assert.deepEqual(
    sortRows(rows, { column: 'n', direction: 'desc' }).map((r) => r.n),
    [100, 10, 9, -1.5],
  );
});

test('the sort is stable both ways and leaves the input alone', () => {
  const rows = [
    { k: 'b', i: 0 },
    { k: 'a', i: 1 },
    { k: 'b', i: 2 },
    { k: 'a', i: 3 },
  ];
  assert.deepEqual(
    sortRows(rows, { column: 'k', direction: 'asc' }).map((r) => r.i),
    [1, 3, 0, 2],
  );
  assert.deepEqual(
    sortRows(rows, { column: 'k', direction: 'desc' }).map((r) => r.i),
    [0, 2, 1, 3],
  );
  assert.deepEqual(
    rows.map((r) => r.i),
    [0, 1, 2, 3],
  );
  assert.deepEqual(
    sortRows(rows, undefined).map((r) => r.i),
    [0, 1, 2, 3],
  );
});

test('mixed types order missing, null, booleans, numbers, strings, arrays, objects', () => {
  // (Array.prototype.sort puts undefined last without asking the comparator.)
  const values = [{ a: 1 }, 'x', [1], 2, true, null];
  assert.deepEqual([...values].sort(compareValues), [null, true, 2, 'x', [1], { a: 1 }]);
  assert.ok(compareValues(undefined, null) < 0);
  const rows = [{ v: 'b' }, {}, { v: 3 }];
  assert.deepEqual(sortRows(rows, { column: 'v', direction: 'asc' }), [{}, { v: 3 }, { v: 'b' }]);
});

test('a header cycles ascending, descending, unsorted; another header starts ascending', () => {
  const a = nextSort(undefined, 'a');
  assert.deepEqual(a, { column: 'a', direction: 'asc' });
  const d = nextSort(a, 'a');
  assert.deepEqual(d, { column: 'a', direction: 'desc' });
  assert.equal(nextSort(d, 'a'), undefined);
  assert.deepEqual(nextSort(d, 'b'), { column: 'b', direction: 'asc' });
});

test('pages of 100: labels, the last partial page, clamping', () => {
  assert.deepEqual(pageOf(1000, 1, 100), { page: 1, pageCount: 10, start: 100, end: 200, label: 'rows 101–200 of 1,000' });
  assert.deepEqual(pageOf(250, 2, 100), { page: 2, pageCount: 3, start: 200, end: 250, label: 'rows 201–250 of 250' });
  assert.equal(pageOf(250, 9, 100).page, 2);
  assert.equal(pageOf(250, -1, 100).page, 0);
  assert.deepEqual(pageOf(0, 0, 100), { page: 0, pageCount: 1, start: 0, end: 0, label: 'no rows' });
  assert.equal(count(1234567), '1,234,567');
  assert.equal(count(999), '999');
});

test('cells: strings as they are, nested values as compact JSON, long ones cut with the whole in the title', () => {
  assert.deepEqual(cellView('hi'), { text: 'hi', kind: 'string' });
  assert.deepEqual(cellView(42), { text: '42', kind: 'number' });
  assert.deepEqual(cellView(false), { text: 'false', kind: 'boolean' });
  assert.deepEqual(cellView(null), { text: 'null', kind: 'null' });
  assert.deepEqual(cellView(undefined), { text: '', kind: 'missing' });
  assert.deepEqual(cellView({ a: [1, 2], b: 'c' }), { text: '{"a":[1,2],"b":"c"}', kind: 'json' });
  const long = cellView({ s: 'x'.repeat(100) }, 20);
  assert.equal(long.text.length, 20);
  assert.ok(long.text.endsWith('…'));
  assert.equal(long.title, JSON.stringify({ s: 'x'.repeat(100) }));
  const lines = cellView('a\nb');
  assert.deepEqual(lines, { text: 'a⏎b', title: 'a\nb', kind: 'string' });
});

test('the id column: id, else _id; only when it holds strings', () => {
  assert.equal(idColumn(['id', 'name'], [{ id: 'd1' }]), 'id');
  assert.equal(idColumn(['_id', 'name'], [{ _id: 'd1' }, {}]), '_id');
  assert.equal(idColumn(['name'], [{ name: 'x' }]), undefined);
  assert.equal(idColumn(['id'], [{ id: 7 }]), undefined);
});
