import { BlipProtocolError } from './errors';

/**
 * Unsigned LEB128 varints, as BLIP uses for message numbers, flags, property lengths and ACK
 * counts. JavaScript numbers are exact only up to 2^53-1, so that is the largest value accepted in
 * either direction; a 64-bit peer never legitimately needs more (message numbers and byte counts
 * stay far below it).
 */

/** A 64-bit varint needs at most 10 bytes; anything longer is malformed. */
export const MAX_VARINT_BYTES = 10;

export interface VarintRead {
  readonly value: number;
  /** Bytes the varint occupied. */
  readonly length: number;
}

function checkEncodable(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`);
  }
}

export function varintLength(value: number): number {
  checkEncodable(value);
  let length = 1;
  // Division rather than >>> because bitwise operators truncate to 32 bits.
  for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) length++;
  return length;
}

/** Writes `value` at `offset`; returns the offset just past it. */
export function writeVarint(value: number, target: Uint8Array, offset: number): number {
  checkEncodable(value);
  let rest = value;
  let pos = offset;
  while (rest >= 0x80) {
    target[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[pos++] = rest;
  return pos;
}

export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(value, out, 0);
  return out;
}

/**
 * Reads a varint, or returns undefined if `bytes` ends before the varint does (so a caller
 * collecting data across frames can wait for more). Overlong or out-of-range encodings throw.
 */
export function tryDecodeVarint(bytes: Uint8Array, offset = 0): VarintRead | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const pos = offset + i;
    if (pos >= bytes.length) return undefined;
    const byte = bytes[pos] as number;
    value += (byte & 0x7f) * scale;
    // Adding exact powers-of-two multiples rounds monotonically, so any true sum above the limit
    // still compares above it even where the double loses precision.
    if (value > Number.MAX_SAFE_INTEGER) {
      throw new BlipProtocolError('BAD_VARINT', 'varint exceeds 2^53-1');
    }
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
    scale *= 128;
  }
  throw new BlipProtocolError('BAD_VARINT', `varint longer than ${MAX_VARINT_BYTES} bytes`);
}

/** Reads a varint that must be complete within `bytes`. */
export function decodeVarint(bytes: Uint8Array, offset = 0, what = 'varint'): VarintRead {
  const read = tryDecodeVarint(bytes, offset);
  if (read === undefined) {
    throw new BlipProtocolError('BAD_VARINT', `truncated ${what}`);
  }
  return read;
}
