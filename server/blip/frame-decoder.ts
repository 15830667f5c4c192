import { crc32 } from 'node:zlib';
import { CHECKSUM_SIZE, DEFAULT_MAX_INFLATED_FRAME_SIZE } from './constants';
import { Inflater } from './compression';
import { BlipProtocolError } from './errors';
import { FrameFlag, MessageType, describeFrame, isAckType, parseFrameHeader, readChecksum } from './frame';

/**
 * The receiving direction's frame state: the running CRC-32 the peer's checksums must match, and
 * the shared inflate context. Frames must be decoded in arrival order, so calls are serialised
 * internally; once a frame fails, the direction is unusable (checksum and inflate history are
 * lost), so every later call fails too.
 */

export interface DecodedFrame {
  readonly msgNo: number;
  readonly flags: number;
  readonly type: MessageType;
  /** Uncompressed message data carried by the frame (for ACKs: the raw ACK body). */
  readonly payload: Uint8Array;
  /** Bytes after the header (payload as sent + checksum): what flow control counts. */
  readonly wireLength: number;
  readonly moreComing: boolean;
  readonly compressed: boolean;
  readonly urgent: boolean;
  readonly noReply: boolean;
}

export interface FrameDecoderOptions {
  /** Cap on what one compressed frame may inflate to. */
  readonly maxInflatedFrameSize?: number | undefined;
}

export class FrameDecoder {
  private crc = 0;
  private inflater: Inflater | undefined;
  private readonly maxInflated: number;
  private tail: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxInflated = options.maxInflatedFrameSize ?? DEFAULT_MAX_INFLATED_FRAME_SIZE;
  }

  /** Running CRC-32 after the last frame decoded. */
  get checksum(): number {
    return this.crc;
  }

  decode(frame: Uint8Array): Promise<DecodedFrame> {
    const result = this.tail.then(() => this.decodeNow(frame));
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.failure ??= new Error('frame decoder is closed');
    this.inflater?.close();
    this.inflater = undefined;
  }

  private async decodeNow(frame: Uint8Array): Promise<DecodedFrame> {
    if (this.failure) throw this.failure;
    try {
      return await this.decodeFrame(frame);
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  }

  private async decodeFrame(frame: Uint8Array): Promise<DecodedFrame> {
    const header = parseFrameHeader(frame);
    const { msgNo, flags, type, headerLength } = header;
    const base = {
      msgNo,
      flags,
      type,
      wireLength: frame.length - headerLength,
      moreComing: (flags & FrameFlag.MoreComing) !== 0,
      urgent: (flags & FrameFlag.Urgent) !== 0,
      noReply: (flags & FrameFlag.NoReply) !== 0,
    };
    if (isAckType(type)) {
      return { ...base, payload: frame.subarray(headerLength), compressed: false };
    }
    if (frame.length - headerLength < CHECKSUM_SIZE) {
      throw new BlipProtocolError('TRUNCATED_FRAME', `${describeFrame(msgNo, flags)} is too short to hold its checksum`);
    }
    const bodyEnd = frame.length - CHECKSUM_SIZE;
    const body = frame.subarray(headerLength, bodyEnd);
    const expected = readChecksum(frame, bodyEnd);
    const compressed = (flags & FrameFlag.Compressed) !== 0;
    let payload = body;
    if (compressed) {
      this.inflater ??= new Inflater();
      payload = await this.inflater.inflate(body, this.maxInflated);
    }
    this.crc = crc32(payload, this.crc);
    if (this.crc !== expected) {
      throw new BlipProtocolError(
        'BAD_CHECKSUM',
        `checksum mismatch on ${describeFrame(msgNo, flags)}: frame says ${hex32(expected)}, data gives ${hex32(this.crc)}`,
      );
    }
    return { ...base, payload, compressed };
  }
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
