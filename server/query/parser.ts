import type { BinaryOp, Expr, MetaField, OrderTerm, PathStep, SelectItem, SelectStatement } from './ast';
import { tokenize, type Token } from './lexer';
import { QueryError } from './query-error';

/** Words that are never property names unless back-quoted. */
const RESERVED = new Set(
  'SELECT DISTINCT ALL FROM AS WHERE GROUP BY HAVING ORDER ASC DESC LIMIT OFFSET AND OR NOT IS NULL MISSING VALUED LIKE IN BETWEEN ANY EVERY SATISFIES END TRUE FALSE META'.split(' '),
);

/** Binding strength of binary operators; NOT (prefix) sits between AND and the comparisons. */
const PREC = { OR: 1, AND: 2, NOT: 3, COMPARE: 4, CONCAT: 5, ADD: 6, MUL: 7 } as const;

const BINARY = new Map<string, { op: BinaryOp; prec: number }>(
  Object.entries({
    OR: { op: 'OR', prec: PREC.OR },
    AND: { op: 'AND', prec: PREC.AND },
    '=': { op: '=', prec: PREC.COMPARE },
    '==': { op: '=', prec: PREC.COMPARE },
    '!=': { op: '!=', prec: PREC.COMPARE },
    '<>': { op: '!=', prec: PREC.COMPARE },
    '<': { op: '<', prec: PREC.COMPARE },
    '<=': { op: '<=', prec: PREC.COMPARE },
    '>': { op: '>', prec: PREC.COMPARE },
    '>=': { op: '>=', prec: PREC.COMPARE },
    '||': { op: '||', prec: PREC.CONCAT },
    '+': { op: '+', prec: PREC.ADD },
    '-': { op: '-', prec: PREC.ADD },
    '*': { op: '*', prec: PREC.MUL },
    '/': { op: '/', prec: PREC.MUL },
    '%': { op: '%', prec: PREC.MUL },
  }),
);

/** Deepest expression nesting accepted (SQLite refuses expressions deeper than 1,000). */
const MAX_NESTING = 100;

const META_FIELDS: readonly MetaField[] = ['id', 'revisionID', 'sequence', 'deleted'];

/** Parses one SELECT statement (SQL++ for Mobile subset); throws QueryError with the position of the first problem. */
export function parseQuery(source: string): SelectStatement {
  return new Parser(tokenize(source)).statement();
}

/** A condition alone (what follows WHERE), e.g. a filter typed into a view; nothing may follow it. */
export function parseCondition(source: string): Expr {
  return new Parser(tokenize(source)).condition();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  condition(): Expr {
    const expr = this.expr();
    if (this.peek().kind !== 'eof') throw this.error('a filter is one condition, e.g. type = "list" AND qty > 2');
    return expr;
  }

  statement(): SelectStatement {
    this.expectKeyword('SELECT', 'a query starts with SELECT');
    const distinct = this.acceptKeyword('DISTINCT');
    if (!distinct) this.acceptKeyword('ALL');
    const items = this.selectList();
    this.expectKeyword('FROM', 'expected FROM after the select list');
    const from = this.fromClause();
    const where = this.acceptKeyword('WHERE') ? this.expr() : undefined;
    let groupBy: Expr[] = [];
    if (this.acceptKeyword('GROUP')) {
      this.expectKeyword('BY', 'expected BY after GROUP');
      groupBy = this.commaList(() => this.expr());
    }
    const having = this.acceptKeyword('HAVING') ? this.expr() : undefined;
    let orderBy: OrderTerm[] = [];
    if (this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY', 'expected BY after ORDER');
      orderBy = this.commaList(() => this.orderTerm());
    }
    const limit = this.acceptKeyword('LIMIT') ? this.expr() : undefined;
    const offset = this.acceptKeyword('OFFSET') ? this.expr() : undefined;
    const statement: SelectStatement = { distinct, items, from, where, groupBy, having, orderBy, limit, offset };
    this.acceptOp(';');
    if (this.peek().kind !== 'eof') throw this.error(expectedAfter(statement));
    return statement;
  }

  private selectList(): SelectItem[] {
    return this.commaList((): SelectItem => {
      const t = this.peek();
      if (this.acceptOp('*')) return { kind: 'star', pos: t.pos };
      const expr = this.expr();
      const alias = this.acceptKeyword('AS') ? this.identifier('expected a column name after AS') : undefined;
      return { kind: 'expr', expr, alias, pos: t.pos };
    });
  }

  private fromClause(): SelectStatement['from'] {
    const pos = this.peek().pos;
    const first = this.identifier('expected a collection name after FROM');
    let scope: string | undefined;
    let name = first;
    if (this.acceptOp('.')) {
      scope = first;
      name = this.identifier('expected a collection name after the scope');
    }
    const alias = this.acceptKeyword('AS') ? this.identifier('expected an alias after AS') : undefined;
    return { scope, name, alias, pos };
  }

  private orderTerm(): OrderTerm {
    const expr = this.expr();
    if (this.acceptKeyword('DESC')) return { expr, descending: true };
    this.acceptKeyword('ASC');
    return { expr, descending: false };
  }

  // ---- expressions: precedence climbing ----

  expr(minPrec = 1): Expr {
    return this.nested(() => this.binaryFrom(minPrec));
  }

  /** Each level recurses (and nests the SQL it compiles to): refuse before either stack runs out. */
  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_NESTING) throw this.error(`expression nested more than ${MAX_NESTING} levels deep`);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private binaryFrom(minPrec: number): Expr {
    let left = this.unary(minPrec);
    for (;;) {
      const t = this.peek();
      if (PREC.COMPARE >= minPrec && this.isComparisonKeyword(t)) {
        left = this.comparisonKeyword(left);
        continue;
      }
      const b = t.kind === 'op' || t.kind === 'ident' ? BINARY.get(t.kind === 'ident' ? t.value.toUpperCase() : t.value) : undefined;
      if (!b || b.prec < minPrec) return left;
      this.i++;
      // Left-associative: the right side binds only tighter operators.
      const right = this.expr(b.prec + 1);
      left = { kind: 'binary', op: b.op, left, right, pos: left.pos };
    }
  }

  private unary(minPrec: number): Expr {
    const t = this.peek();
    if (this.acceptKeyword('NOT')) return { kind: 'not', operand: this.expr(Math.max(minPrec, PREC.NOT)), pos: t.pos };
    if (this.acceptOp('-')) {
      const operand = this.nested(() => this.unary(PREC.MUL + 1));
      if (operand.kind === 'literal' && typeof operand.value === 'number') return { ...operand, value: -operand.value, pos: t.pos };
      return { kind: 'negate', operand, pos: t.pos };
    }
    if (this.acceptOp('+')) return this.nested(() => this.unary(PREC.MUL + 1));
    return this.primary();
  }

  private isComparisonKeyword(t: Token): boolean {
    if (t.kind !== 'ident') return false;
    const w = t.value.toUpperCase();
    if (w === 'IS' || w === 'LIKE' || w === 'IN' || w === 'BETWEEN') return true;
    const next = this.peek(1);
    return w === 'NOT' && next.kind === 'ident' && ['LIKE', 'IN', 'BETWEEN'].includes(next.value.toUpperCase());
  }

  /** `IS [NOT] NULL|MISSING|VALUED`, `[NOT] LIKE`, `[NOT] IN`, `[NOT] BETWEEN … AND …`. */
  private comparisonKeyword(operand: Expr): Expr {
    const pos = operand.pos;
    if (this.acceptKeyword('IS')) {
      const negated = this.acceptKeyword('NOT');
      const t = this.peek();
      const w = t.kind === 'ident' ? t.value.toUpperCase() : '';
      if (w !== 'NULL' && w !== 'MISSING' && w !== 'VALUED') throw this.error(`expected NULL, MISSING or VALUED after IS${negated ? ' NOT' : ''}`);
      this.i++;
      return { kind: 'is', operand, test: w, negated, pos };
    }
    const negated = this.acceptKeyword('NOT');
    const next = (): Expr => this.expr(PREC.COMPARE + 1);
    if (this.acceptKeyword('LIKE')) return { kind: 'like', operand, pattern: next(), negated, pos };
    if (this.acceptKeyword('IN')) return { kind: 'in', operand, list: next(), negated, pos };
    this.expectKeyword('BETWEEN', 'expected LIKE, IN or BETWEEN after NOT');
    const low = next();
    this.expectKeyword('AND', 'expected AND between the bounds of BETWEEN');
    return { kind: 'between', operand, low, high: next(), negated, pos };
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.i++;
        return { kind: 'literal', value: Number(t.value), pos: t.pos };
      case 'string':
        this.i++;
        return { kind: 'literal', value: t.value, pos: t.pos };
      case 'param':
        this.i++;
        return { kind: 'param', name: t.value, pos: t.pos };
      case 'quotedIdent':
        return this.path();
      case 'op':
        if (this.acceptOp('(')) {
          const inner = this.expr();
          this.expectOp(')', 'expected ) to close the parenthesis');
          return inner;
        }
        if (this.acceptOp('[')) {
          const items = this.peek().value === ']' && this.peek().kind === 'op' ? [] : this.commaList(() => this.expr());
          this.expectOp(']', 'expected , or ] in the array');
          return { kind: 'array', items, pos: t.pos };
        }
        break;
      case 'ident':
        return this.identifierExpr(t);
      case 'eof':
        break;
    }
    throw this.error('expected an expression');
  }

  private identifierExpr(t: Token): Expr {
    const w = t.value.toUpperCase();
    if (w === 'TRUE' || w === 'FALSE' || w === 'NULL') {
      this.i++;
      return { kind: 'literal', value: w === 'NULL' ? null : w === 'TRUE', pos: t.pos };
    }
    if (w === 'ANY' || w === 'EVERY') return this.quantified(w);
    if (w === 'META') return this.meta();
    if (this.peek(1).kind === 'op' && this.peek(1).value === '(' && !RESERVED.has(w)) return this.call();
    return this.path();
  }

  /** `ANY|EVERY var IN source SATISFIES condition END` */
  private quantified(quantifier: 'ANY' | 'EVERY'): Expr {
    const pos = this.next().pos;
    const variable = this.identifier(`expected a variable name after ${quantifier}`);
    this.expectKeyword('IN', `expected IN after ${quantifier} ${variable}`);
    const source = this.expr(PREC.COMPARE + 1);
    this.expectKeyword('SATISFIES', 'expected SATISFIES after the array');
    const condition = this.expr();
    this.expectKeyword('END', `expected END to close ${quantifier}`);
    return { kind: 'quantified', quantifier, variable, source, condition, pos };
  }

  /** `META()` or `META(alias)` followed by `.id`, `.revisionID`, `.sequence` or `.deleted`. */
  private meta(): Expr {
    const pos = this.next().pos;
    this.expectOp('(', 'expected ( after META');
    if (!this.acceptOp(')')) {
      this.identifier('expected ) or a collection alias in META()');
      this.expectOp(')', 'expected ) after the alias in META(');
    }
    this.expectOp('.', `expected .${META_FIELDS.join(', .')} after META()`);
    const t = this.peek();
    const field = META_FIELDS.find((f) => t.kind === 'ident' && f.toLowerCase() === t.value.toLowerCase());
    if (!field) throw this.error(`expected one of ${META_FIELDS.join(', ')} after META().`);
    this.i++;
    return { kind: 'meta', field, pos };
  }

  private call(): Expr {
    const t = this.next();
    this.i++; // (
    const name = t.value.toUpperCase();
    if (this.acceptOp('*')) {
      this.expectOp(')', `expected ) after ${name}(*`);
      return { kind: 'call', name, args: [], star: true, distinct: false, pos: t.pos };
    }
    const distinct = this.acceptKeyword('DISTINCT');
    const args = this.peek().kind === 'op' && this.peek().value === ')' ? [] : this.commaList(() => this.expr());
    this.expectOp(')', `expected , or ) in the arguments of ${name}`);
    return { kind: 'call', name, args, star: false, distinct, pos: t.pos };
  }

  /** `name`, `` `odd name` ``, then any of `.key` and `[index]`. */
  private path(): Expr {
    const pos = this.peek().pos;
    const steps: PathStep[] = [{ key: this.identifier('expected a property name') }];
    for (;;) {
      if (this.acceptOp('.')) {
        steps.push({ key: this.identifier('expected a property name after .') });
      } else if (this.acceptOp('[')) {
        const t = this.peek();
        if (t.kind !== 'number' || !/^[0-9]+$/.test(t.value)) throw this.error('expected an array index (a whole number) after [');
        this.i++;
        steps.push({ index: Number(t.value) });
        this.expectOp(']', 'expected ] after the array index');
      } else {
        return { kind: 'path', steps, pos };
      }
    }
  }

  // ---- tokens ----

  private identifier(problem: string): string {
    const t = this.peek();
    if (t.kind === 'quotedIdent' || (t.kind === 'ident' && !RESERVED.has(t.value.toUpperCase()))) {
      this.i++;
      return t.value;
    }
    throw this.error(t.kind === 'ident' ? `${problem} (${t.value.toUpperCase()} is a keyword: back-quote it to use it as a name)` : problem);
  }

  private commaList<T>(item: () => T): T[] {
    const items = [item()];
    while (this.acceptOp(',')) items.push(item());
    return items;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }

  private acceptKeyword(word: string): boolean {
    const t = this.peek();
    if (t.kind !== 'ident' || t.value.toUpperCase() !== word) return false;
    this.i++;
    return true;
  }

  private expectKeyword(word: string, problem: string): void {
    if (!this.acceptKeyword(word)) throw this.error(problem);
  }

  private acceptOp(op: string): boolean {
    const t = this.peek();
    if (t.kind !== 'op' || t.value !== op) return false;
    this.i++;
    return true;
  }

  private expectOp(op: string, problem: string): void {
    if (!this.acceptOp(op)) throw this.error(problem);
  }

  private error(problem: string): QueryError {
    const t = this.peek();
    return new QueryError(problem, t.pos, t.text);
  }
}

/** The clauses that could still follow where a statement stopped, so the message suggests the next one. */
function expectedAfter(s: SelectStatement): string {
  const next: string[] = [];
  if (s.where === undefined && s.groupBy.length === 0 && s.orderBy.length === 0 && s.limit === undefined) next.push('WHERE');
  if (s.groupBy.length === 0 && s.orderBy.length === 0 && s.limit === undefined) next.push('GROUP BY');
  else if (s.having === undefined && s.orderBy.length === 0 && s.limit === undefined) next.push('HAVING');
  if (s.orderBy.length === 0 && s.limit === undefined && s.offset === undefined) next.push('ORDER BY');
  if (s.limit === undefined && s.offset === undefined) next.push('LIMIT');
  if (s.offset === undefined) next.push('OFFSET');
  return `expected ${next.length > 0 ? `${next.join(', ')}, an operator or` : 'an operator or'} the end of the query`;
}
