import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockAt, collectionOf, dbDirective, fromName, queryBlocks } from '../../../extension/query/query-text';

test('the first line may name the database', () => {
  assert.equal(dbDirective('-- db: laptop\nSELECT 1 FROM _'), 'laptop');
  assert.equal(dbDirective('  --DB:phone  \r\nSELECT 1 FROM _'), 'phone');
  assert.equal(dbDirective('SELECT 1 FROM _\n-- db: laptop'), undefined);
  assert.equal(dbDirective('-- just a comment'), undefined);
});

test('queries are separated by semicolons and blank lines, not inside strings or comments', () => {
  const text = "-- db: a\nSELECT 'x;y' FROM _;SELECT 2 FROM _\n\n  \nSELECT a -- c;d\nFROM _ /* ;\n\n */ WHERE b = 1\n\n-- only a comment\n";
  const blocks = queryBlocks(text);
  assert.deepEqual(
    blocks.map((b) => b.text),
    ["-- db: a\nSELECT 'x;y' FROM _", 'SELECT 2 FROM _', 'SELECT a -- c;d\nFROM _ /* ;\n\n */ WHERE b = 1'],
  );
  for (const b of blocks) assert.equal(text.slice(b.start, b.end), b.text);
});

test('the query at the cursor: inside one, else the one before, else the one after', () => {
  const text = '\nSELECT 1 FROM _;\n\nSELECT 2 FROM _\n';
  const blocks = queryBlocks(text);
  assert.equal(blockAt(blocks, 0)?.text, 'SELECT 1 FROM _');
  assert.equal(blockAt(blocks, text.indexOf('1')), blocks[0]);
  assert.equal(blockAt(blocks, text.indexOf(';') + 1), blocks[0]);
  assert.equal(blockAt(blocks, text.indexOf('2')), blocks[1]);
  assert.equal(blockAt(blocks, text.length), blocks[1]);
  assert.equal(blockAt([], 0), undefined);
});

test('the collection a query reads, named as the server names it', () => {
  assert.equal(collectionOf('SELECT META().id, * FROM _ LIMIT 1'), '_default._default');
  assert.equal(collectionOf('select * from _default'), '_default._default');
  assert.equal(collectionOf('SELECT * FROM inventory.items WHERE x'), 'inventory.items');
  assert.equal(collectionOf('SELECT * FROM items'), '_default.items');
  assert.equal(collectionOf('SELECT * FROM `my scope`.`my items`'), 'my scope.my items');
  assert.equal(collectionOf('-- FROM nowhere\nSELECT * FROM _default._default'), '_default._default');
  assert.equal(collectionOf('SELECT 1'), undefined);
});

test('a collection named in FROM, and read back as the same collection', () => {
  assert.equal(fromName('_default._default'), '_');
  assert.equal(fromName('inventory.items'), 'inventory.items');
  assert.equal(fromName('my scope.odd-name'), '`my scope`.`odd-name`');
  for (const c of ['_default._default', 'inventory.items', 'my scope.odd-name']) assert.equal(collectionOf(`SELECT * FROM ${fromName(c)}`), c);
});
