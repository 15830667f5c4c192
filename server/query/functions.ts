/** A compiled argument: its SQL value, and for property paths how to reach the JSON itself. */
export interface CompiledArg {
  /** SQL scalar (JSON objects and arrays as JSON text). */
  readonly sql: string;
  /** JSON text of the value, for functions that look inside arrays. */
  readonly json: string;
  /** `(doc, path)` SQL for json_each and friends when the argument is a property path. */
  readonly docPath: { readonly doc: string; readonly path: string } | undefined;
}

export interface FunctionSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly aggregate: boolean;
  /** The result is a truth value (shown as true/false, not 1/0). */
  readonly boolean: boolean;
  emit(args: readonly CompiledArg[], distinct: boolean): string;
}

/** `json_each(...)` over an argument: the document's own array when it is a path, else its JSON text. */
function eachOf(a: CompiledArg): string {
  return a.docPath ? `json_each(${a.docPath.doc}, ${a.docPath.path})` : `json_each(${a.json})`;
}

function arrayTypeOf(a: CompiledArg): string {
  return a.docPath ? `json_type(${a.docPath.doc}, ${a.docPath.path})` : `json_type(${a.json})`;
}

const scalar = (minArgs: number, maxArgs: number, emit: (a: readonly CompiledArg[]) => string): FunctionSpec => ({ minArgs, maxArgs, aggregate: false, boolean: false, emit });
const aggregate = (sqlName: string): FunctionSpec => ({
  minArgs: 1,
  maxArgs: 1,
  aggregate: true,
  boolean: false,
  emit: (a, distinct) => `${sqlName}(${distinct ? 'DISTINCT ' : ''}${a[0]!.sql})`,
});

/** The functions a query may call, by upper-case name. COUNT(*) is handled by the compiler. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['COUNT', aggregate('count')],
  ['SUM', aggregate('sum')],
  ['AVG', aggregate('avg')],
  ['MIN', aggregate('min')],
  ['MAX', aggregate('max')],
  ['LOWER', scalar(1, 1, (a) => `lower(${a[0]!.sql})`)],
  ['UPPER', scalar(1, 1, (a) => `upper(${a[0]!.sql})`)],
  ['LENGTH', scalar(1, 1, (a) => `length(${a[0]!.sql})`)],
  ['ABS', scalar(1, 1, (a) => `abs(${a[0]!.sql})`)],
  ['ROUND', scalar(1, 2, (a) => `round(${a.map((x) => x.sql).join(', ')})`)],
  ['TRIM', scalar(1, 2, (a) => `trim(${a.map((x) => x.sql).join(', ')})`)],
  ['CONTAINS', { minArgs: 2, maxArgs: 2, aggregate: false, boolean: true, emit: (a) => `(instr(${a[0]!.sql}, ${a[1]!.sql}) > 0)` }],
  // Not an array (or missing): NULL, where json_array_length would say 0.
  ['ARRAY_LENGTH', scalar(1, 1, (a) => `(CASE WHEN ${arrayTypeOf(a[0]!)} = 'array' THEN json_array_length(${a[0]!.json}) END)`)],
  [
    'ARRAY_CONTAINS',
    {
      minArgs: 2,
      maxArgs: 2,
      aggregate: false,
      boolean: true,
      emit: (a) => `(${arrayTypeOf(a[0]!)} = 'array' AND EXISTS (SELECT 1 FROM ${eachOf(a[0]!)} AS e WHERE e.value = ${a[1]!.sql}))`,
    },
  ],
]);
