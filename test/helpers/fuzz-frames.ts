/**
 * Generators for BLIP frames that know the layout (varint msgNo ‖ varint flags ‖ payload ‖ CRC-32)
 * and break one part of it at a time, plus a framer that keeps the running checksum and deflate
 * context a real peer would, so a script can mix valid frames with broken ones.
 */
import { crc32 } from 'node:zlib';
import { Deflater, stripSyncFlushTrailer } from '../../server/blip/compression';
import { FrameFlag, MessageType, assembleFrame } from '../../server/blip/frame';
import { encodeVarint, writeVarint } from '../../server/blip/varint';
import type { Rng } from './fuzz';

/** Unsigned LEB128 of any size (BigInt), including values no JavaScript number holds exactly. */
export function bigVarint(value: bigint): Uint8Array {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    out.push(byte);
  } while (rest > 0n);
  return Uint8Array.from(out);
}

/** A varint that is odd in some way: overlong, out of range, padded, unterminated, or just huge. */
export function oddVarint(rng: Rng): Uint8Array {
  switch (rng.int(6)) {
    case 0:
      return Uint8Array.from([...new Array<number>(rng.range(10, 14)).fill(0x80), 0x01]); // too many bytes
    case 1:
      return bigVarint(2n ** 53n + BigInt(rng.int(1000))); // beyond 2^53-1
    case 2:
      return bigVarint(2n ** 64n - 1n);
    case 3:
      return Uint8Array.of(0x80 | rng.int(128), 0x80); // padded, then cut off
    case 4:
      return Uint8Array.of(0x80, 0x00); // zero written in two bytes
    default:
      return encodeVarint(rng.pick([0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER]));
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

/**
 * A properties block (without its length prefix): well-formed, or broken in a way the decoder must
 * notice (no final NUL, odd count, invalid UTF-8, NUL-free, huge, duplicate keys, odd keys).
 */
export function propertiesBlock(rng: Rng, base: Readonly<Record<string, string>>): Uint8Array {
  const text = Object.entries(base)
    .map(([k, v]) => `${k}\0${v}\0`)
    .join('');
  const good = Buffer.from(text, 'utf8');
  switch (
    rng.weighted<number>([
      [8, 0],
      [1, 1],
      [1, 2],
      [1, 3],
      [1, 4],
      [1, 5],
      [1, 6],
      [1, 7],
    ])
  ) {
    case 0:
      return good;
    case 1:
      return good.subarray(0, Math.max(0, good.length - 1 - rng.int(3))); // final NUL(s) gone
    case 2:
      return concat([good, Buffer.from('dangling\0', 'utf8')]); // key without value
    case 3:
      return concat([good, Uint8Array.of(0xc3, 0x28, 0, 0x78, 0)]); // invalid UTF-8 in a key
    case 4:
      return rng.bytes(rng.size(64)).map((b) => b || 1); // no NUL at all
    case 5:
      return concat([good, Buffer.from('Profile\0other\0__proto__\0x\0constructor\0y\0\0\0', 'utf8')]); // duplicates, odd keys, empty pair
    case 6:
      return Buffer.alloc(100 * 1024 + rng.range(1, 64), 0x41); // over the 100 KiB limit
    default:
      return rng.bytes(rng.size(256));
  }
}

/** varint(length) ‖ properties ‖ body, as a well-behaved peer sends it. */
export function plainPayload(properties: Readonly<Record<string, string>>, body: Uint8Array): Uint8Array {
  const props = Buffer.from(
    Object.entries(properties)
      .map(([k, v]) => `${k}\0${v}\0`)
      .join(''),
    'utf8',
  );
  return concat([encodeVarint(props.length), props, body]);
}

/** varint(length) ‖ properties ‖ body, with the length sometimes lying. */
export function messagePayload(rng: Rng, props: Uint8Array, body: Uint8Array): Uint8Array {
  const lengthField = rng.weighted<Uint8Array>([
    [10, encodeVarint(props.length)],
    [1, encodeVarint(props.length + rng.range(1, 1000))], // runs past the end
    [1, encodeVarint(Math.max(0, props.length - rng.range(1, 8)))], // cuts the properties short
    [1, oddVarint(rng)],
    [1, new Uint8Array(0)], // no length at all
  ]);
  return concat([lengthField, props, body]);
}

/**
 * The sending state of one direction: message numbers, the running CRC-32, and the deflate
 * context, as a peer keeps them. Frames it produces are valid unless mutated afterwards.
 */
export class Framer {
  private crc = 0;
  private deflater: Deflater | undefined;
  nextRequest = 1;

  /** One frame whose checksum continues the running one; compressed frames deflate `chunk` first. */
  async frame(msgNo: number, flags: number, chunk: Uint8Array): Promise<Uint8Array> {
    // An empty compressed frame carries no deflate data at all (zlib cannot flush nothing twice).
    if ((flags & FrameFlag.Compressed) !== 0 && chunk.length > 0) {
      this.deflater ??= new Deflater(6);
      const deflated = stripSyncFlushTrailer(await this.deflater.deflate(chunk));
      this.crc = crc32(chunk, this.crc);
      return assembleFrame(msgNo, flags, deflated, this.crc);
    }
    this.crc = crc32(chunk, this.crc);
    return assembleFrame(msgNo, flags, chunk, this.crc);
  }

  /** A whole message as frames: `pieces` chunks, every one but the last flagged MoreComing. */
  async message(msgNo: number, flags: number, payload: Uint8Array, pieces: number): Promise<Uint8Array[]> {
    const frames: Uint8Array[] = [];
    const step = Math.max(1, Math.ceil(payload.length / Math.max(1, pieces)));
    let offset = 0;
    do {
      const chunk = payload.subarray(offset, offset + step);
      offset += chunk.length;
      const more = offset < payload.length;
      frames.push(await this.frame(msgNo, more ? flags | FrameFlag.MoreComing : flags & ~FrameFlag.MoreComing, chunk));
    } while (offset < payload.length);
    return frames;
  }

  /** A frame with no valid checksum continuation: what a peer that lost its state would send. */
  stale(msgNo: number, flags: number, chunk: Uint8Array): Uint8Array {
    return assembleFrame(msgNo, flags, chunk, crc32(chunk, 0) ^ 0x5a5a5a5a);
  }

  ack(msgNo: number, type: typeof MessageType.ACKMSG | typeof MessageType.ACKRPY, body: Uint8Array): Uint8Array {
    return assembleFrame(msgNo, type | FrameFlag.Urgent | FrameFlag.NoReply, body);
  }

  close(): void {
    this.deflater?.close();
    this.deflater = undefined;
  }
}

/** Ways to break a valid frame; each name says what the decoder sees. */
export type FrameMutation = 'flip-bit' | 'truncate' | 'append' | 'bad-checksum' | 'header-varint' | 'unknown-flags' | 'unknown-type' | 'compressed-garbage' | 'empty' | 'random';

/** Breaks `frame` (a valid one) in one way; returns the result and what was done. */
export function mutateFrame(rng: Rng, frame: Uint8Array): { bytes: Uint8Array; mutation: FrameMutation } {
  const mutation = rng.pick<FrameMutation>(['flip-bit', 'truncate', 'append', 'bad-checksum', 'header-varint', 'unknown-flags', 'unknown-type', 'compressed-garbage', 'empty', 'random']);
  const copy = Uint8Array.from(frame);
  switch (mutation) {
    case 'flip-bit': {
      const i = rng.int(copy.length);
      copy[i] = (copy[i] as number) ^ (1 << rng.int(8));
      return { bytes: copy, mutation };
    }
    case 'truncate':
      return { bytes: copy.subarray(0, rng.int(copy.length)), mutation };
    case 'append':
      return { bytes: concat([copy, rng.bytes(rng.range(1, 64))]), mutation };
    case 'bad-checksum': {
      const at = Math.max(0, copy.length - 4);
      copy[at] = (copy[at] as number) ^ 0xff;
      return { bytes: copy, mutation };
    }
    case 'header-varint':
      return { bytes: concat([oddVarint(rng), rng.chance(0.5) ? oddVarint(rng) : encodeVarint(rng.int(0x80)), copy.subarray(2)]), mutation };
    case 'unknown-flags': {
      const flags = rng.pick([0x80, 0x100, 0xff, 2 ** 40]);
      const head = new Uint8Array(16);
      const end = writeVarint(flags, head, writeVarint(rng.range(1, 5), head, 0));
      return { bytes: concat([head.subarray(0, end), copy.subarray(2)]), mutation };
    }
    case 'unknown-type':
      return { bytes: concat([encodeVarint(rng.range(1, 5)), encodeVarint(rng.pick([3, 6, 7, 0x43, 0x0f])), copy.subarray(2)]), mutation };
    case 'compressed-garbage':
      return { bytes: concat([encodeVarint(1), encodeVarint(MessageType.MSG | FrameFlag.Compressed), rng.bytes(rng.size(300)), rng.bytes(4)]), mutation };
    case 'empty':
      return { bytes: new Uint8Array(0), mutation };
    default:
      return { bytes: rng.bytes(rng.size(200)), mutation };
  }
}
