import { StoreError } from './errors';
import type { DocId } from './types';

/** The longest ID a Couchbase Lite peer stores; anything longer would be refused when replicated. */
export const MAX_DOC_ID_BYTES = 240;
/** IDs that older versions accepted, still found (read, purged) but never written again. */
const MAX_LOOKUP_ID_BYTES = 255;

/** In Unicode mode a surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001F]/;

/**
 * Validates the ID of a document being written, by Couchbase Lite's rules, so that nothing stored
 * here is refused by a Couchbase Lite peer later: 1–240 bytes of valid UTF-8, not starting with
 * `_` (reserved for the database's own records) and without control characters (U+0000–U+001F).
 */
export function asValidDocId(id: unknown): DocId {
  const docId = asDocId(id);
  const bytes = Buffer.byteLength(docId, 'utf8');
  if (bytes > MAX_DOC_ID_BYTES) {
    throw new StoreError('INVALID_DOC_ID', `document ID must be 1–${MAX_DOC_ID_BYTES} bytes of UTF-8 (got ${bytes})`);
  }
  if (docId.startsWith('_')) throw new StoreError('INVALID_DOC_ID', `document ID ${JSON.stringify(docId)} must not start with "_"`);
  if (CONTROL_CHARACTER.test(docId)) throw new StoreError('INVALID_DOC_ID', `document ID ${JSON.stringify(docId)} must not contain control characters`);
  return docId;
}

/**
 * Checks an ID used to look a document up. Looser than asValidDocId on purpose: documents saved
 * under an older, wider rule must stay readable and purgeable. A lookup with an ID no rule allows
 * is an error rather than "not found", so a caller's bug does not pass unnoticed.
 */
export function asDocId(id: unknown): DocId {
  if (typeof id !== 'string') throw new StoreError('INVALID_DOC_ID', 'document ID must be a string');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes < 1 || bytes > MAX_LOOKUP_ID_BYTES) {
    throw new StoreError('INVALID_DOC_ID', `document ID must be 1–${MAX_DOC_ID_BYTES} bytes of UTF-8 (got ${bytes})`);
  }
  if (id.includes('\u0000')) throw new StoreError('INVALID_DOC_ID', 'document ID must not contain NUL');
  if (LONE_SURROGATE.test(id)) throw new StoreError('INVALID_DOC_ID', 'document ID contains an unpaired surrogate (not valid UTF-8)');
  return id as DocId;
}
