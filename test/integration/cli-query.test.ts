import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/temp-dir';

test('peersync query: CSV and JSON lines output, parameters, and a syntax error with its position', (t) => {
  const db = join(tempDir(t), 'inv');
  assert.equal(cli(['db', 'create', '--db', db]).status, 0);
  for (const [id, body] of [
    ['apples', { name: 'Apples, "red"', type: 'fruit', price: 12, tags: ['a', 'b'] }],
    ['pears', { name: 'Pears', type: 'fruit', price: 5 }],
    ['soap', { name: 'Soap', type: 'other', price: 3 }],
  ] as const) {
    const put = cli(['db', 'put', id, JSON.stringify(body), '--db', db]);
    assert.equal(put.status, 0, put.stderr);
  }

  const csv = cli(['query', 'SELECT META().id, name, tags FROM _ WHERE type = $t ORDER BY price DESC', '--param', 't="fruit"', '--format', 'csv', '--db', db]);
  assert.equal(csv.status, 0, csv.stderr);
  assert.equal(csv.stdout, 'id,name,tags\r\napples,"Apples, ""red""","[""a"",""b""]"\r\npears,Pears,\r\n');

  const jsonl = cli(['query', 'SELECT type, COUNT(*) AS n FROM _default GROUP BY type ORDER BY type', '--json', '--db', db]);
  assert.equal(jsonl.status, 0, jsonl.stderr);
  assert.deepEqual(
    jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [
      { type: 'fruit', n: 2 },
      { type: 'other', n: 1 },
    ],
  );

  const table = cli(['query', "SELECT name FROM _ WHERE name LIKE 'S%'", '--db', db]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^name\n------\n"Soap"\n\(1 row, /);

  const typo = cli(['query', 'SELECT name\nFROM _ WHER price > 1', '--db', db]);
  assert.equal(typo.status, 9);
  assert.match(typo.stderr, /at line 2, column 8 \(found "WHER"\)/);
  assert.equal(typo.stdout, '');

  const badParam = cli(['query', 'SELECT name FROM _', '--param', 'x=not json', '--db', db]);
  assert.equal(badParam.status, 2);
  assert.match(badParam.stderr, /--param x: the value is not JSON/);
});
