import type { Expr, PathStep, SelectItem, SelectStatement } from './ast';
import { FUNCTIONS, type CompiledArg } from './functions';
import { jsonPath, UnsupportedKeyError } from './json-path';
import { likeToGlob } from './like-pattern';
import { QueryError, type SourcePosition } from './query-error';

/** Rows returned when the query has no LIMIT. */
export const DEFAULT_ROW_LIMIT = 1_000;
/** Rows returned at most, whatever the LIMIT. */
export const MAX_ROW_LIMIT = 10_000;

export type QueryParameters = Readonly<Record<string, unknown>>;
export type BoundValue = string | number | null;

export interface CompileTarget {
  /** A SELECT yielding the collection's live documents as columns id, rev, seq and body (JSON text). */
  readonly source: string;
  /** The name `*` is returned under (the alias, or the collection's name). */
  readonly starName: string;
}

export interface CompiledQuery {
  readonly sql: string;
  readonly params: BoundValue[];
  /** Result names, one per SQL column; each column holds JSON text, or NULL for a missing value. */
  readonly columns: string[];
  /** Rows to return at most. */
  readonly maxRows: number;
  /** The SQL fetches one row more than maxRows, to tell whether the row cap cut the result. */
  readonly capped: boolean;
}

/** A compiled expression; `boolean` marks truth values, which SQLite holds as 1/0. */
interface Sql {
  readonly sql: string;
  readonly boolean: boolean;
  /** Set for property paths: the JSON text the path runs on and the (bound) JSON path. */
  readonly docPath?: DocPath;
}

interface DocPath {
  readonly doc: string;
  readonly path: string;
}

type AggregateUse = 'allowed' | 'inside' | 'forbidden';

interface Context {
  readonly aggregates: AggregateUse;
  /** Where the expression is, for "not allowed in WHERE" messages. */
  readonly clause: string;
}

/**
 * Turns a parsed statement into one parameterised SQLite SELECT over the collection's live
 * documents. The SQL text holds only what this compiler writes: every literal, parameter value and
 * property path is a bound parameter (`?N`), so nothing the user typed reaches the SQL parser.
 */
export function compileQuery(source: string, stmt: SelectStatement, target: CompileTarget, parameters: QueryParameters = {}): CompiledQuery {
  return new Compiler(source, stmt, target, parameters).compile();
}

class Compiler {
  private readonly params: BoundValue[] = [];
  private readonly variables = new Map<string, { alias: string; doc: string }>();
  private aliasCount = 0;

  constructor(
    private readonly text: string,
    private readonly stmt: SelectStatement,
    private readonly target: CompileTarget,
    private readonly parameters: QueryParameters,
  ) {}

  compile(): CompiledQuery {
    const s = this.stmt;
    const select: Context = { aggregates: 'allowed', clause: 'the select list' };
    const columns: string[] = [];
    const outputs = s.items.map((item, i) => {
      columns.push(this.columnName(item, i));
      return item.kind === 'star' ? 'd.body' : this.jsonOf(this.expr(item.expr, select));
    });
    let sql = `SELECT ${s.distinct ? 'DISTINCT ' : ''}${outputs.map((o, i) => `${o} AS c${i}`).join(', ')} FROM (${this.target.source}) AS d`;
    if (s.where) sql += ` WHERE ${this.condition(s.where, { aggregates: 'forbidden', clause: 'WHERE' })}`;
    if (s.groupBy.length > 0) sql += ` GROUP BY ${s.groupBy.map((e) => this.expr(e, { aggregates: 'forbidden', clause: 'GROUP BY' }).sql).join(', ')}`;
    if (s.having) sql += ` HAVING ${this.condition(s.having, { aggregates: 'allowed', clause: 'HAVING' })}`;
    if (s.orderBy.length > 0) {
      const order: Context = { aggregates: 'allowed', clause: 'ORDER BY' };
      sql += ` ORDER BY ${s.orderBy.map((t) => `${this.expr(this.dealias(t.expr), order).sql}${t.descending ? ' DESC' : ''}`).join(', ')}`;
    }
    const requested = s.limit ? this.count(s.limit, 'LIMIT') : undefined;
    const capped = requested === undefined || requested > MAX_ROW_LIMIT;
    const maxRows = requested === undefined ? DEFAULT_ROW_LIMIT : Math.min(requested, MAX_ROW_LIMIT);
    sql += ` LIMIT ${this.bind(capped ? maxRows + 1 : maxRows)}`;
    if (s.offset) sql += ` OFFSET ${this.bind(this.count(s.offset, 'OFFSET'))}`;
    return { sql, params: this.params, columns, maxRows, capped };
  }

  /** How a result column is named: its alias, else the last property name, else `$1`, `$2`… by position. */
  private columnName(item: SelectItem, index: number): string {
    if (item.kind === 'star') return this.target.starName;
    if (item.alias !== undefined) return item.alias;
    const e = item.expr;
    if (e.kind === 'meta') return e.field;
    if (e.kind === 'path') {
      const last = e.steps[e.steps.length - 1];
      if (last && 'key' in last) return last.key;
    }
    return `$${index + 1}`;
  }

  /** ORDER BY may name a column by its alias: it sorts by that column's expression. */
  private dealias(e: Expr): Expr {
    if (e.kind !== 'path' || e.steps.length !== 1) return e;
    const first = e.steps[0]!;
    const item = this.stmt.items.find((i) => i.kind === 'expr' && 'key' in first && i.alias === first.key);
    return item?.kind === 'expr' ? item.expr : e;
  }

  private condition(e: Expr, ctx: Context): string {
    return this.expr(e, ctx).sql;
  }

  // ---- expressions ----

  private expr(e: Expr, ctx: Context): Sql {
    switch (e.kind) {
      case 'literal':
        return this.value(e.value);
      case 'param':
        return this.value(this.parameter(e.name, e.pos));
      case 'array':
        return plain(`json_array(${e.items.map((x) => `json(${this.jsonOf(this.expr(x, ctx))})`).join(', ')})`);
      case 'path': {
        const docPath = this.docPath(e.steps, e.pos);
        return { sql: `json_extract(${docPath.doc}, ${docPath.path})`, boolean: false, docPath };
      }
      case 'meta':
        return e.field === 'deleted' ? truth('0') : plain(`d.${{ id: 'id', revisionID: 'rev', sequence: 'seq' }[e.field]}`);
      case 'not':
        return truth(`(NOT ${this.expr(e.operand, ctx).sql})`);
      case 'negate':
        return plain(`(- ${this.expr(e.operand, ctx).sql})`);
      case 'binary':
        return this.binary(e, ctx);
      case 'is':
        return this.isTest(e.operand, e.test, e.negated, ctx);
      case 'like': {
        const glob = `${this.expr(e.operand, ctx).sql} GLOB ${this.bind(likeToGlob(this.likePattern(e.pattern)))}`;
        return truth(e.negated ? `(NOT (${glob}))` : `(${glob})`);
      }
      case 'in':
        return this.inList(e.operand, e.list, e.negated, ctx);
      case 'between': {
        const test = `${this.expr(e.operand, ctx).sql} BETWEEN ${this.expr(e.low, ctx).sql} AND ${this.expr(e.high, ctx).sql}`;
        return truth(e.negated ? `(NOT (${test}))` : `(${test})`);
      }
      case 'call':
        return this.call(e, ctx);
      case 'quantified':
        return this.quantified(e, ctx);
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, ctx: Context): Sql {
    let left = this.expr(e.left, ctx);
    let right = this.expr(e.right, ctx);
    if (e.op === '=' || e.op === '!=') [left, right] = [truthOf(left, right), truthOf(right, left)];
    const l = left.sql;
    const r = right.sql;
    switch (e.op) {
      case 'AND':
      case 'OR':
      case '=':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        return truth(`(${l} ${e.op} ${r})`);
      // SQLite divides integers as integers; SQL++ does not (7 / 2 is 3.5).
      case '/':
        return plain(`(${l} * 1.0 / ${r})`);
      default:
        return plain(`(${l} ${e.op} ${r})`);
    }
  }

  /**
   * On a property path these tell a missing property from one that holds null (json_type is NULL
   * for the first, 'null' for the second). A computed value has no such distinction: SQL NULL
   * stands for both, so it is null and missing at once and never valued.
   */
  private isTest(operand: Expr, test: 'NULL' | 'MISSING' | 'VALUED', negated: boolean, ctx: Context): Sql {
    const o = this.expr(operand, ctx);
    let sql: string;
    if (o.docPath) {
      const type = `json_type(${o.docPath.doc}, ${o.docPath.path})`;
      if (test === 'MISSING') sql = `${type} IS NULL`;
      else if (test === 'NULL') sql = `${type} = 'null'`;
      else sql = `coalesce(${type} != 'null', 0)`;
    } else {
      sql = test === 'VALUED' ? `${o.sql} IS NOT NULL` : `${o.sql} IS NULL`;
    }
    return truth(negated ? `(NOT (${sql}))` : `(${sql})`);
  }

  private inList(operand: Expr, list: Expr, negated: boolean, ctx: Context): Sql {
    const o = this.expr(operand, ctx).sql;
    let test: string;
    if (list.kind === 'array') {
      test = list.items.length === 0 ? '0' : `${o} IN (${list.items.map((x) => this.expr(x, ctx).sql).join(', ')})`;
    } else {
      // A parameter's array arrives as one bound JSON text, however long it is.
      const arr = this.arg(list, ctx);
      // json_each also walks an object's members, or yields a lone scalar: only an array's elements count.
      const [each, type] = arr.docPath
        ? [`json_each(${arr.docPath.doc}, ${arr.docPath.path})`, `json_type(${arr.docPath.doc}, ${arr.docPath.path})`]
        : [`json_each(${arr.json})`, `json_type(${arr.json})`];
      test = `(${type} = 'array' AND EXISTS (SELECT 1 FROM ${each} AS e WHERE e.value = ${o}))`;
    }
    return truth(negated ? `(NOT (${test}))` : `(${test})`);
  }

  private call(e: Extract<Expr, { kind: 'call' }>, ctx: Context): Sql {
    const spec = FUNCTIONS.get(e.name);
    if (!spec) throw this.error(`unknown function ${e.name}() (known: ${[...FUNCTIONS.keys()].join(', ')})`, e.pos);
    if (spec.aggregate) {
      if (ctx.aggregates === 'forbidden') throw this.error(`${e.name}() cannot be used in ${ctx.clause}`, e.pos);
      if (ctx.aggregates === 'inside') throw this.error(`${e.name}() cannot be used inside another aggregate`, e.pos);
    } else if (e.distinct) {
      throw this.error(`DISTINCT is only allowed in aggregates, not in ${e.name}()`, e.pos);
    }
    if (e.star) {
      if (e.name !== 'COUNT') throw this.error(`only COUNT takes *, not ${e.name}()`, e.pos);
      return plain('count(*)');
    }
    if (e.args.length < spec.minArgs || e.args.length > spec.maxArgs) {
      const expected = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `${spec.minArgs} or ${spec.maxArgs}`;
      throw this.error(`${e.name}() takes ${expected} argument${spec.maxArgs === 1 ? '' : 's'}, not ${e.args.length}`, e.pos);
    }
    const inner: Context = spec.aggregate ? { aggregates: 'inside', clause: ctx.clause } : ctx;
    const sql = spec.emit(
      e.args.map((a) => this.arg(a, inner)),
      e.distinct,
    );
    return spec.boolean ? truth(sql) : plain(sql);
  }

  private arg(e: Expr, ctx: Context): CompiledArg {
    const c = this.expr(e, ctx);
    return { sql: c.sql, json: this.jsonOf(c), docPath: c.docPath };
  }

  /** `ANY x IN arr SATISFIES cond END` is an EXISTS over json_each; EVERY is "no element fails". */
  private quantified(e: Extract<Expr, { kind: 'quantified' }>, ctx: Context): Sql {
    const source = this.expr(e.source, ctx);
    const alias = `j${++this.aliasCount}`;
    const { doc, path } = source.docPath ?? { doc: this.jsonOf(source), path: this.bind('$') };
    const outer = this.variables.get(e.variable);
    this.variables.set(e.variable, { alias, doc });
    let condition: string;
    try {
      // An aggregate inside the per-element subquery would count elements, not documents: refused.
      condition = this.expr(e.condition, { aggregates: 'forbidden', clause: `${e.quantifier} … SATISFIES` }).sql;
    } finally {
      if (outer) this.variables.set(e.variable, outer);
      else this.variables.delete(e.variable);
    }
    const each = `FROM json_each(${doc}, ${path}) AS ${alias} WHERE json_type(${doc}, ${path}) = 'array'`;
    if (e.quantifier === 'ANY') return truth(`EXISTS (SELECT 1 ${each} AND ${condition})`);
    // Every element of an empty array satisfies anything; a missing or non-array value is not an array.
    return truth(`(json_type(${doc}, ${path}) = 'array' AND NOT EXISTS (SELECT 1 ${each} AND NOT coalesce(${condition}, 0)))`);
  }

  // ---- values and paths ----

  /**
   * Where a path points: into the document body, or — when it starts with an ANY/EVERY variable —
   * into the element that variable stands for (json_each's fullkey is its path from the root of
   * the JSON it iterates).
   */
  private docPath(steps: readonly PathStep[], pos: SourcePosition): DocPath {
    const first = steps[0];
    const variable = first && 'key' in first ? this.variables.get(first.key) : undefined;
    if (variable) {
      const rest = steps.slice(1);
      return { doc: variable.doc, path: rest.length === 0 ? `${variable.alias}.fullkey` : `(${variable.alias}.fullkey || ${this.bind(this.escapedPath(rest, pos, ''))})` };
    }
    // `items.name` or `i.name` (FROM items AS i) names the document's own `name`, as in SQL++.
    const qualifier = this.stmt.from.alias ?? this.stmt.from.name;
    const own = steps.length > 1 && first !== undefined && 'key' in first && first.key === qualifier ? steps.slice(1) : steps;
    return { doc: 'd.body', path: this.bind(this.escapedPath(own, pos, '$')) };
  }

  private escapedPath(steps: readonly PathStep[], pos: SourcePosition, root: string): string {
    try {
      return jsonPath(steps, root);
    } catch (e) {
      if (e instanceof UnsupportedKeyError) throw this.error(e.message, pos);
      throw e;
    }
  }

  private value(v: unknown): Sql {
    if (v === null || v === undefined) return plain('NULL');
    if (typeof v === 'boolean') return truth(this.bind(v ? 1 : 0));
    if (typeof v === 'number' || typeof v === 'string') return plain(this.bind(v));
    // Arrays and objects (from parameters) are JSON values.
    return plain(`json(${this.bind(JSON.stringify(v))})`);
  }

  /** The JSON text a value is returned as (NULL for a missing property, so its key is left out). */
  private jsonOf(c: Sql): string {
    if (c.docPath) return `(${c.docPath.doc} -> ${c.docPath.path})`;
    if (c.boolean) return `(CASE WHEN ${c.sql} IS NULL THEN 'null' WHEN ${c.sql} THEN 'true' ELSE 'false' END)`;
    return `json_quote(${c.sql})`;
  }

  private parameter(name: string, pos: SourcePosition): unknown {
    if (!Object.hasOwn(this.parameters, name)) throw this.error(`no value given for parameter $${name}`, pos);
    const v = this.parameters[name];
    if (typeof v === 'number' && !Number.isFinite(v)) throw this.error(`parameter $${name} is not a finite number`, pos);
    return v;
  }

  /** LIKE patterns are translated before running, so they must be known then. */
  private likePattern(e: Expr): string {
    const v = e.kind === 'literal' ? e.value : e.kind === 'param' ? this.parameter(e.name, e.pos) : undefined;
    if (typeof v !== 'string') throw this.error('a LIKE pattern must be a string or a parameter holding one', e.pos);
    return v;
  }

  /** LIMIT and OFFSET: a whole number, written or given as a parameter. */
  private count(e: Expr, clause: string): number {
    const v = e.kind === 'literal' ? e.value : e.kind === 'param' ? this.parameter(e.name, e.pos) : undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.error(`${clause} must be a whole number of 0 or more`, e.pos);
    return v;
  }

  private bind(v: BoundValue): string {
    this.params.push(v);
    return `?${this.params.length}`;
  }

  /** An error at an expression, quoting the token it starts with. */
  private error(problem: string, pos: SourcePosition): QueryError {
    return new QueryError(problem, pos, this.text.slice(pos.offset, pos.offset + pos.length));
  }
}

function plain(sql: string): Sql {
  return { sql, boolean: false };
}

function truth(sql: string): Sql {
  return { sql, boolean: true };
}

/**
 * SQLite reads JSON true and false as 1 and 0; compared with a truth value, a property counts only
 * when it holds a JSON boolean, so `flag = true` does not match a property holding the number 1.
 */
function truthOf(side: Sql, other: Sql): Sql {
  if (!side.docPath || !other.boolean) return side;
  const type = `json_type(${side.docPath.doc}, ${side.docPath.path})`;
  return truth(`(CASE ${type} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`);
}
