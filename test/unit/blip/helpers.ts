import assert from 'node:assert/strict';
import { BlipConnection, type BlipConnectionOptions } from '../../../server/blip/connection';
import { type BlipCloseInfo, BlipProtocolError } from '../../../server/blip/errors';
import { FrameDecoder, type DecodedFrame } from '../../../server/blip/frame-decoder';
import { assembleFrame } from '../../../server/blip/frame';
import { MemoryTransport, createMemoryTransportPair } from '../../../server/blip/memory-transport';
import type { FrameTransport, TransportCloseInfo, TransportFrame } from '../../../server/blip/transport';
import { encodeVarint } from '../../../server/blip/varint';
import { withTimeout } from '../../helpers/wait';

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Plain-object copy, for deepStrictEqual against literals (decoded properties have no prototype). */
export function plain(record: Readonly<Record<string, string>>): Record<string, string> {
  return { ...record };
}

/** Deterministic bytes (xorshift), incompressible but reproducible. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Deterministic JSON-ish text that compresses to roughly a third. */
export function compressibleText(length: number): string {
  const rand = pseudoRandomBytes(length);
  const words = ['doc', 'rev', 'body', 'seq', 'true', 'false', '"', ':', ',', '{', '}', 'alpha', 'beta', 'gamma'];
  let s = '';
  let i = 0;
  while (s.length < length) {
    const r = rand[i++ % rand.length] as number;
    s += r < 96 ? words[r % words.length] : r.toString(16);
  }
  return s.slice(0, length);
}

export function closeEvent(connection: BlipConnection): Promise<BlipCloseInfo> {
  const existing = connection.closeInfo;
  if (existing) return Promise.resolve(existing);
  return new Promise((resolve) => connection.once('close', resolve));
}

/** A transport wrapper that records every frame the wrapped side sends. */
export class TapTransport implements FrameTransport {
  readonly sent: Uint8Array[] = [];
  constructor(private readonly inner: FrameTransport) {}
  send(frame: Uint8Array): void {
    this.sent.push(frame.slice());
    this.inner.send(frame);
  }
  close(code: number, reason: string): void {
    this.inner.close(code, reason);
  }
  onFrame(listener: (frame: TransportFrame) => void): () => void {
    return this.inner.onFrame(listener);
  }
  onClose(listener: (info: TransportCloseInfo) => void): () => void {
    return this.inner.onClose(listener);
  }
}

/** Two connections over a memory pair; `tapA` records what `a` sends. */
export function connectedPair(optionsA: BlipConnectionOptions = {}, optionsB: BlipConnectionOptions = {}): { a: BlipConnection; b: BlipConnection; tapA: TapTransport; tapB: TapTransport } {
  const [ta, tb] = createMemoryTransportPair();
  const tapA = new TapTransport(ta);
  const tapB = new TapTransport(tb);
  return { a: new BlipConnection(tapA, optionsA), b: new BlipConnection(tapB, optionsB), tapA, tapB };
}

/**
 * The test's hands-on end of a memory pair: sends raw bytes and records (and decodes) what the
 * BlipConnection on the other end sends.
 */
export class RawPeer {
  readonly received: Uint8Array[] = [];
  readonly decoded: DecodedFrame[] = [];
  private readonly decoder = new FrameDecoder();
  private decodeTail: Promise<unknown> = Promise.resolve();
  private waiters: { count: number; resolve: () => void }[] = [];
  readonly closed: Promise<TransportCloseInfo>;

  constructor(readonly transport: MemoryTransport) {
    transport.onFrame((frame) => {
      if (typeof frame === 'string') return;
      this.received.push(frame);
      this.decodeTail = this.decodeTail.then(async () => {
        this.decoded.push(await this.decoder.decode(frame));
        this.wake();
      });
    });
    this.closed = new Promise((resolve) => transport.onClose(resolve));
  }

  /** Resolves once at least `count` frames have been received and decoded. */
  waitForFrames(count: number): Promise<void> {
    if (this.decoded.length >= count) return Promise.resolve();
    return withTimeout(new Promise((resolve) => this.waiters.push({ count, resolve })), `${count} frames`);
  }

  /** Resolves after everything received so far is decoded. */
  async settled(): Promise<void> {
    await this.decodeTail;
  }

  send(bytes: Uint8Array): void {
    this.transport.send(bytes);
  }

  sendAck(msgNo: number, type: 4 | 5, bytesReceived: number): void {
    this.transport.send(assembleFrame(msgNo, type | 0x30, encodeVarint(bytesReceived)));
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => this.decoded.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.decoded.length < w.count);
    for (const w of ready) w.resolve();
  }
}

/** A BlipConnection facing a RawPeer. */
export function connectionWithRawPeer(options: BlipConnectionOptions = {}): { connection: BlipConnection; peer: RawPeer } {
  const [ours, theirs] = createMemoryTransportPair();
  return { connection: new BlipConnection(ours, options), peer: new RawPeer(theirs) };
}

/** For assert.throws / assert.rejects: a BlipProtocolError with this code. */
export function protocolError(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof BlipProtocolError, `expected BlipProtocolError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}
