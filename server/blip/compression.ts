import * as zlib from 'node:zlib';
import { BlipProtocolError } from './errors';

/**
 * BLIP 3 compresses frame by frame through ONE deflate context per direction: each compressed
 * frame continues the stream of the previous one, so the receiver must feed every compressed
 * frame, in order, through ONE inflate context too.
 *
 * Node's one-shot helpers (deflateRawSync, …) start a fresh context per call, so they cannot do
 * this. The documented way to keep a context alive is a zlib stream: write the data, then
 * flush(Z_SYNC_FLUSH) and collect what the stream emitted before the flush callback fires
 * (the same pattern the `ws` library relies on for permessage-deflate). That is asynchronous, so
 * each context runs one operation at a time, strictly in call order.
 */

/** What a Z_SYNC_FLUSH always ends with. BLIP strips it from the wire and the receiver re-adds it. */
export const SYNC_FLUSH_TRAILER: Uint8Array = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

type FlateStream = zlib.DeflateRaw | zlib.InflateRaw;

interface Job {
  readonly chunks: Buffer[];
  size: number;
  readonly limit: number;
  readonly resolve: (output: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** One long-lived zlib context that processes write+sync-flush jobs one at a time. */
class SerialFlateContext {
  private tail: Promise<unknown> = Promise.resolve();
  private job: Job | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly stream: FlateStream,
    private readonly wrapError: (error: Error) => Error,
    private readonly limitError: (limit: number) => Error,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    // Without an 'error' listener a corrupt input would crash the process.
    stream.on('error', (error: Error) => this.fail(this.wrapError(error)));
  }

  /** Runs `input` through the context and sync-flushes it. Output is capped at `limit` bytes. */
  process(input: Uint8Array, limit: number): Promise<Uint8Array> {
    const result = this.tail.then(() => this.start(input, limit));
    // Keep the queue going whatever this job's outcome; the caller handles the rejection.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Frees the zlib context. Jobs still queued reject. */
  close(): void {
    this.fail(new Error('compression context closed'));
  }

  private start(input: Uint8Array, limit: number): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Uint8Array>((resolve, reject) => {
      const job: Job = { chunks: [], size: 0, limit, resolve, reject };
      this.job = job;
      this.stream.write(input);
      this.stream.flush(zlib.constants.Z_SYNC_FLUSH, (error?: Error | null) => {
        // A failed or destroyed stream may still call back; the job was settled by fail().
        if (this.job !== job) return;
        if (error) {
          this.fail(this.wrapError(error));
          return;
        }
        this.job = undefined;
        resolve(job.chunks.length === 1 ? (job.chunks[0] as Buffer) : Buffer.concat(job.chunks, job.size));
      });
    });
  }

  private onData(chunk: Buffer): void {
    const job = this.job;
    if (!job) return;
    job.size += chunk.length;
    if (job.size > job.limit) {
      this.fail(this.limitError(job.limit));
      return;
    }
    job.chunks.push(chunk);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const job = this.job;
    this.job = undefined;
    job?.reject(error);
    // The context is unusable after an error (its history is lost), so release it now.
    this.stream.destroy();
  }
}

/** The outgoing half: one raw-deflate context shared by all compressed frames sent. */
export class Deflater {
  private readonly context: SerialFlateContext;

  constructor(level: number) {
    this.context = new SerialFlateContext(
      zlib.createDeflateRaw({ level }),
      (error) => new Error(`deflate failed: ${error.message}`, { cause: error }),
      () => new Error('deflate output limit exceeded'),
    );
  }

  /**
   * Compresses `input` and sync-flushes. The result ends with SYNC_FLUSH_TRAILER, which the
   * caller strips from the frame it sends (see stripSyncFlushTrailer).
   */
  deflate(input: Uint8Array): Promise<Uint8Array> {
    if (input.length === 0) {
      // zlib reports "no progress" for an empty flush after a flush; nothing to send anyway.
      return Promise.reject(new RangeError('cannot deflate an empty chunk'));
    }
    return this.context.process(input, Number.POSITIVE_INFINITY);
  }

  close(): void {
    this.context.close();
  }
}

/** The incoming half: one raw-inflate context shared by all compressed frames received. */
export class Inflater {
  private readonly context: SerialFlateContext;

  constructor() {
    this.context = new SerialFlateContext(
      zlib.createInflateRaw(),
      (error) => new BlipProtocolError('BAD_COMPRESSED_DATA', `invalid deflate data: ${error.message}`, { cause: error }),
      (limit) => new BlipProtocolError('INFLATE_LIMIT', `compressed frame inflates to more than ${limit} bytes`),
    );
  }

  /**
   * Inflates one frame body as received (trailer stripped). Rejects with a BlipProtocolError if
   * the data is corrupt or would inflate beyond `maxOutput` bytes.
   */
  inflate(frameBody: Uint8Array, maxOutput: number): Promise<Uint8Array> {
    // A compressed frame with no body carries no data; feeding the bare trailer to zlib would be
    // an invalid block.
    if (frameBody.length === 0) return Promise.resolve(new Uint8Array(0));
    const input = new Uint8Array(frameBody.length + SYNC_FLUSH_TRAILER.length);
    input.set(frameBody, 0);
    input.set(SYNC_FLUSH_TRAILER, frameBody.length);
    return this.context.process(input, maxOutput);
  }

  close(): void {
    this.context.close();
  }
}

/** Removes the `00 00 FF FF` a sync flush leaves at the end, as BLIP requires. */
export function stripSyncFlushTrailer(deflated: Uint8Array): Uint8Array {
  const n = deflated.length;
  const t = SYNC_FLUSH_TRAILER;
  if (n < t.length || deflated[n - 4] !== t[0] || deflated[n - 3] !== t[1] || deflated[n - 2] !== t[2] || deflated[n - 1] !== t[3]) {
    throw new Error('deflate output does not end with a sync-flush marker');
  }
  return deflated.subarray(0, n - t.length);
}
