import { createHash } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors';
import type { JsonObject, JsonValue } from './types';

/** A blob reference as it appears inside a document body (Couchbase Lite's format). */
export interface BlobRef {
  '@type': 'blob';
  /** `sha1-` + base64 of the SHA-1 of the content. */
  digest: string;
  length: number;
  content_type?: string;
}

const DIGEST_PATTERN = /^sha1-[A-Za-z0-9+/]{27}=$/;

/**
 * Blob content, content-addressed on disk beside the database (not inside the sql.js image, so
 * large attachments cost no memory). Files are named by the hex digest; writes are atomic.
 */
export class BlobStore {
  constructor(readonly dir: string) {}

  save(content: Uint8Array, contentType?: string): BlobRef {
    const sha = createHash('sha1').update(content).digest();
    const digest = `sha1-${sha.toString('base64')}`;
    const final = this.pathFor(digest);
    if (!existsSync(final)) {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${final}.${process.pid}.tmp`;
      try {
        const fd = openSync(tmp, 'w', 0o600);
        try {
          let off = 0;
          while (off < content.length) off += writeSync(fd, content, off, content.length - off);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, final);
      } catch (e) {
        try {
          unlinkSync(tmp);
        } catch {
          /* nothing written */
        }
        const code = (e as NodeJS.ErrnoException).code;
        throw new StoreError('IO', `blob not saved${code === 'ENOSPC' ? ': the disk is full' : `: ${(e as Error).message}`}`, { cause: e });
      }
    }
    const ref: BlobRef = { '@type': 'blob', digest, length: content.length };
    if (contentType !== undefined) ref.content_type = contentType;
    return ref;
  }

  has(digest: string): boolean {
    return DIGEST_PATTERN.test(digest) && existsSync(this.pathFor(digest));
  }

  /** Reads a blob and checks it still matches its digest; undefined when it is not stored here. */
  read(digest: string): Buffer | undefined {
    if (!this.has(digest)) return undefined;
    const content = readFileSync(this.pathFor(digest));
    const actual = `sha1-${createHash('sha1').update(content).digest('base64')}`;
    if (actual !== digest) throw new StoreError('CORRUPT', `blob ${digest} on disk does not match its digest`);
    return content;
  }

  pathFor(digest: string): string {
    if (!DIGEST_PATTERN.test(digest)) throw new StoreError('INVALID_ARGUMENT', `invalid blob digest ${JSON.stringify(digest)}`);
    return join(this.dir, `${Buffer.from(digest.slice(5), 'base64').toString('hex')}.blob`);
  }
}

export function isBlobRef(v: JsonValue | undefined): v is JsonObject & BlobRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v['@type'] === 'blob';
}

/** Finds every blob reference in a body, rejecting malformed ones so bad metadata never gets stored. */
export function findBlobRefs(body: JsonObject): BlobRef[] {
  const found: BlobRef[] = [];
  const visit = (v: JsonValue, path: string): void => {
    if (typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${path}[${i}]`));
      return;
    }
    if (v['@type'] === 'blob') {
      const { digest, length, content_type: ct } = v;
      if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
        throw new StoreError('INVALID_DOCUMENT', `blob at ${path} has an invalid digest (expected sha1-<base64>)`);
      }
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
        throw new StoreError('INVALID_DOCUMENT', `blob at ${path} has an invalid length`);
      }
      if (ct !== undefined && typeof ct !== 'string') throw new StoreError('INVALID_DOCUMENT', `blob at ${path} has a non-string content_type`);
      found.push(v as unknown as BlobRef);
      return;
    }
    for (const [k, child] of Object.entries(v)) visit(child, path ? `${path}.${k}` : k);
  };
  visit(body, '');
  return found;
}
