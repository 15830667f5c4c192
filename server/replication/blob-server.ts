import { BlipError, type BlipConnection, type BlipReply, type IncomingRequest } from '../blip';
import { isStoreError, type Collection, type Database } from '../store';
import { findBlobRefs } from '../store/blob-store';
import { parseJsonObject } from '../store/canonical-json';
import { Profile, Prop, Tuning, badRequest, blobProof, collectionIndex, isTrue } from './protocol';

const DIGEST_PATTERN = /^sha1-[A-Za-z0-9+/]{27}=$/;

export interface BlobServerOptions {
  readonly db: Database;
  /** Maps the request's `collection` index to a collection the peer may read, or throws a BlipError. */
  readonly collectionFor: (index: number | undefined) => Collection;
  /** Narrows which documents of that collection the peer may read (a pusher's document IDs and filter). */
  readonly mayRead?: ((collection: Collection, docId: string) => boolean) | undefined;
}

/**
 * The serving half of blob transfer on one connection: answers `getAttachment` with a blob's
 * content and `proveAttachment` with proof of holding one.
 *
 * Content goes only to a peer that names a document it may read whose current revision references
 * the blob: knowing a digest is not enough to read data. A proof is given for any stored blob, as
 * it tells the peer nothing it could not compute itself from content it already holds.
 */
export class BlobServer {
  private bytesBeingServed = 0;
  private waiters: { size: number; resume: () => void; fail: (e: Error) => void }[] = [];
  private readonly unregister: (() => void)[];
  private closed = false;

  constructor(
    conn: BlipConnection,
    private readonly options: BlobServerOptions,
  ) {
    this.unregister = [conn.onRequest(Profile.getAttachment, (req) => this.onGetAttachment(req)), conn.onRequest(Profile.proveAttachment, (req) => this.onProveAttachment(req))];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unregister) off();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.fail(new BlipError('HTTP', 503, 'replication stopped'));
  }

  private async onGetAttachment(req: IncomingRequest): Promise<BlipReply> {
    const digest = digestOf(req);
    const docId = req.properties[Prop.docID];
    if (!docId) throw badRequest('getAttachment needs a docID property');
    const collection = this.options.collectionFor(collectionIndex(req));
    const size = this.options.db.blobs.size(digest);
    if (size === undefined || !this.referencedBy(collection, docId, digest)) {
      throw new BlipError('HTTP', 404, `no blob ${digest} in a document ${JSON.stringify(docId)} shared with this peer`);
    }
    await this.roomFor(size);
    let content: Buffer | undefined;
    try {
      content = this.options.db.blobs.read(digest);
    } catch (e) {
      this.release(size);
      throw new BlipError('HTTP', 500, isStoreError(e) ? e.message : `blob ${digest} could not be read`);
    }
    if (!content) {
      this.release(size);
      throw new BlipError('HTTP', 404, `no blob ${digest}`);
    }
    // The content stays in memory until its last frame is out; the budget is given back then.
    return { body: content, compressed: isTrue(req.properties[Prop.compress]), onSent: () => this.release(size) };
  }

  private onProveAttachment(req: IncomingRequest): BlipReply {
    const digest = digestOf(req);
    const nonce = req.body;
    if (nonce.length === 0 || nonce.length > 255) throw badRequest('proveAttachment needs a nonce of 1 to 255 bytes as its body');
    let found = false;
    const proof = blobProof(nonce, (update) => {
      found = this.options.db.blobs.readChunks(digest, update);
    });
    if (!found) throw new BlipError('HTTP', 404, `no blob ${digest}`);
    return { body: proof };
  }

  /** The document exists, the peer may read it, and its current revision references the blob. */
  private referencedBy(collection: Collection, docId: string, digest: string): boolean {
    try {
      const current = collection.getJson(docId);
      if (!current || current.deleted || !current.json.includes(digest)) return false;
      if (this.options.mayRead && !this.options.mayRead(collection, docId)) return false;
      return findBlobRefs(parseJsonObject(current.json, 'stored body')).some((ref) => ref.digest === digest);
    } catch {
      return false; // an invalid document ID, or a body that cannot be read: nothing to serve
    }
  }

  /** Waits until this connection's blobs being transmitted leave room for `size` more bytes. */
  private roomFor(size: number): Promise<void> {
    if (this.closed) return Promise.reject(new BlipError('HTTP', 503, 'replication stopped'));
    if (this.waiters.length === 0 && this.fits(size)) {
      this.bytesBeingServed += size;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({
        size,
        resume: () => {
          this.bytesBeingServed += size;
          resolve();
        },
        fail: reject,
      });
    });
  }

  private fits(size: number): boolean {
    return this.bytesBeingServed === 0 || this.bytesBeingServed + size <= Tuning.maxBlobBytesBeingServed;
  }

  private release(size: number): void {
    this.bytesBeingServed -= size;
    // In order of arrival, so a large blob is not passed over forever by small ones.
    for (let next = this.waiters[0]; next && this.fits(next.size); next = this.waiters[0]) {
      this.waiters.shift();
      next.resume();
    }
  }
}

function digestOf(req: IncomingRequest): string {
  const digest = req.properties[Prop.digest];
  if (!digest || !DIGEST_PATTERN.test(digest)) throw badRequest(`${req.profile ?? 'request'} needs a digest property of the form sha1-<base64>`);
  return digest;
}
