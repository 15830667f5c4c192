import { createHash, hash } from 'node:crypto';
import { StoreError } from './errors';
import type { RevId } from './types';

const REV_ID_PATTERN = /^([1-9][0-9]{0,8})-([0-9A-Za-z+/=_.~]{1,128})$/;

export interface ParsedRevId {
  readonly generation: number;
  readonly digest: string;
}

/** Parses `<generation>-<digest>`; revision IDs from other peers are opaque beyond this shape. */
export function parseRevId(rev: string): ParsedRevId {
  const m = REV_ID_PATTERN.exec(rev);
  if (!m) throw new StoreError('INVALID_REV_ID', `invalid revision ID ${JSON.stringify(rev)} (expected <generation>-<digest>)`);
  return { generation: Number(m[1]), digest: m[2]! };
}

export function isRevId(rev: unknown): rev is RevId {
  return typeof rev === 'string' && REV_ID_PATTERN.test(rev);
}

export function asRevId(rev: string): RevId {
  parseRevId(rev);
  return rev as RevId;
}

export function generationOf(rev: RevId): number {
  const dash = rev.indexOf('-');
  return Number(rev.slice(0, dash));
}

/** Orders revision IDs by generation, then by digest (byte order); > 0 when a sorts after b. */
export function compareRevIds(a: RevId, b: RevId): number {
  const ga = generationOf(a);
  const gb = generationOf(b);
  if (ga !== gb) return ga - gb;
  const da = a.slice(a.indexOf('-') + 1);
  const db = b.slice(b.indexOf('-') + 1);
  return da < db ? -1 : da > db ? 1 : 0;
}

/**
 * The revision ID of a new revision: generation = parent's + 1; digest = SHA-1 over
 * byte(len(parent)) ‖ parent ‖ byte(deleted) ‖ canonical JSON of the body.
 * Including the parent makes identical edits on different branches distinct revisions.
 */
export function computeRevId(parent: RevId | null, deleted: boolean, canonicalBody: string): RevId {
  const generation = parent === null ? 1 : generationOf(parent) + 1;
  const flag = deleted ? '\u0001' : '\u0000';
  // Fast path: an ASCII parent shorter than 128 bytes encodes the same as these UTF-8 characters,
  // so the whole input can be hashed in one call without building a Buffer.
  if (parent === null) return `${generation}-${hash('sha1', `\u0000${flag}${canonicalBody}`, 'hex')}` as RevId;
  if (parent.length < 128 && /^[\x20-\x7e]*$/.test(parent)) {
    return `${generation}-${hash('sha1', `${String.fromCharCode(parent.length)}${parent}${flag}${canonicalBody}`, 'hex')}` as RevId;
  }
  const parentBytes = Buffer.from(parent, 'utf8');
  if (parentBytes.length > 255) throw new StoreError('INVALID_REV_ID', 'parent revision ID is longer than 255 bytes');
  const h = createHash('sha1');
  h.update(Buffer.from([parentBytes.length]));
  h.update(parentBytes);
  h.update(Buffer.from([deleted ? 1 : 0]));
  h.update(canonicalBody, 'utf8');
  return `${generation}-${h.digest('hex')}` as RevId;
}
