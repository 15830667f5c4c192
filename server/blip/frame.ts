import { CHECKSUM_SIZE } from './constants';
import { BlipProtocolError } from './errors';
import { tryDecodeVarint, varintLength, writeVarint } from './varint';

/**
 * Frame layout: varint(message number) ‖ varint(flags) ‖ payload ‖ CRC-32 (big-endian, omitted
 * on ACK frames). This module is the pure, stateless part: header and trailer handling. The
 * running checksum and compression, which carry state from frame to frame, live in
 * frame-encoder.ts / frame-decoder.ts.
 */

export const FrameFlag = {
  TypeMask: 0x07,
  Compressed: 0x08,
  Urgent: 0x10,
  NoReply: 0x20,
  MoreComing: 0x40,
} as const;

/** Every flag bit this implementation understands; anything else in a received frame is rejected. */
export const KNOWN_FLAG_BITS = 0x7f;

export const MessageType = {
  MSG: 0,
  RPY: 1,
  ERR: 2,
  ACKMSG: 4,
  ACKRPY: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const TYPE_NAMES: Readonly<Record<MessageType, string>> = {
  [MessageType.MSG]: 'MSG',
  [MessageType.RPY]: 'RPY',
  [MessageType.ERR]: 'ERR',
  [MessageType.ACKMSG]: 'ACKMSG',
  [MessageType.ACKRPY]: 'ACKRPY',
};

export function isMessageType(value: number): value is MessageType {
  return Object.hasOwn(TYPE_NAMES, value);
}

export function messageTypeName(type: MessageType): string {
  return TYPE_NAMES[type];
}

export function isAckType(type: MessageType): boolean {
  return type === MessageType.ACKMSG || type === MessageType.ACKRPY;
}

/** RPY and ERR frames both belong to a reply (they share the request's number). */
export function isReplyType(type: MessageType): boolean {
  return type === MessageType.RPY || type === MessageType.ERR;
}

export interface FrameHeader {
  readonly msgNo: number;
  readonly flags: number;
  readonly type: MessageType;
  /** Bytes taken by the two header varints. */
  readonly headerLength: number;
}

/** Parses and validates the header of a received frame. */
export function parseFrameHeader(frame: Uint8Array): FrameHeader {
  if (frame.length === 0) throw new BlipProtocolError('TRUNCATED_FRAME', 'empty frame');
  const msgNo = tryDecodeVarint(frame, 0);
  if (msgNo === undefined) throw new BlipProtocolError('BAD_VARINT', 'frame ends inside its message number');
  if (msgNo.value === 0) throw new BlipProtocolError('BAD_MESSAGE_NUMBER', 'message number 0 is not valid');
  if (msgNo.length === frame.length) throw new BlipProtocolError('TRUNCATED_FRAME', 'frame has no flags');
  const flags = tryDecodeVarint(frame, msgNo.length);
  if (flags === undefined) throw new BlipProtocolError('BAD_VARINT', 'frame ends inside its flags');
  // Comparing rather than masking: bitwise operators would truncate a huge varint to 32 bits.
  if (flags.value > KNOWN_FLAG_BITS) {
    throw new BlipProtocolError('UNKNOWN_FLAGS', `frame flags 0x${flags.value.toString(16)} include unknown bits`);
  }
  const type = flags.value & FrameFlag.TypeMask;
  if (!isMessageType(type)) {
    throw new BlipProtocolError('UNKNOWN_MESSAGE_TYPE', `frame has unknown message type ${type}`);
  }
  return { msgNo: msgNo.value, flags: flags.value, type, headerLength: msgNo.length + flags.length };
}

export function frameHeaderLength(msgNo: number, flags: number): number {
  return varintLength(msgNo) + varintLength(flags);
}

/**
 * Assembles header ‖ body ‖ checksum. `body` is what travels on the wire (already compressed if
 * the Compressed flag is set); pass `checksum` undefined for ACK frames, which carry none.
 */
export function assembleFrame(msgNo: number, flags: number, body: Uint8Array | readonly Uint8Array[], checksum?: number): Uint8Array {
  const parts: readonly Uint8Array[] = body instanceof Uint8Array ? [body] : body;
  let bodyLength = 0;
  for (const part of parts) bodyLength += part.length;
  const headerLength = frameHeaderLength(msgNo, flags);
  // Pooled: most frames are small, and a fresh ArrayBuffer each would make V8 collect its young
  // generation far more often (it counts every backing store as external memory pressure).
  const out = Buffer.allocUnsafe(headerLength + bodyLength + (checksum === undefined ? 0 : CHECKSUM_SIZE));
  let pos = writeVarint(flags, out, writeVarint(msgNo, out, 0));
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  if (checksum !== undefined) writeChecksum(out, pos, checksum);
  return out;
}

/** Big-endian, written byte by byte (no DataView to allocate per frame). */
export function writeChecksum(target: Uint8Array, offset: number, checksum: number): void {
  target[offset] = checksum >>> 24;
  target[offset + 1] = (checksum >>> 16) & 0xff;
  target[offset + 2] = (checksum >>> 8) & 0xff;
  target[offset + 3] = checksum & 0xff;
}

export function readChecksum(source: Uint8Array, offset: number): number {
  return ((source[offset]! << 24) | (source[offset + 1]! << 16) | (source[offset + 2]! << 8) | source[offset + 3]!) >>> 0;
}

/** Human-readable flags, for logs and error messages: e.g. "MSG #3 MUZ". */
export function describeFrame(msgNo: number, flags: number): string {
  const type = flags & FrameFlag.TypeMask;
  const name = isMessageType(type) ? messageTypeName(type) : `type${type}`;
  const marks = (flags & FrameFlag.MoreComing ? 'M' : '') + (flags & FrameFlag.Urgent ? 'U' : '') + (flags & FrameFlag.NoReply ? 'N' : '') + (flags & FrameFlag.Compressed ? 'Z' : '');
  return `${name} #${msgNo}${marks ? ' ' + marks : ''}`;
}
