/**
 * The blobs of one document, for the extension: where each reference sits, whether its content is
 * here, and the content itself (bounded by MAX_BLOB_READ_BYTES, and only for digests the document
 * references).
 */
import type { Collection, Database, JsonObject, JsonValue } from '../store';
import { isBlobRef } from '../store/blob-store';
import * as P from '../rpc/protocol';
import { AppError, notFound } from './app-error';

interface PlacedRef {
  readonly path: string;
  readonly digest: string;
  readonly length: number;
  readonly contentType?: string | undefined;
}

/**
 * Every well-formed blob reference in a body with its JSON path. Malformed ones are skipped rather
 * than thrown: this only describes what is stored, and the store already vetted it on save.
 */
export function placedBlobRefs(body: JsonObject): PlacedRef[] {
  const found: PlacedRef[] = [];
  const visit = (v: JsonValue, path: string): void => {
    if (typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${path}[${i}]`));
      return;
    }
    if (isBlobRef(v)) {
      const { digest, length, content_type: contentType } = v;
      if (typeof digest === 'string' && typeof length === 'number') {
        found.push({ path: path || '(root)', digest, length, ...(typeof contentType === 'string' ? { contentType } : {}) });
      }
      return;
    }
    for (const [k, child] of Object.entries(v)) visit(child, path ? `${path}.${k}` : k);
  };
  visit(body, '');
  return found;
}

function currentRefs(coll: Collection, docId: string): PlacedRef[] {
  const doc = coll.get(docId);
  if (!doc) throw notFound(`no document ${JSON.stringify(docId)} in ${coll.fullName}`);
  return doc.body ? placedBlobRefs(doc.body) : [];
}

export function listDocumentBlobs(db: Database, coll: Collection, docId: string): P.BlobInfo[] {
  return currentRefs(coll, docId).map((r) => ({ ...r, present: db.blobs.has(r.digest) }));
}

export function readDocumentBlob(db: Database, coll: Collection, docId: string, digest: string): P.BlobContent {
  const ref = currentRefs(coll, docId).find((r) => r.digest === digest);
  if (!ref) throw blobError('NOT_FOUND', `“${docId}” does not reference the blob ${digest}`, { reason: 'notReferenced' });
  const tooLarge = (length: number): AppError<P.BlobErrorData> =>
    blobError('TOO_LARGE', `the blob at ${ref.path} is ${length} bytes; blobs are read up to ${P.MAX_BLOB_READ_BYTES} bytes (they travel whole in one message)`, {
      reason: 'tooLarge',
      length,
      limit: P.MAX_BLOB_READ_BYTES,
    });
  // The declared length is checked first so an oversized blob is never loaded.
  if (ref.length > P.MAX_BLOB_READ_BYTES) throw tooLarge(ref.length);
  const content = db.getBlob(digest);
  if (!content) throw blobError('NOT_FOUND', `the content of the blob at ${ref.path} (${digest}) is not in ${db.name}: it has not been replicated here`, { reason: 'missing' });
  if (content.length > P.MAX_BLOB_READ_BYTES) throw tooLarge(content.length);
  return { digest, length: content.length, ...(ref.contentType !== undefined ? { contentType: ref.contentType } : {}), base64: content.toString('base64') };
}

/** How many blob references a body holds (for the document list). */
export function blobCount(body: JsonObject | undefined): number {
  return body ? placedBlobRefs(body).length : 0;
}

function blobError(code: 'NOT_FOUND' | 'TOO_LARGE', message: string, data: P.BlobErrorData): AppError<P.BlobErrorData> {
  return new AppError(code, message, data);
}
