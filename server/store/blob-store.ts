import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
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
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
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

  /** Size in bytes of a stored blob; undefined when it is not stored here. */
  size(digest: string): number | undefined {
    if (!DIGEST_PATTERN.test(digest)) return undefined;
    try {
      return statSync(this.pathFor(digest)).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Starts writing a blob that arrives in pieces. Nothing is visible under its digest until
   * `install` has checked the content against the digest and length it is expected to have.
   */
  createWriter(): BlobWriter {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return new BlobWriter(this, join(this.dir, `incoming-${process.pid}-${randomBytes(6).toString('hex')}.tmp`));
  }

  /**
   * Reads a stored blob in pieces of at most `chunkSize` bytes (so a large one is never wholly in
   * memory). Returns false when it is not stored here.
   */
  readChunks(digest: string, visit: (chunk: Buffer) => void, chunkSize = 1024 * 1024): boolean {
    if (!this.has(digest)) return false;
    let fd: number;
    try {
      fd = openSync(this.pathFor(digest), 'r');
    } catch {
      return false;
    }
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkSize, size)));
      let n: number;
      while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) visit(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    return true;
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

/** A blob arriving in pieces: written to a temporary file and hashed as it comes. */
export class BlobWriter {
  private readonly hash: Hash = createHash('sha1');
  private fd: number | undefined;
  private written = 0;

  constructor(
    private readonly store: BlobStore,
    private readonly tmpPath: string,
  ) {
    this.fd = openSync(tmpPath, 'w', 0o600);
  }

  get length(): number {
    return this.written;
  }

  write(chunk: Uint8Array): void {
    if (this.fd === undefined) throw new StoreError('INVALID_ARGUMENT', 'blob writer already closed');
    this.hash.update(chunk);
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch (e) {
      this.abort();
      const code = (e as NodeJS.ErrnoException).code;
      throw new StoreError('IO', `blob not saved${code === 'ENOSPC' ? ': the disk is full' : `: ${(e as Error).message}`}`, { cause: e });
    }
    this.written += chunk.length;
  }

  /**
   * Checks the content against the expected digest and length, makes it durable and stores it
   * under its digest. On a mismatch nothing is stored and CORRUPT is thrown.
   */
  install(expected: { digest: string; length: number }): void {
    const fd = this.fd;
    if (fd === undefined) throw new StoreError('INVALID_ARGUMENT', 'blob writer already closed');
    const digest = `sha1-${this.hash.digest('base64')}`;
    if (digest !== expected.digest || this.written !== expected.length) {
      this.abort();
      throw new StoreError('CORRUPT', `blob content does not match its reference: expected ${expected.digest} (${expected.length} bytes), got ${digest} (${this.written} bytes)`);
    }
    try {
      fdatasyncSync(fd);
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.tmpPath, this.store.pathFor(digest));
    } catch (e) {
      this.abort();
      throw new StoreError('IO', `blob not saved: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Drops what was written (idempotent). */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tmpPath);
    } catch {
      /* never created, or already installed */
    }
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
