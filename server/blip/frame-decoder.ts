import { crc32 } from 'node:zlib';
import { CHECKSUM_SIZE, DEFAULT_MAX_INFLATED_FRAME_SIZE } from './constants';
import { BlipProtocolError } from './errors';
import { WindowedInflater } from './windowed-inflater';
import { type FrameHeader, FrameFlag, MessageType, describeFrame, isAckType, parseFrameHeader, readChecksum } from './frame';

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
  private inflater: WindowedInflater | undefined;
  private readonly maxInflated: number;
  private tail: Promise<unknown> = Promise.resolve();
  /** Asynchronous decodes not yet finished: while any is, frames must queue behind it. */
  private inProgress = 0;
  private failure: Error | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxInflated = options.maxInflatedFrameSize ?? DEFAULT_MAX_INFLATED_FRAME_SIZE;
  }

  /** Running CRC-32 after the last frame decoded. */
  get checksum(): number {
    return this.crc;
  }

  /**
   * Decodes a frame at once, compressed or not, unless a decode() call is still pending ahead of
   * it (then undefined: the caller uses decode(), which keeps the order). Frames so skip a
   * promise each.
   */
  decodeSync(frame: Uint8Array): DecodedFrame | undefined {
    if (this.inProgress > 0) return undefined;
    return this.decodeNow(frame);
  }

  decode(frame: Uint8Array): Promise<DecodedFrame> {
    this.inProgress++;
    const result = this.tail.then(() => this.decodeNow(frame));
    this.tail = result.catch(() => undefined).finally(() => this.inProgress--);
    return result;
  }

  close(): void {
    this.failure ??= new Error('frame decoder is closed');
    this.inflater = undefined;
  }

  private decodeNow(frame: Uint8Array): DecodedFrame {
    if (this.failure) throw this.failure;
    try {
      const header = parseFrameHeader(frame);
      let inflated: Uint8Array | undefined;
      if ((header.flags & FrameFlag.Compressed) !== 0 && !isAckType(header.type)) {
        this.inflater ??= new WindowedInflater();
        inflated = this.inflater.inflate(frameBody(frame, header), this.maxInflated);
      }
      return this.finish(frame, header, inflated);
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  }

  /** Checks the running checksum over the frame's data (`inflated`, for a compressed frame) and describes the frame. */
  private finish(frame: Uint8Array, header: FrameHeader, inflated: Uint8Array | undefined): DecodedFrame {
    const { msgNo, flags, type, headerLength } = header;
    const ack = isAckType(type);
    let payload: Uint8Array;
    if (ack) {
      payload = frame.subarray(headerLength);
    } else {
      payload = inflated ?? frameBody(frame, header);
      const expected = readChecksum(frame, frame.length - CHECKSUM_SIZE);
      this.crc = crc32(payload, this.crc);
      if (this.crc !== expected) {
        throw new BlipProtocolError('BAD_CHECKSUM', `checksum mismatch on ${describeFrame(msgNo, flags)}: frame says ${hex32(expected)}, data gives ${hex32(this.crc)}`);
      }
    }
    return {
      msgNo,
      flags,
      type,
      payload,
      wireLength: frame.length - headerLength,
      moreComing: (flags & FrameFlag.MoreComing) !== 0,
      compressed: inflated !== undefined,
      urgent: (flags & FrameFlag.Urgent) !== 0,
      noReply: (flags & FrameFlag.NoReply) !== 0,
    };
  }
}

/** The data between header and checksum (as sent: still compressed if the frame is). */
function frameBody(frame: Uint8Array, header: FrameHeader): Uint8Array {
  if (frame.length - header.headerLength < CHECKSUM_SIZE) {
    throw new BlipProtocolError('TRUNCATED_FRAME', `${describeFrame(header.msgNo, header.flags)} is too short to hold its checksum`);
  }
  return frame.subarray(header.headerLength, frame.length - CHECKSUM_SIZE);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
