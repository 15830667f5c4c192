import { crc32 } from 'node:zlib';
import { BIG_FRAME_SIZE, CHECKSUM_SIZE, DEFAULT_COMPRESSION_LEVEL } from './constants';
import { Deflater, stripSyncFlushTrailer } from './compression';
import { FrameFlag, MessageType, assembleFrame, frameHeaderLength } from './frame';
import { encodeVarint } from './varint';

/**
 * The sending direction's frame state: the running CRC-32 over every uncompressed payload byte
 * sent, and the shared deflate context. Frames must be produced in the order they are sent, so
 * calls are serialised internally.
 */

export interface EncodedFrame {
  readonly bytes: Uint8Array;
  /** Bytes of the message payload this frame carries (before compression). */
  readonly consumed: number;
  readonly moreComing: boolean;
  /** Bytes after the header (payload on the wire + checksum): the unit flow control counts. */
  readonly wireLength: number;
}

export interface FrameEncoderOptions {
  /** zlib level for compressed frames; 0 means never create a deflate context. */
  readonly compressionLevel?: number | undefined;
}

/** Keep going until less than this much room is left in a compressed frame (LiteCore's rule). */
const MIN_COMPRESSED_ROOM = 1024;

/**
 * Largest input that deflate is guaranteed to fit into `room` bytes, sync flush included.
 * Incompressible input grows by 5 bytes per stored block (a block at least every ~16 KiB), plus
 * the 4–5 byte flush marker; the reserve below is several times that, so a frame can never
 * overflow however the data compresses.
 */
function maxInputFor(room: number): number {
  return room - 64 - (room >> 7);
}

export class FrameEncoder {
  private crc = 0;
  private deflater: Deflater | undefined;
  private readonly level: number;
  private tail: Promise<unknown> = Promise.resolve();
  /** Asynchronous encodes not yet finished: a synchronous one must not overtake them. */
  private inProgress = 0;
  private closed = false;

  constructor(options: FrameEncoderOptions = {}) {
    this.level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  }

  /** Running CRC-32 after the last frame encoded. */
  get checksum(): number {
    return this.crc;
  }

  get canCompress(): boolean {
    return this.level > 0;
  }

  /**
   * Encodes the next frame of `payload` starting at `offset`, at most `maxFrameSize` bytes in
   * total. `flags` are the message's flags (type, Urgent, NoReply, Compressed); MoreComing is
   * added when payload remains.
   */
  encodeFrame(msgNo: number, flags: number, payload: Uint8Array, offset: number, maxFrameSize = BIG_FRAME_SIZE): Promise<EncodedFrame> {
    this.inProgress++;
    const result = this.tail.then(() => this.encodeNow(msgNo, flags & ~FrameFlag.MoreComing, payload, offset, maxFrameSize));
    this.tail = result.catch(() => undefined).finally(() => this.inProgress--);
    return result;
  }

  /**
   * encodeFrame() without the promise, for a frame that will not be compressed when no compressed
   * frame is still being encoded ahead of it; undefined otherwise (then use encodeFrame()).
   */
  encodeSync(msgNo: number, flags: number, payload: Uint8Array, offset: number, maxFrameSize = BIG_FRAME_SIZE): EncodedFrame | undefined {
    if (this.inProgress > 0 || ((flags & FrameFlag.Compressed) !== 0 && this.canCompress)) return undefined;
    if (this.closed) throw new Error('frame encoder is closed');
    const { headerLength, capacity } = this.frameRoom(msgNo, flags & ~FrameFlag.MoreComing, payload, offset, maxFrameSize);
    return this.plainFrame(msgNo, flags & ~(FrameFlag.MoreComing | FrameFlag.Compressed), payload, offset, headerLength, capacity);
  }

  /** ACK frames carry a byte count, no checksum, and bypass compression and the CRC. */
  encodeAck(msgNo: number, type: typeof MessageType.ACKMSG | typeof MessageType.ACKRPY, bytesReceived: number): Uint8Array {
    return assembleFrame(msgNo, type | FrameFlag.Urgent | FrameFlag.NoReply, encodeVarint(bytesReceived));
  }

  close(): void {
    this.closed = true;
    this.deflater?.close();
    this.deflater = undefined;
  }

  private async encodeNow(msgNo: number, flags: number, payload: Uint8Array, offset: number, maxFrameSize: number): Promise<EncodedFrame> {
    if (this.closed) throw new Error('frame encoder is closed');
    const { headerLength, capacity } = this.frameRoom(msgNo, flags, payload, offset, maxFrameSize);
    if ((flags & FrameFlag.Compressed) === 0 || !this.canCompress) {
      return this.plainFrame(msgNo, flags & ~FrameFlag.Compressed, payload, offset, headerLength, capacity);
    }
    const parts: Uint8Array[] = [];
    let consumed = 0;
    this.deflater ??= new Deflater(this.level);
    let room = capacity;
    // Feed chunks that are certain to fit, flushing after each, until the frame is nearly full.
    // Intermediate flush markers stay in the frame; they are valid (empty) deflate blocks.
    while (offset + consumed < payload.length) {
      const budget = maxInputFor(room);
      if (budget < MIN_COMPRESSED_ROOM && consumed > 0) break;
      const chunk = payload.subarray(offset + consumed, offset + consumed + budget);
      const deflated = await this.deflater.deflate(chunk);
      this.crc = crc32(chunk, this.crc);
      parts.push(deflated);
      room -= deflated.length;
      consumed += chunk.length;
      if (room < MIN_COMPRESSED_ROOM) break;
    }
    const last = parts.length - 1;
    if (last >= 0) parts[last] = stripSyncFlushTrailer(parts[last] as Uint8Array);

    const moreComing = offset + consumed < payload.length;
    const frameFlags = moreComing ? flags | FrameFlag.MoreComing : flags;
    const bytes = assembleFrame(msgNo, frameFlags, parts, this.crc);
    return { bytes, consumed, moreComing, wireLength: bytes.length - headerLength };
  }

  private frameRoom(msgNo: number, flags: number, payload: Uint8Array, offset: number, maxFrameSize: number): { headerLength: number; capacity: number } {
    // MoreComing (0x40) keeps flags below 0x80, so the header length is the same with or without it.
    const headerLength = frameHeaderLength(msgNo, flags | FrameFlag.MoreComing);
    const capacity = maxFrameSize - headerLength - CHECKSUM_SIZE;
    if (capacity < MIN_COMPRESSED_ROOM) throw new RangeError(`frame size ${maxFrameSize} is too small`);
    if (offset >= payload.length && !(offset === 0 && payload.length === 0)) {
      throw new RangeError('no payload left to encode');
    }
    return { headerLength, capacity };
  }

  /** The next `capacity` bytes of the payload as they are. */
  private plainFrame(msgNo: number, flags: number, payload: Uint8Array, offset: number, headerLength: number, capacity: number): EncodedFrame {
    const chunk = payload.subarray(offset, offset + capacity);
    this.crc = crc32(chunk, this.crc);
    const moreComing = offset + chunk.length < payload.length;
    const bytes = assembleFrame(msgNo, moreComing ? flags | FrameFlag.MoreComing : flags, chunk, this.crc);
    return { bytes, consumed: chunk.length, moreComing, wireLength: bytes.length - headerLength };
  }
}
