import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FrameTransport, TransportCloseInfo, TransportFrame } from '../../server/blip/transport';
import { waitForCondition } from '../helpers/wait';

/** Two connected ends of one transport, as a factory makes them for each test. */
export interface TransportPair {
  readonly a: FrameTransport;
  readonly b: FrameTransport;
  /** Delivers a text message from `a` to `b`, when the medium can carry text at all. */
  readonly sendTextFromA?: (text: string) => void;
  /** Releases whatever the pair holds (sockets, servers); runs after every test. */
  readonly dispose?: () => Promise<void> | void;
}

const WAIT_MS = 10_000;

/** Everything one end hears, with a way to wait for more of it. */
class Recorder {
  readonly frames: TransportFrame[] = [];
  readonly closes: TransportCloseInfo[] = [];
  private readonly watchers = new Set<() => void>();

  constructor(transport: FrameTransport) {
    transport.onFrame((frame) => {
      this.frames.push(frame);
      this.notify();
    });
    transport.onClose((info) => {
      this.closes.push(info);
      this.notify();
    });
  }

  framesArrived(count: number, what = `${count} frames`): Promise<void> {
    return waitForCondition(
      () => this.frames.length >= count,
      (n) => this.watch(n),
      WAIT_MS,
      what,
    );
  }

  closed(what: string): Promise<void> {
    return waitForCondition(
      () => this.closes.length > 0,
      (n) => this.watch(n),
      WAIT_MS,
      what,
    );
  }

  private watch(notify: () => void): () => void {
    this.watchers.add(notify);
    return () => this.watchers.delete(notify);
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }
}

function bytes(frame: TransportFrame | undefined): Buffer {
  assert.ok(frame instanceof Uint8Array, `expected a binary frame, got ${typeof frame}`);
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/** Deterministic, incompressible content so a corrupted or truncated frame cannot pass. */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Lets whatever is already queued (microtasks, I/O callbacks) run, so a test can check that
 * something did not happen without waiting on a clock.
 */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Registers the behaviour every FrameTransport owes BlipConnection, run against pairs from `makePair`. */
export function frameTransportSuite(name: string, makePair: () => Promise<TransportPair>): void {
  describe(`FrameTransport: ${name}`, () => {
    async function withPair(body: (pair: TransportPair) => Promise<void>): Promise<void> {
      const pair = await makePair();
      try {
        await body(pair);
      } finally {
        pair.a.close(1000, 'test over');
        await pair.dispose?.();
      }
    }

    it('delivers frames in the order they were sent, both ways', () =>
      withPair(async ({ a, b }) => {
        const atA = new Recorder(a);
        const atB = new Recorder(b);
        for (let i = 0; i < 200; i++) a.send(Uint8Array.of(i >> 8, i & 0xff));
        for (let i = 0; i < 50; i++) b.send(Uint8Array.of(0xb0, i));
        await atB.framesArrived(200);
        await atA.framesArrived(50);
        assert.deepEqual(
          atB.frames.map((f) => bytes(f).readUInt16BE(0)),
          Array.from({ length: 200 }, (_, i) => i),
        );
        assert.deepEqual(
          atA.frames.map((f) => bytes(f)[1]),
          Array.from({ length: 50 }, (_, i) => i),
        );
      }));

    it('carries binary content intact, including empty and large frames', () =>
      withPair(async ({ a, b }) => {
        const atB = new Recorder(b);
        const sent = [new Uint8Array(0), patterned(1, 1), patterned(4096, 2), patterned(3 * 1024 * 1024 + 7, 3), new Uint8Array(0)];
        for (const frame of sent) a.send(frame);
        await atB.framesArrived(sent.length);
        assert.equal(atB.frames.length, sent.length);
        sent.forEach((frame, i) => assert.ok(bytes(atB.frames[i]).equals(Buffer.from(frame)), `frame ${i} (${frame.length} bytes) arrived changed`));
      }));

    it('passes text messages through as strings', (t) =>
      withPair(async ({ b, sendTextFromA }) => {
        if (!sendTextFromA) return t.skip('this medium carries no text messages');
        const atB = new Recorder(b);
        sendTextFromA('not a frame');
        await atB.framesArrived(1, 'the text message');
        assert.equal(atB.frames[0], 'not a frame');
      }));

    it('propagates a close to both sides, once each, with its code and reason', () =>
      withPair(async ({ a, b }) => {
        const atA = new Recorder(a);
        const atB = new Recorder(b);
        a.send(Uint8Array.of(1));
        a.close(4321, 'going away now');
        a.close(4000, 'a second close changes nothing');
        await atA.closed('the closing side to hear its close');
        await atB.closed('the other side to hear the close');
        b.close(1000, 'closing a closed transport is harmless');
        await settle();
        assert.deepEqual(atA.closes, [{ code: 4321, reason: 'going away now' }]);
        assert.deepEqual(atB.closes, [{ code: 4321, reason: 'going away now' }]);
        assert.equal(atB.frames.length, 1, 'the frame sent before close() arrived first');
      }));

    it('tells a listener that subscribes after the close about it', () =>
      withPair(async ({ a, b }) => {
        const atB = new Recorder(b);
        a.close(1000, 'done');
        await atB.closed('the close');
        const late: TransportCloseInfo[] = [];
        b.onClose((info) => late.push(info));
        await waitForCondition(
          () => late.length > 0,
          (notify) => b.onClose(notify),
          WAIT_MS,
          'the late listener to hear of the close',
        );
        await settle();
        assert.equal(late.length, 1);
        assert.equal(typeof late[0]?.code, 'number');
      }));

    it('drops frames sent after close without throwing', () =>
      withPair(async ({ a, b }) => {
        const atB = new Recorder(b);
        a.close(1000, 'done');
        assert.doesNotThrow(() => a.send(Uint8Array.of(1, 2, 3)), 'send while closing');
        await atB.closed('the close');
        await new Recorder(a).closed('the closing side to finish');
        assert.doesNotThrow(() => a.send(Uint8Array.of(4)), 'send after the close');
        assert.doesNotThrow(() => b.send(Uint8Array.of(5)), 'send from the side that was closed');
        await settle();
        assert.deepEqual(atB.frames, []);
      }));

    it('stops calling listeners once they unsubscribe', () =>
      withPair(async ({ a, b }) => {
        const dropped: TransportFrame[] = [];
        const droppedCloses: TransportCloseInfo[] = [];
        const offFrame = b.onFrame((f) => dropped.push(f));
        const offClose = b.onClose((info) => droppedCloses.push(info));
        const atB = new Recorder(b);
        offFrame();
        offClose();
        a.send(Uint8Array.of(7));
        await atB.framesArrived(1);
        a.close(1000, 'done');
        await atB.closed('the close');
        await settle();
        assert.deepEqual(dropped, []);
        assert.deepEqual(droppedCloses, []);
      }));
  });
}
