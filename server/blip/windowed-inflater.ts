import * as zlib from 'node:zlib';
import { SYNC_FLUSH_TRAILER } from './compression';
import { BlipProtocolError } from './errors';

/** Deflate back-references reach at most this far back (32 KiB window, RFC 1951 §3.2.5). */
const WINDOW = 32 * 1024;
/** History buffer: several windows, so the kept window is moved back only once in a while. */
const HISTORY_BYTES = 4 * WINDOW;

/**
 * The receiving direction's inflate context, synchronous. A BLIP peer compresses every frame
 * through one deflate stream and sync-flushes at the end of each, so a frame starts a fresh
 * block and depends on earlier frames only through the last 32 KiB they inflated to. Inflating
 * each frame on its own with that history as the preset dictionary therefore gives exactly what
 * one long-lived context would, without a round trip to the thread pool per frame: a streaming
 * zlib context in Node is asynchronous, and a peer that compresses every `rev` (LiteCore does)
 * would otherwise have each of its frames wait for the previous one's callback.
 */
export class WindowedInflater {
  private readonly history = Buffer.allocUnsafe(HISTORY_BYTES);
  private end = 0;

  /**
   * Inflates one frame body as received (trailer stripped). Throws a BlipProtocolError if the data
   * is corrupt or would inflate beyond `maxOutput` bytes; the context is unusable afterwards.
   */
  inflate(frameBody: Uint8Array, maxOutput: number): Uint8Array {
    if (frameBody.length === 0) return new Uint8Array(0);
    const input = Buffer.allocUnsafe(frameBody.length + SYNC_FLUSH_TRAILER.length);
    input.set(frameBody, 0);
    input.set(SYNC_FLUSH_TRAILER, frameBody.length);
    const window = this.history.subarray(Math.max(0, this.end - WINDOW), this.end);
    let output: Buffer;
    try {
      output = zlib.inflateRawSync(input, {
        // The frame ends at a sync-flush point, not at the stream's final block.
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: Math.max(1, maxOutput),
        ...(window.length > 0 ? { dictionary: window } : {}),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new BlipProtocolError('INFLATE_LIMIT', `compressed frame inflates to more than ${maxOutput} bytes`, { cause: error });
      }
      throw new BlipProtocolError('BAD_COMPRESSED_DATA', `invalid deflate data: ${(error as Error).message}`, { cause: error });
    }
    if (output.length > maxOutput) throw new BlipProtocolError('INFLATE_LIMIT', `compressed frame inflates to more than ${maxOutput} bytes`);
    this.remember(output);
    return output;
  }

  private remember(output: Uint8Array): void {
    if (output.length >= WINDOW) {
      this.history.set(output.subarray(output.length - WINDOW), 0);
      this.end = WINDOW;
      return;
    }
    if (this.end + output.length > HISTORY_BYTES) {
      this.history.copy(this.history, 0, this.end - WINDOW, this.end);
      this.end = WINDOW;
    }
    this.history.set(output, this.end);
    this.end += output.length;
  }
}
