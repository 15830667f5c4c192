/** Where something sits in the query text: 1-based line and column, 0-based offset, length in characters. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * A query that cannot be parsed, compiled or run as written. The message ends with where the
 * problem is and what was found there, so a one-line error is enough to fix it; `position`
 * carries the same for editors that underline it.
 */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly problem: string,
    readonly position: SourcePosition,
    /** The source text at the position ('' at the end of the query). */
    readonly found: string,
  ) {
    super(`${problem} at line ${position.line}, column ${position.column} (${found === '' ? 'found the end of the query' : `found ${JSON.stringify(found)}`})`);
  }
}

export function isQueryError(e: unknown): e is QueryError {
  return e instanceof QueryError;
}
