import type { Document, JsonValue } from '../store';
import { invalid } from './app-error';

/**
 * A channel-like filter: only documents whose field (a dotted path such as `channel` or
 * `meta.owner`) holds one of the values, or, for an array field, contains one of them. Deletions
 * always pass: a tombstone has no body to test, and keeping a deleted document is worse than
 * forgetting one outside the filter.
 */
export function fieldFilter(field: string, values: readonly string[]): (doc: Document) => boolean {
  const path = field.split('.');
  if (field.trim() === '' || path.some((k) => k === '')) throw invalid(`the filter field ${JSON.stringify(field)} is not a property path (e.g. channel or meta.owner)`);
  if (values.length === 0) throw invalid('a field filter needs at least one value');
  const wanted = new Set(values);
  return (doc) => {
    if (doc.deleted || !doc.body) return true;
    let v: JsonValue | undefined = doc.body;
    for (const k of path) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? v[k] : undefined;
    if (Array.isArray(v)) return v.some((x) => wanted.has(scalar(x)));
    return v !== undefined && wanted.has(scalar(v));
  };
}

function scalar(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
