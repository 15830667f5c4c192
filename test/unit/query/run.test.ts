import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { MAX_ROW_LIMIT } from '../../../server/query/compile';
import { QueryError } from '../../../server/query/query-error';
import { runQuery } from '../../../server/query/run';
import type { Database } from '../../../server/store';
import { openTempDb } from '../../helpers/open-db';

async function fixture(t: TestContext): Promise<Database> {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  c.save({ id: 'apples', body: { name: 'Apples', type: 'list', price: 12, qty: 3, list: [{ key: 'Apples' }, { key: 'Pears' }], tags: null, shop: { city: 'Lyon', zip: ['69001'] } } });
  c.save({ id: 'bananas', body: { name: 'bananas', type: 'list', price: 5, qty: 10, list: [{ key: 'Figs' }], tags: ['yellow'] } });
  c.save({ id: 'avocado', body: { name: 'Avocado', type: 'item', price: 30, qty: 1, 'odd key': 'x', list: [] } });
  c.save({ id: 'gone', body: { name: 'Ghost', type: 'item', price: 99 } });
  c.delete('gone');
  return db;
}

function ids(db: Database, where: string, parameters: Record<string, unknown> = {}): string[] {
  return runQuery(db, `SELECT META().id FROM _ WHERE ${where} ORDER BY META().id`, parameters).rows.map((r) => r.id as string);
}

test('MISSING, NULL and VALUED are told apart on properties', async (t) => {
  const db = await fixture(t);
  assert.deepEqual(ids(db, 'tags IS NULL'), ['apples']);
  assert.deepEqual(ids(db, 'tags IS MISSING'), ['avocado']);
  assert.deepEqual(ids(db, 'tags IS NOT MISSING'), ['apples', 'bananas']);
  assert.deepEqual(ids(db, 'tags IS VALUED'), ['bananas']);
  assert.deepEqual(ids(db, 'tags IS NOT VALUED'), ['apples', 'avocado']);
  const r = runQuery(db, "SELECT tags, shop.city FROM _ WHERE META().id IN ['apples', 'avocado'] ORDER BY META().id");
  assert.deepEqual(r.rows, [{ tags: null, city: 'Lyon' }, {}], 'a missing value has no key; null is kept');
});

test('LIKE is case-sensitive with % and _; IN lists and BETWEEN', async (t) => {
  const db = await fixture(t);
  assert.deepEqual(ids(db, "name LIKE 'A%'"), ['apples', 'avocado']);
  assert.deepEqual(ids(db, "name LIKE 'a%'"), []);
  assert.deepEqual(ids(db, "name LIKE '_vocad_' OR name NOT LIKE '%s'"), ['avocado']);
  assert.deepEqual(ids(db, "type IN ['item', 'other']"), ['avocado']);
  assert.deepEqual(ids(db, 'price IN $prices', { prices: [5, 12] }), ['apples', 'bananas']);
  const many = Array.from({ length: 40_000 }, (_, i) => i);
  assert.deepEqual(ids(db, 'price IN $many AND type NOT IN $none', { many, none: [] }), ['apples', 'avocado', 'bananas'], 'one bound value, however long the array');
  assert.deepEqual(ids(db, "'yellow' IN tags"), ['bananas']);
  assert.deepEqual(ids(db, "'Lyon' IN shop OR 'Apples' IN name"), [], 'IN looks only into arrays');
  assert.deepEqual(ids(db, 'price BETWEEN 5 AND 12'), ['apples', 'bananas']);
  assert.deepEqual(ids(db, 'price NOT BETWEEN 5 AND 12'), ['avocado']);
});

test('ANY and EVERY look inside arrays, nested paths and indexes work', async (t) => {
  const db = await fixture(t);
  assert.deepEqual(ids(db, "ANY i IN list SATISFIES i.key = 'Apples' END"), ['apples']);
  assert.deepEqual(ids(db, "ANY i IN list SATISFIES i.key LIKE 'F%' OR i.key = 'Pears' END"), ['apples', 'bananas']);
  assert.deepEqual(ids(db, "EVERY i IN list SATISFIES i.key LIKE '%s' END"), ['apples', 'avocado', 'bananas'], 'an empty array satisfies EVERY');
  assert.deepEqual(ids(db, "EVERY t IN tags SATISFIES t = 'yellow' END"), ['bananas'], 'missing or null is not an array');
  assert.deepEqual(ids(db, "list[1].key = 'Pears' AND shop.zip[0] = '69001'"), ['apples']);
  assert.deepEqual(ids(db, "`odd key` = 'x'"), ['avocado']);
  db.defaultCollection.save({ id: 'flags', body: { on: true, off: false, one: 1 } });
  assert.deepEqual(ids(db, 'on = true AND off = FALSE AND true != off AND one = 1'), ['flags']);
  assert.deepEqual(ids(db, 'one = true OR $yes = one OR false = one', { yes: true }), [], 'a number is not a truth value');
  assert.deepEqual(ids(db, 'ARRAY_LENGTH(list) = 1 OR ARRAY_CONTAINS(tags, $t)', { t: 'yellow' }), ['bananas']);
});

test('select list: expressions, aliases, functions, META(), * and DISTINCT', async (t) => {
  const db = await fixture(t);
  const r = runQuery(db, "SELECT name, price * qty AS total, UPPER(type), CONTAINS(name, 'ana'), META().sequence > 0 AS seq, 7 / 2 AS half FROM _ WHERE type = 'list' ORDER BY total");
  assert.deepEqual(r.columns, ['name', 'total', '$3', '$4', 'seq', 'half']);
  assert.deepEqual(r.rows, [
    { name: 'Apples', total: 36, $3: 'LIST', $4: false, seq: true, half: 3.5 },
    { name: 'bananas', total: 50, $3: 'LIST', $4: true, seq: true, half: 3.5 },
  ]);
  const star = runQuery(db, "SELECT META().id, META().revisionID AS rev, * FROM _ WHERE META().id = 'avocado'");
  assert.deepEqual(star.columns, ['id', 'rev', '_default']);
  assert.equal(star.rows[0]?._default && (star.rows[0]._default as { price: number }).price, 30);
  assert.match(String(star.rows[0]?.rev), /^1-/);
  assert.deepEqual(runQuery(db, 'SELECT DISTINCT type FROM _ ORDER BY type').rows, [{ type: 'item' }, { type: 'list' }]);
});

test('GROUP BY with COUNT and other aggregates, HAVING, ORDER BY, LIMIT and OFFSET', async (t) => {
  const db = await fixture(t);
  const grouped = runQuery(db, 'SELECT type, COUNT(*) AS n, SUM(qty) AS qty, MAX(price) AS top, AVG(price) AS mean FROM _default GROUP BY type ORDER BY n DESC');
  assert.deepEqual(grouped.rows, [
    { type: 'list', n: 2, qty: 13, top: 12, mean: 8.5 },
    { type: 'item', n: 1, qty: 1, top: 30, mean: 30 },
  ]);
  assert.deepEqual(runQuery(db, 'SELECT type FROM _ GROUP BY type HAVING COUNT(*) > 1').rows, [{ type: 'list' }]);
  const page = (limit: number, offset: number) => runQuery(db, 'SELECT META().id FROM _ ORDER BY price DESC LIMIT $l OFFSET $o', { l: limit, o: offset });
  assert.deepEqual(page(2, 0).rows, [{ id: 'avocado' }, { id: 'apples' }]);
  assert.deepEqual(page(2, 2).rows, [{ id: 'bananas' }]);
  assert.equal(page(2, 2).truncated, false);
});

test('deleted documents are never returned; named collections resolve and unknown ones are named', async (t) => {
  const db = await fixture(t);
  assert.deepEqual(ids(db, "name = 'Ghost' OR price > 50"), []);
  assert.equal(runQuery(db, 'SELECT COUNT(*) AS n FROM _').rows[0]?.n, 3);
  const items = db.createCollection('inventory.items');
  items.save({ id: 'x', body: { n: 1 } });
  assert.deepEqual(runQuery(db, 'SELECT i.n, * FROM inventory.items AS i').rows, [{ n: 1, i: { n: 1 } }]);
  assert.deepEqual(runQuery(db, 'SELECT items.n AS a, n AS b FROM inventory.items').rows, [{ a: 1, b: 1 }], 'the collection name qualifies paths');
  assert.throws(
    () => runQuery(db, 'SELECT * FROM inventory.nope'),
    (e: unknown) => e instanceof QueryError && /no collection inventory\.nope/.test(e.message) && e.position.column === 15,
  );
});

test('the row cap bounds results and says when it cut them', async (t) => {
  const { db } = await openTempDb(t);
  db.inBatch(() => {
    for (let i = 0; i < 1_005; i++) db.defaultCollection.save({ id: `d${i}`, body: { i } });
  });
  const byDefault = runQuery(db, 'SELECT i FROM _');
  assert.deepEqual([byDefault.rows.length, byDefault.truncated], [1_000, true]);
  const asked = runQuery(db, 'SELECT i FROM _ LIMIT 1005');
  assert.deepEqual([asked.rows.length, asked.truncated], [1_005, false]);
  const over = runQuery(db, `SELECT i FROM _ LIMIT ${MAX_ROW_LIMIT * 10}`);
  assert.deepEqual([over.rows.length, over.truncated], [1_005, false]);
});

test('errors: unknown functions, misplaced aggregates, missing parameters', async (t) => {
  const db = await fixture(t);
  const fails = (q: string, pattern: RegExp, params: Record<string, unknown> = {}) =>
    assert.throws(
      () => runQuery(db, q, params),
      (e: unknown) => e instanceof QueryError && pattern.test(e.message),
    );
  fails('SELECT SOUNDEX(name) FROM _', /^unknown function SOUNDEX\(\).* at line 1, column 8 \(found "SOUNDEX"\)/);
  fails('SELECT name FROM _ WHERE COUNT(*) > 1', /COUNT\(\) cannot be used in WHERE/);
  fails('SELECT name FROM _ WHERE price = $p', /no value given for parameter \$p at line 1, column 34/);
  fails('SELECT LOWER(a, b) FROM _', /LOWER\(\) takes 1 argument, not 2/);
  db.defaultCollection.save({ id: 'huge1', body: { big: 9_000_000_000_000_000_000 } });
  db.defaultCollection.save({ id: 'huge2', body: { big: 9_000_000_000_000_000_000 } });
  fails('  SELECT SUM(big) FROM _', /^the query could not run: integer overflow at line 1, column 3 \(found "SELECT"\)$/);
  fails('SELECT name FROM _ WHERE ANY x IN list SATISFIES COUNT(*) > 1 END', /COUNT\(\) cannot be used in ANY … SATISFIES at line 1, column 50/);
  fails('SELECT name FROM _ LIMIT -1', /LIMIT must be a whole number/);
  fails('SELECT `a"b` FROM _', /cannot be queried: it contains a double quote/);
});

test('user text never becomes SQL: quotes and comment markers are plain data', async (t) => {
  const db = await fixture(t);
  db.defaultCollection.save({ id: 'evil', body: { "x')--": "'); DROP TABLE docs_1; --", name: 'Evil' } });
  const before = db.defaultCollection.count();
  assert.deepEqual(ids(db, "name = 'x''); DELETE FROM docs_1; --'"), []);
  assert.deepEqual(ids(db, "`x')--` = '''); DROP TABLE docs_1; --'"), ['evil']);
  assert.deepEqual(ids(db, "`x')--` = $v", { v: "'); DROP TABLE docs_1; --" }), ['evil']);
  assert.deepEqual(ids(db, 'name LIKE \'%\'\'%\' OR name = "a""b"'), []);
  assert.deepEqual(runQuery(db, "SELECT `x')--` AS v FROM _ WHERE META().id = 'evil'").rows, [{ v: "'); DROP TABLE docs_1; --" }]);
  assert.equal(db.defaultCollection.count(), before);
  assert.deepEqual(db.check(), []);
  assert.throws(() => db.queryRows('DELETE FROM docs_1', [], 1), /only a SELECT/);
});
