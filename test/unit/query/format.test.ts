import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from '../../../server/cli/result-table';
import { csvField, formatResults, toCsv, toJsonArray, toJsonLines } from '../../../server/query/format-results';

const result = {
  columns: ['id', 'name', 'tags', 'price'],
  rows: [
    { id: 'a', name: 'plain', tags: ['x', 'y'], price: 1.5 },
    { id: 'b', name: 'comma, "quoted"\nand a line', tags: null },
    { id: 'c', price: 0 },
  ],
};

test('CSV: a header, CRLF lines, RFC 4180 quoting, nested values as JSON, missing and null empty', () => {
  assert.equal(toCsv(result), ['id,name,tags,price', 'a,plain,"[""x"",""y""]",1.5', 'b,"comma, ""quoted""\nand a line",,', 'c,,,0', ''].join('\r\n'));
  assert.equal(csvField('no quoting needed'), 'no quoting needed');
  assert.equal(csvField('cr\ronly'), '"cr\ronly"');
  assert.equal(toCsv({ columns: ['a,b'], rows: [] }), '"a,b"\r\n');
  assert.equal(toCsv({ columns: ['o'], rows: [{ o: { k: 'v' } }, { o: true }] }), 'o\r\n"{""k"":""v""}"\r\ntrue\r\n');
});

test('JSON lines: one compact object per line; JSON: one array', () => {
  assert.equal(toJsonLines(result.rows), `${JSON.stringify(result.rows[0])}\n${JSON.stringify(result.rows[1])}\n{"id":"c","price":0}\n`);
  assert.equal(toJsonLines([]), '');
  assert.deepEqual(JSON.parse(toJsonArray(result.rows)), result.rows);
  assert.equal(toJsonArray([]), '[]\n');
  assert.equal(formatResults('jsonl', result), toJsonLines(result.rows));
  assert.equal(formatResults('json', result), toJsonArray(result.rows));
  assert.equal(formatResults('csv', result), toCsv(result));
});

test('table: aligned columns of compact JSON, blank where a value is missing, long values cut', () => {
  const table = formatTable(['id', 'v'], [{ id: 'a', v: [1, { k: 'x' }] }, { id: 'bb' }, { id: 'c', v: 'x'.repeat(100) }]);
  const lines = table.split('\n');
  assert.deepEqual(lines.slice(0, 4), ['id    v', '----  ------------------------------------------------------------', '"a"   [1,{"k":"x"}]', '"bb"']);
  assert.equal(lines[4]?.length, 6 + 60);
  assert.ok(lines[4]?.endsWith('…'));
});
