import { performance } from 'node:perf_hooks';
import type * as P from '../rpc/protocol';
import { isQueryError } from '../query/query-error';
import { runQuery } from '../query/run';
import { AppError, invalid } from './app-error';
import type { DatabaseRegistry } from './databases';

/** SQL++ queries over a database's collections (read-only). */
export class QueryService {
  constructor(private readonly databases: DatabaseRegistry) {}

  run(p: { db: string; query: string; parameters?: Record<string, unknown> }): P.QueryResult {
    if (typeof p.query !== 'string') throw invalid('query must be a string');
    const parameters = p.parameters ?? {};
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw invalid('parameters must be an object of name → value');
    const db = this.databases.get(p.db);
    const started = performance.now();
    const result = withQueryErrors(() => runQuery(db, p.query, parameters));
    return { ...result, elapsedMs: Math.round((performance.now() - started) * 1000) / 1000 };
  }
}

/** A query the user wrote that cannot run is theirs to fix: INVALID, with where the problem is. */
export function withQueryErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!isQueryError(e)) throw e;
    const data: P.QueryErrorData = { ...e.position };
    throw new AppError('INVALID', e.message, data);
  }
}
