/**
 * Paths of the `peersync:` file system: `/<db>/<scope.collection>/<docId>.json`. The document ID is
 * everything after the collection (it may contain `/`); database and collection names cannot.
 * No vscode import (unit-tested).
 */

export interface DocRef {
  readonly db: string;
  readonly collection: string;
  readonly docId: string;
}

export type ParsedPath =
  | { readonly kind: 'root' }
  | { readonly kind: 'database'; readonly db: string }
  | { readonly kind: 'collection'; readonly db: string; readonly collection: string }
  | ({ readonly kind: 'document' } & DocRef);

export const DOC_SUFFIX = '.json';

export function docPath(ref: DocRef): string {
  return `/${ref.db}/${ref.collection}/${ref.docId}${DOC_SUFFIX}`;
}

export function parseDocPath(path: string): ParsedPath | undefined {
  const p = path.startsWith('/') ? path.slice(1) : path;
  if (p === '') return { kind: 'root' };
  const i = p.indexOf('/');
  if (i < 0) return { kind: 'database', db: p };
  const db = p.slice(0, i);
  const j = p.indexOf('/', i + 1);
  if (j < 0) return { kind: 'collection', db, collection: p.slice(i + 1) };
  const collection = p.slice(i + 1, j);
  const file = p.slice(j + 1);
  if (!db || !collection || !file.endsWith(DOC_SUFFIX) || file.length === DOC_SUFFIX.length) return undefined;
  return { kind: 'document', db, collection, docId: file.slice(0, -DOC_SUFFIX.length) };
}

/** A document body as the editor shows it: pretty JSON, 2 spaces, final newline. */
export function renderBody(body: Record<string, unknown> | null): string {
  return JSON.stringify(body ?? {}, null, 2) + '\n';
}

/** Parses what the user saved: it must be a JSON object. Throws an Error with a readable message. */
export function parseBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`a document must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
