import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Couchbase Lite's blob digest: `sha1-` + base64 of the content's SHA-1. */
export function blobDigest(content: Uint8Array): string {
  return `sha1-${createHash('sha1').update(content).digest('base64')}`;
}

/** Where LiteCore keeps a blob: `<db>.cblite2/Attachments/<base64 digest, '/' as '_'>.blob`. */
export function cbliteBlobPath(cbliteDb: string, digest: string): string {
  return join(cbliteDb, 'Attachments', `${digest.slice(5).replace(/\//g, '_')}.blob`);
}

/** Where PeerSync keeps a blob: `<db>/blobs/<hex digest>.blob`. */
export function peersyncBlobPath(db: string, digest: string): string {
  return join(db, 'blobs', `${Buffer.from(digest.slice(5), 'base64').toString('hex')}.blob`);
}

export function readIfPresent(path: string): Buffer | undefined {
  return existsSync(path) ? readFileSync(path) : undefined;
}

export function listBlobFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.blob')) : [];
}

/**
 * Stores blob content in a cblite database the way LiteCore does (a plain file named by its
 * digest): cblite itself has no command that writes blob content.
 */
export function putCbliteBlob(cbliteDb: string, content: Uint8Array, contentType: string): { '@type': 'blob'; digest: string; length: number; content_type: string } {
  const digest = blobDigest(content);
  writeFileSync(cbliteBlobPath(cbliteDb, digest), content);
  return { '@type': 'blob', digest, length: content.length, content_type: contentType };
}
