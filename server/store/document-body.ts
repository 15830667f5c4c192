import { isUtf8 } from 'node:buffer';
import { findBlobRefs } from './blob-store';
import { FORBIDDEN_KEY, MAX_NESTING, forbiddenKey, nestsTooDeep, reservedKey } from './body-limits';
import { canonicalize, isJsonObject, parseJsonObject } from './canonical-json';
import { StoreError } from './errors';
import type { JsonObject } from './types';

/**
 * Top-level names Couchbase Lite refuses to store ("illegal top-level key"): they would be read as
 * the document's own metadata, e.g. by `db export` and `db import`.
 */
const REFUSED_TOP_LEVEL = new Set(['_id', '_rev', '_deleted', FORBIDDEN_KEY]);

/**
 * A document body that passed the store's rules, with its JSON text as it will be stored. Every
 * write path (local saves, imports, conflict resolutions, revisions received from peers) goes
 * through one of the two factories, so one set of rules and messages applies everywhere.
 * Revisions carry the body they were validated with; the constructor is private so the store can
 * trust a ValidBody without checking it again.
 */
export class ValidBody {
  private constructor(
    readonly json: string,
    /** The body holds at least one blob reference. */
    readonly hasBlobs: boolean,
  ) {}

  /**
   * A body written here: every top-level name starting with `_` is refused, since a Couchbase Lite
   * peer removes such properties from revisions it receives and would keep a different document
   * under the same revision ID. The text is canonical JSON (sorted keys: equal bodies hash alike).
   */
  static local(body: unknown): ValidBody {
    if (!isJsonObject(body)) throw new StoreError('INVALID_DOCUMENT', 'document body must be a JSON object');
    for (const key of Object.keys(body)) if (key.startsWith('_')) throw reservedKey(key);
    const { json, hasBlobs } = canonicalize(body);
    if (hasBlobs) findBlobRefs(body); // checks each reference's shape
    return new ValidBody(json, hasBlobs);
  }

  /**
   * A revision received from a peer, as UTF-8 bytes or JSON text (kept as sent when nothing is
   * removed) or parsed.
   * `_id`, `_rev`, `_deleted` and `__proto__` at the top level are refused; other top-level `_`
   * properties are removed before storing, as Couchbase Lite's receiver does — except `_attachments`
   * holding anything but stand-ins for blobs in the body: legacy attachments are not supported, and
   * dropping them would lose content.
   */
  static received(received: Uint8Array | string | JsonObject, deleted: boolean): ValidBody {
    const input = received instanceof Uint8Array ? decodeBodyBytes(received) : received;
    const body = typeof input === 'string' ? parseJsonObject(input) : input;
    if (!isJsonObject(body)) throw new StoreError('INVALID_DOCUMENT', 'document body must be a JSON object');
    const kept = withoutMetaProperties(body, deleted);
    const blobs = { found: false };
    checkNesting(kept, 1, blobs);
    let json: string;
    if (typeof input !== 'string') json = canonicalize(kept).json;
    else json = kept === body ? input : JSON.stringify(kept);
    if (blobs.found) findBlobRefs(kept);
    return new ValidBody(json, blobs.found);
  }
}

/**
 * Decodes a body received as bytes. Invalid UTF-8 is refused: decoding would silently replace it
 * with U+FFFD and store content the sender never wrote under the sender's revision ID.
 */
export function decodeBodyBytes(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) throw new StoreError('INVALID_DOCUMENT', 'document body is not valid UTF-8');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function withoutMetaProperties(body: JsonObject, deleted: boolean): JsonObject {
  let drop: Set<string> | undefined;
  for (const key of Object.keys(body)) {
    if (key.charCodeAt(0) !== 0x5f) continue;
    // A tombstone saying it is deleted says nothing new; a live revision saying so contradicts itself.
    if (key === '_deleted' && deleted) {
      (drop ??= new Set()).add(key);
      continue;
    }
    if (REFUSED_TOP_LEVEL.has(key)) throw reservedKey(key);
    if (key === '_attachments' && !onlyBlobStandIns(body[key])) {
      throw new StoreError('INVALID_DOCUMENT', 'legacy "_attachments" are not supported: send attachments as blobs');
    }
    (drop ??= new Set()).add(key);
  }
  if (!drop) return body;
  const kept: JsonObject = {};
  for (const key of Object.keys(body)) if (!drop.has(key)) kept[key] = body[key]!;
  return kept;
}

/** Couchbase Lite lists a document's blobs in `_attachments` as `blob_…` entries for older peers. */
function onlyBlobStandIns(value: unknown): boolean {
  return isJsonObject(value) && Object.keys(value).every((k) => k.startsWith('blob_'));
}

/**
 * Checks the nesting limit and property names, and notes blob references. Recursive, but never
 * deeper than MAX_NESTING: it stops at the first level too many.
 */
function checkNesting(value: unknown, level: number, blobs: { found: boolean }): void {
  if (typeof value !== 'object' || value === null) return;
  if (level > MAX_NESTING) throw nestsTooDeep();
  if (Array.isArray(value)) {
    for (const item of value) checkNesting(item, level + 1, blobs);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (obj['@type'] === 'blob') blobs.found = true;
  for (const key in obj) {
    if (key === FORBIDDEN_KEY) throw forbiddenKey();
    checkNesting(obj[key], level + 1, blobs);
  }
}
