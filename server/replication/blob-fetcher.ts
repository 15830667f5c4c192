import { randomBytes } from 'node:crypto';
import { BLIP_ERROR_DOMAIN, BlipClosedError, BlipError, type BlipConnection } from '../blip';
import { isStoreError, type BlobRef } from '../store';
import { findBlobRefs, type BlobStore } from '../store/blob-store';
import { parseJsonObject } from '../store/canonical-json';
import { Profile, Prop, Tuning, badRequest, blobProof } from './protocol';

/** Blob content types that gain nothing from deflate (already compressed, or media). */
const INCOMPRESSIBLE_TYPE = /zip|zlib|pkcs|mpeg|mp4|crypt|rar/;
const MEDIA_TYPE = /^(image|audio|video)\//;
const LITECORE_DOMAIN = 'LiteCore';
const LITECORE_NOT_FOUND = 7;

/**
 * The receiving half of blob transfer on one connection: before a revision is inserted, makes sure
 * every blob it references is stored here, so a stored revision never points at missing content.
 *
 * A blob not stored here is fetched from the sender with `getAttachment`, streamed to a temporary
 * file while it is hashed, and installed only if its digest and length match the reference.
 *
 * A blob already stored here is not transferred again, but the sender must prove it holds the
 * content (`proveAttachment`, with a fresh nonce): otherwise a peer that only knew a digest could
 * plant a reference to it and later read the content through that document. A peer that does not
 * answer proveAttachment at all (no handler) proves possession the long way: by sending the
 * content, which is checked like any fetched blob.
 */
export class BlobFetcher {
  /** Digests the peer has shown, on this connection, that it holds (sent or proved). */
  private readonly shown = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();
  private active = 0;
  private readonly queued: (() => void)[] = [];
  private proofUnsupported = false;

  constructor(
    private readonly conn: BlipConnection,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * Obtains the blobs a revision body references; undefined when it references none. Rejects
   * (BlipError) when one cannot be obtained or verified: the revision must then be refused.
   * Callers skip bodies their validation found no blob in (ValidBody.hasBlobs): a search of the
   * text for "@type" would miss a reference whose name is written with escapes.
   */
  ensure(docId: string, bodyJson: string, collectionIndex: number | undefined): Promise<void> | undefined {
    let refs: BlobRef[];
    try {
      refs = findBlobRefs(parseJsonObject(bodyJson, 'revision body'));
    } catch (e) {
      return Promise.reject(isStoreError(e) ? badRequest(e.message) : e);
    }
    if (refs.length === 0) return undefined;
    const unique = new Map(refs.map((r) => [r.digest, r]));
    return Promise.all([...unique.values()].map((ref) => this.obtainOnce(ref, docId, collectionIndex))).then(() => undefined);
  }

  private obtainOnce(ref: BlobRef, docId: string, collectionIndex: number | undefined): Promise<void> {
    const localSize = this.blobs.size(ref.digest);
    if (localSize !== undefined && localSize !== ref.length) {
      return Promise.reject(badRequest(`document ${JSON.stringify(docId)} says blob ${ref.digest} is ${ref.length} bytes; it is ${localSize}`));
    }
    if (localSize !== undefined && this.shown.has(ref.digest)) return Promise.resolve();
    let p = this.pending.get(ref.digest);
    if (!p) {
      p = this.limited(() => this.obtain(ref, docId, collectionIndex)).finally(() => this.pending.delete(ref.digest));
      this.pending.set(ref.digest, p);
    }
    return p;
  }

  private async obtain(ref: BlobRef, docId: string, collectionIndex: number | undefined): Promise<void> {
    if (this.blobs.has(ref.digest) && !this.proofUnsupported && (await this.prove(ref, docId, collectionIndex))) {
      this.shown.add(ref.digest);
      return;
    }
    await this.fetch(ref, docId, collectionIndex);
    this.shown.add(ref.digest);
  }

  /** True when the peer proved it holds the blob; false when it does not answer proveAttachment at all. */
  private async prove(ref: BlobRef, docId: string, collectionIndex: number | undefined): Promise<boolean> {
    const nonce = randomBytes(Tuning.proofNonceBytes);
    let stored = false;
    const expected = blobProof(nonce, (update) => {
      stored = this.blobs.readChunks(ref.digest, update);
    });
    if (!stored) return false; // gone meanwhile: fetch it instead
    let answer: string;
    try {
      const reply = await this.conn.request({ profile: Profile.proveAttachment, properties: this.props(ref, docId, collectionIndex), body: nonce, urgent: true });
      answer = reply.text().trim();
    } catch (e) {
      if (e instanceof BlipError && e.domain === BLIP_ERROR_DOMAIN && e.code === 404) {
        this.proofUnsupported = true;
        return false;
      }
      throw refusal(ref, docId, e);
    }
    if (answer !== expected) throw new BlipError('HTTP', 403, `blob ${ref.digest} of document ${JSON.stringify(docId)} refused: the peer could not prove it holds the content`);
    return true;
  }

  private async fetch(ref: BlobRef, docId: string, collectionIndex: number | undefined): Promise<void> {
    const props = this.props(ref, docId, collectionIndex);
    if (worthCompressing(ref)) props[Prop.compress] = 'true';
    const writer = this.blobs.createWriter();
    try {
      await this.conn.request(
        { profile: Profile.getAttachment, properties: props },
        {
          data: (chunk) => {
            // A peer sending more than the reference announces is refused before it fills the disk.
            if (writer.length + chunk.length > ref.length) throw new BlipError('HTTP', 400, `the peer sent more than the ${ref.length} bytes announced`);
            writer.write(chunk);
          },
        },
      );
      writer.install(ref);
    } catch (e) {
      writer.abort();
      throw refusal(ref, docId, e);
    }
  }

  private props(ref: BlobRef, docId: string, collectionIndex: number | undefined): Record<string, string> {
    const props: Record<string, string> = { [Prop.digest]: ref.digest, [Prop.docID]: docId };
    if (collectionIndex !== undefined) props[Prop.collection] = String(collectionIndex);
    return props;
  }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= Tuning.maxBlobRequestsInFlight) await new Promise<void>((resume) => this.queued.push(resume));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queued.shift()?.();
    }
  }
}

/** Why a revision is refused, as the error its `rev` is answered with. */
function refusal(ref: BlobRef, docId: string, e: unknown): BlipError {
  const what = `blob ${ref.digest} of document ${JSON.stringify(docId)}`;
  if (e instanceof BlipClosedError) return new BlipError('HTTP', 503, `${what} not received: the connection closed`);
  if (isStoreError(e, 'CORRUPT')) return new BlipError('HTTP', 400, `${what} refused: ${e.message}`);
  if (isStoreError(e)) return new BlipError('HTTP', 500, `${what} not saved: ${e.message}`);
  if (e instanceof BlipError) {
    if (e.domain === BLIP_ERROR_DOMAIN && e.code === 404) return new BlipError('HTTP', 404, `${what} not received: the peer does not serve blobs`);
    if (e.domain === 'HTTP' && (e.code === 403 || e.code === 400)) return new BlipError('HTTP', e.code, e.message.startsWith('blob ') ? e.message : `${what} refused: ${e.message}`);
    // Couchbase Lite answers a blob it does not have with its own error domain (LiteCore, not found).
    const notFound = e.domain === LITECORE_DOMAIN && e.code === LITECORE_NOT_FOUND;
    const code = notFound ? 404 : e.domain === 'HTTP' && e.code >= 400 && e.code < 600 ? e.code : 502;
    return new BlipError('HTTP', code, `${what} not received from the peer: ${e.message}`);
  }
  return new BlipError('HTTP', 500, `${what} not received: ${(e as Error)?.message ?? String(e)}`);
}

function worthCompressing(ref: BlobRef): boolean {
  const type = ref.content_type?.toLowerCase();
  return type !== undefined && !INCOMPRESSIBLE_TYPE.test(type) && !MEDIA_TYPE.test(type);
}
