import { StoreError } from './errors';
import type { DocId } from './types';

export const MAX_DOC_ID_BYTES = 255;

/** Validates a document ID: 1–255 bytes of UTF-8 and no NUL (NUL would end a BLIP property). */
export function asDocId(id: unknown): DocId {
  if (typeof id !== 'string') throw new StoreError('INVALID_DOC_ID', 'document ID must be a string');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes < 1 || bytes > MAX_DOC_ID_BYTES) {
    throw new StoreError('INVALID_DOC_ID', `document ID must be 1–${MAX_DOC_ID_BYTES} bytes of UTF-8 (got ${bytes})`);
  }
  if (id.includes('\u0000')) throw new StoreError('INVALID_DOC_ID', 'document ID must not contain NUL');
  if (/[\uD800-\uDFFF]/u.test(id.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
    throw new StoreError('INVALID_DOC_ID', 'document ID contains an unpaired surrogate (not valid UTF-8)');
  }
  return id as DocId;
}
