import type { SqlValue } from 'sql.js';
import type { Collection, Database } from '../store';
import { DEFAULT_COLLECTION, DEFAULT_SCOPE } from '../store';
import type { SelectStatement } from './ast';
import { compileQuery, type QueryParameters } from './compile';
import { tokenize } from './lexer';
import { parseQuery } from './parser';
import { QueryError } from './query-error';

export interface QueryResult {
  readonly columns: string[];
  /** One object per row; a column whose value is missing in a row is absent from that row's object. */
  readonly rows: Record<string, unknown>[];
  /** More rows matched than the row cap allowed (see MAX_ROW_LIMIT / DEFAULT_ROW_LIMIT). */
  readonly truncated: boolean;
}

/** Parses, compiles and runs a SQL++ SELECT against one database; reads only. */
export function runQuery(db: Database, query: string, parameters: QueryParameters = {}): QueryResult {
  const stmt = parseQuery(query);
  const collection = resolveCollection(db, query, stmt.from);
  const starName = stmt.from.alias ?? (stmt.from.name === '_' ? DEFAULT_COLLECTION : stmt.from.name);
  const compiled = compileQuery(query, stmt, { source: collection.querySource, starName }, parameters);
  let raw: SqlValue[][];
  try {
    raw = db.queryRows(compiled.sql, compiled.params, compiled.capped ? compiled.maxRows + 1 : compiled.maxRows);
  } catch (e) {
    // The compiler checks what it can; SQLite may still refuse (a type it cannot compare, say).
    const first = tokenize(query)[0]!;
    throw new QueryError(`the query could not run: ${e instanceof Error ? e.message : String(e)}`, first.pos, first.text);
  }
  const truncated = raw.length > compiled.maxRows;
  const rows = raw.slice(0, compiled.maxRows).map((r) => toRow(compiled.columns, r));
  return { columns: compiled.columns, rows, truncated };
}

/** `_` and `_default` name the default collection; `name` alone is in the default scope. */
function resolveCollection(db: Database, query: string, from: SelectStatement['from']): Collection {
  const name = from.name === '_' ? DEFAULT_COLLECTION : from.name;
  const full = `${from.scope ?? DEFAULT_SCOPE}.${name}`;
  const c = db.collection(full);
  if (!c) {
    const known = db.collections().map((x) => x.fullName);
    throw new QueryError(`no collection ${full} in database ${db.name} (it has ${known.join(', ')})`, from.pos, query.slice(from.pos.offset, from.pos.offset + from.pos.length));
  }
  return c;
}

function toRow(columns: readonly string[], values: readonly SqlValue[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  columns.forEach((name, i) => {
    const v = values[i];
    // NULL: the value is missing, and a missing value has no key (a JSON null arrives as 'null').
    if (typeof v === 'string') row[name] = JSON.parse(v) as unknown;
  });
  return row;
}
