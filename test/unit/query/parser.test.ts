import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Expr } from '../../../server/query/ast';
import { tokenize } from '../../../server/query/lexer';
import { parseQuery } from '../../../server/query/parser';
import { QueryError } from '../../../server/query/query-error';

/** An expression as compact S-expression text, so tree shapes read at a glance. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      return JSON.stringify(e.value);
    case 'param':
      return `$${e.name}`;
    case 'array':
      return `[${e.items.map(show).join(' ')}]`;
    case 'path':
      return e.steps.map((s) => ('key' in s ? `.${s.key}` : `[${s.index}]`)).join('');
    case 'meta':
      return `meta.${e.field}`;
    case 'not':
      return `(not ${show(e.operand)})`;
    case 'negate':
      return `(- ${show(e.operand)})`;
    case 'binary':
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'is':
      return `(is${e.negated ? '-not' : ''} ${e.test} ${show(e.operand)})`;
    case 'like':
      return `(${e.negated ? 'not-' : ''}like ${show(e.operand)} ${show(e.pattern)})`;
    case 'in':
      return `(${e.negated ? 'not-' : ''}in ${show(e.operand)} ${show(e.list)})`;
    case 'between':
      return `(${e.negated ? 'not-' : ''}between ${show(e.operand)} ${show(e.low)} ${show(e.high)})`;
    case 'call':
      return `${e.name}(${e.star ? '*' : `${e.distinct ? 'distinct ' : ''}${e.args.map(show).join(' ')}`})`;
    case 'quantified':
      return `(${e.quantifier} ${e.variable} ${show(e.source)} ${show(e.condition)})`;
  }
}

function where(condition: string): string {
  const s = parseQuery(`SELECT * FROM _ WHERE ${condition}`);
  assert.ok(s.where);
  return show(s.where);
}

function failure(query: string): QueryError {
  try {
    parseQuery(query);
  } catch (e) {
    assert.ok(e instanceof QueryError, String(e));
    return e;
  }
  assert.fail(`expected ${query} to fail`);
}

test('operators bind by precedence: OR < AND < NOT < comparison < || < + - < * / %', () => {
  assert.equal(where('a OR b AND c'), '(OR .a (AND .b .c))');
  assert.equal(where('NOT a = 1 AND b'), '(AND (not (= .a 1)) .b)');
  assert.equal(where('a + b * c - d'), '(- (+ .a (* .b .c)) .d)');
  assert.equal(where('(a + b) * c'), '(* (+ .a .b) .c)');
  assert.equal(where("a || 'x' = b"), '(= (|| .a "x") .b)');
  assert.equal(where('-a.b * 2 >= -3'), '(>= (* (- .a.b) 2) -3)');
  assert.equal(where('a == 1 OR a <> 2 OR a != 3'), '(OR (OR (= .a 1) (!= .a 2)) (!= .a 3))');
  assert.equal(where('x - y - z'), '(- (- .x .y) .z)', 'left-associative');
});

test('IS, LIKE, IN, BETWEEN (and their NOT forms) sit at comparison level', () => {
  assert.equal(where('a IS NOT MISSING AND b IS NULL OR c IS VALUED'), '(OR (AND (is-not MISSING .a) (is NULL .b)) (is VALUED .c))');
  assert.equal(where("name NOT LIKE 'A%'"), '(not-like .name "A%")');
  assert.equal(where("t IN ['a', $b] AND u NOT IN list"), '(AND (in .t ["a" $b]) (not-in .u .list))');
  assert.equal(where('p BETWEEN 1 AND 2 + 3 AND q'), '(AND (between .p 1 (+ 2 3)) .q)');
  assert.equal(where('p NOT BETWEEN $lo AND $hi'), '(not-between .p $lo $hi)');
});

test('paths, back-quoted names, META(), literals and calls', () => {
  assert.equal(where('a.b[0].c = `odd key`.`select`'), '(= .a.b[0].c .odd key.select)');
  assert.equal(where('META().id = "x" AND meta(d).sequence > 2'), '(AND (= meta.id "x") (> meta.sequence 2))');
  assert.equal(where('flag = TRUE OR flag = false OR v = null'), '(OR (OR (= .flag true) (= .flag false)) (= .v null))');
  assert.equal(where("x = 'it''s'"), '(= .x "it\'s")');
  assert.equal(where('1.5e2 = 150 AND .5 < 1'), '(AND (= 150 150) (< 0.5 1))');
  assert.equal(where('lower(name) = upper(COUNT(DISTINCT x))'), '(= LOWER(.name) UPPER(COUNT(distinct .x)))');
  assert.equal(where('ANY i IN list SATISFIES i.key = $k END'), '(ANY i .list (= .i.key $k))');
  assert.equal(where('EVERY x IN a SATISFIES ANY y IN x.b SATISFIES y > 1 END END'), '(EVERY x .a (ANY y .x.b (> .y 1)))');
});

test('every clause is read, keywords in any case', () => {
  const s = parseQuery(
    'select distinct name, price * qty as total, meta().id from inventory.items as i where type = $t group by name, total having count(*) > 1 order by total desc, name asc limit 20 offset $o;',
  );
  assert.equal(s.distinct, true);
  assert.deepEqual(
    s.items.map((i) => (i.kind === 'star' ? '*' : `${show(i.expr)}${i.alias ? ` as ${i.alias}` : ''}`)),
    ['.name', '(* .price .qty) as total', 'meta.id'],
  );
  assert.deepEqual({ scope: s.from.scope, name: s.from.name, alias: s.from.alias }, { scope: 'inventory', name: 'items', alias: 'i' });
  assert.equal(s.where && show(s.where), '(= .type $t)');
  assert.deepEqual(s.groupBy.map(show), ['.name', '.total']);
  assert.equal(s.having && show(s.having), '(> COUNT(*) 1)');
  assert.deepEqual(
    s.orderBy.map((o) => [show(o.expr), o.descending]),
    [
      ['.total', true],
      ['.name', false],
    ],
  );
  assert.equal(s.limit && show(s.limit), '20');
  assert.equal(s.offset && show(s.offset), '$o');
  const star = parseQuery('SELECT * FROM _');
  assert.deepEqual([star.items[0]?.kind, star.from.scope, star.from.name, star.where], ['star', undefined, '_', undefined]);
});

test('tokens carry line, column and offset; comments are skipped', () => {
  const tokens = tokenize("SELECT a -- note\n  FROM /* x\n y */ `b c` WHERE s = 'x'");
  const from = tokens.find((t) => t.value === 'FROM');
  assert.deepEqual(from?.pos, { line: 2, column: 3, offset: 19, length: 4 });
  const quoted = tokens.find((t) => t.kind === 'quotedIdent');
  assert.deepEqual([quoted?.value, quoted?.pos.line, quoted?.pos.column], ['b c', 3, 7]);
  assert.equal(tokens.at(-1)?.kind, 'eof');
});

test('typos are reported with their position and the token found', () => {
  const wher = failure('SELECT name FROM _ WHER type = 1');
  assert.deepEqual([wher.position.line, wher.position.column, wher.found], [1, 20, 'WHER']);
  assert.match(wher.message, /^expected WHERE, GROUP BY, .* at line 1, column 20 \(found "WHER"\)$/);

  const from = failure('SELECT name, price\nFORM _');
  assert.equal(from.message, 'expected FROM after the select list at line 2, column 1 (found "FORM")');

  const unclosed = failure('SELECT * FROM _ WHERE (a = 1');
  assert.match(unclosed.message, /^expected \) to close the parenthesis at line 1, column 29 \(found the end of the query\)$/);

  const is = failure('SELECT * FROM _ WHERE a IS EMPTY');
  assert.deepEqual([is.position.column, is.found], [28, 'EMPTY']);

  const keyword = failure('SELECT * FROM _ WHERE select = 1');
  assert.match(keyword.message, /SELECT is a keyword: back-quote it/);

  const string = failure("SELECT * FROM _ WHERE a = 'abc");
  assert.match(string.message, /^unterminated string at line 1, column 27/);

  const any = failure('SELECT * FROM _ WHERE ANY x IN list SATISFIES x = 1');
  assert.match(any.message, /^expected END to close ANY/);

  const char = failure('SELECT * FROM _ WHERE a = #');
  assert.deepEqual([char.position.offset, char.found], [26, '#']);
});

test('absurdly deep nesting is refused before any stack overflows', () => {
  const deep = failure(`SELECT * FROM _ WHERE ${'('.repeat(5_000)}1${')'.repeat(5_000)}`);
  assert.match(deep.message, /^expression nested more than 100 levels deep/);
  assert.match(failure(`SELECT ${'- '.repeat(100_000)}1 FROM _`).message, /^expression nested more than 100 levels deep/);
  assert.doesNotThrow(() => parseQuery(`SELECT * FROM _ WHERE ${'('.repeat(40)}1${')'.repeat(40)} = ${'NOT '.repeat(40)}a`));
});
