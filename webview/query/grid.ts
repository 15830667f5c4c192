/**
 * The results grid's logic, kept free of the DOM so it can be unit-tested: ordering values of any
 * JSON type, a stable sort on one column, pages, and the text a cell shows.
 */

export type SortDirection = 'asc' | 'desc';

export interface SortKey {
  readonly column: string;
  readonly direction: SortDirection;
}

/** Missing, null, booleans, numbers, strings, arrays, objects: SQL++'s collation order of types. */
function typeRank(v: unknown): number {
  if (v === undefined) return 0;
  if (v === null) return 1;
  switch (typeof v) {
    case 'boolean':
      return 2;
    case 'number':
      return 3;
    case 'string':
      return 4;
    default:
      return Array.isArray(v) ? 5 : 6;
  }
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (ra <= 1) return 0;
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

/** A sorted copy; rows that compare equal keep their order (in both directions). */
export function sortRows<R extends Readonly<Record<string, unknown>>>(rows: readonly R[], key: SortKey | undefined): R[] {
  if (!key) return [...rows];
  const sign = key.direction === 'asc' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((x, y) => sign * compareValues(x.row[key.column], y.row[key.column]) || x.index - y.index)
    .map((x) => x.row);
}

/** Clicking a header: sort by it ascending, again descending, a third time back to the server's order. */
export function nextSort(current: SortKey | undefined, column: string): SortKey | undefined {
  if (current?.column !== column) return { column, direction: 'asc' };
  return current.direction === 'asc' ? { column, direction: 'desc' } : undefined;
}

export interface PageView {
  /** 0-based, clamped into range. */
  readonly page: number;
  readonly pageCount: number;
  /** Row indexes: `start` up to (not including) `end`. */
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

export function pageOf(total: number, page: number, pageSize: number): PageView {
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const p = Math.min(Math.max(0, Math.floor(page)), pageCount - 1);
  const start = Math.min(p * pageSize, total);
  const end = Math.min(start + pageSize, total);
  const label = total === 0 ? 'no rows' : `rows ${count(start + 1)}–${count(end)} of ${count(total)}`;
  return { page: p, pageCount, start, end, label };
}

/** 1,000 rather than 1000, whatever the webview's locale. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface CellView {
  readonly text: string;
  /** The whole value, when `text` is cut short. */
  readonly title?: string;
  readonly kind: 'missing' | 'null' | 'boolean' | 'number' | 'string' | 'json';
}

/** Strings as they are, nested values as compact JSON, cut at `max` characters with an ellipsis. */
export function cellView(value: unknown, max = 80): CellView {
  if (value === undefined) return { text: '', kind: 'missing' };
  if (value === null) return { text: 'null', kind: 'null' };
  const kind = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'json';
  const full = typeof value === 'string' ? value : JSON.stringify(value);
  const oneLine = full.replace(/\r?\n/g, '⏎');
  if (oneLine.length <= max && oneLine === full) return { text: full, kind };
  return { text: oneLine.length <= max ? oneLine : `${oneLine.slice(0, Math.max(0, max - 1))}…`, title: full, kind };
}

/**
 * The column holding document ids, so that a row can open its document: `id` (what `META().id`
 * is called), else `_id` or `docId`; only when its values are strings.
 */
export function idColumn(columns: readonly string[], rows: readonly Readonly<Record<string, unknown>>[]): string | undefined {
  const name = ['id', '_id', 'docId', 'docID'].find((c) => columns.includes(c));
  if (name === undefined) return undefined;
  return rows.every((r) => r[name] === undefined || typeof r[name] === 'string') ? name : undefined;
}
