import type { Collection, Database } from '../store';
import type { Expr, SelectStatement } from './ast';
import { compileQuery } from './compile';
import { parseCondition } from './parser';
import type { SourcePosition } from './query-error';

/** Synthetic nodes around the user's condition point at its start (errors are the condition's own). */
const AT_START: SourcePosition = { line: 1, column: 1, offset: 0, length: 0 };

/**
 * IDs of the live documents matching a condition (`type = "list" AND qty > 2`), in ID order after
 * `after`: the Databases view's field filter. The condition is parsed on its own and placed into a
 * statement built here, so nothing typed can change what is selected, from where, or in what order.
 */
export function filterDocumentIds(db: Database, collection: Collection, condition: string, page: { after: string; limit: number }): string[] {
  const where = parseCondition(condition);
  const id: Expr = { kind: 'meta', field: 'id', pos: AT_START };
  const stmt: SelectStatement = {
    distinct: false,
    items: [{ kind: 'expr', expr: id, alias: 'id', pos: AT_START }],
    from: { scope: collection.scope, name: collection.name, alias: undefined, pos: AT_START },
    where: { kind: 'binary', op: 'AND', left: where, right: { kind: 'binary', op: '>', left: id, right: { kind: 'param', name: 'after', pos: AT_START }, pos: AT_START }, pos: AT_START },
    groupBy: [],
    having: undefined,
    orderBy: [{ expr: id, descending: false }],
    limit: { kind: 'literal', value: page.limit, pos: AT_START },
    offset: undefined,
  };
  const compiled = compileQuery(condition, stmt, { source: collection.querySource, starName: collection.name }, { after: page.after });
  return db.queryRows(compiled.sql, compiled.params, compiled.maxRows).map((r) => JSON.parse(String(r[0])) as string);
}
