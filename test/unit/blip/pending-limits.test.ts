import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BlipConnectionOptions } from '../../../server/blip/connection';
import { CloseCode } from '../../../server/blip/constants';
import { FrameEncoder } from '../../../server/blip/frame-encoder';
import { MessageType } from '../../../server/blip/frame';
import { encodeMessagePayload } from '../../../server/blip/message';
import { closeEvent, connectionWithRawPeer, pseudoRandomBytes, type RawPeer } from './helpers';
import { withTimeout } from '../../helpers/wait';

/**
 * Crafts the peer's request frames with one running checksum, as a real sender would: a frame is
 * encoded only when it is sent, since encoding advances the checksum.
 */
class RequestFrames {
  private readonly encoder = new FrameEncoder({ compressionLevel: 0 });
  /** Messages begun and not finished: their payload and how much of it has been sent. */
  private readonly unfinished = new Map<number, { payload: Uint8Array; offset: number }>();

  constructor(private readonly peer: RawPeer) {}

  /** Sends request `msgNo` (`bodySize` bytes) in frames of `frameSize`, stopping after `maxFrames`. */
  send(msgNo: number, bodySize: number, options: { frameSize?: number; maxFrames?: number } = {}): void {
    const payload = encodeMessagePayload({ Profile: 'p' }, pseudoRandomBytes(bodySize, msgNo));
    this.unfinished.set(msgNo, { payload, offset: 0 });
    this.resume(msgNo, options);
  }

  /** Sends more frames of a request begun earlier. */
  resume(msgNo: number, options: { frameSize?: number; maxFrames?: number } = {}): void {
    const state = this.unfinished.get(msgNo);
    assert.ok(state);
    for (let sent = 0; state.offset < state.payload.length && sent < (options.maxFrames ?? Infinity); sent++) {
      const frame = this.encoder.encodeSync(msgNo, MessageType.MSG, state.payload, state.offset, options.frameSize ?? 16384);
      assert.ok(frame);
      this.peer.send(frame.bytes);
      state.offset += frame.consumed;
    }
    if (state.offset >= state.payload.length) this.unfinished.delete(msgNo);
  }

  /** Sends only the first frame of a request that spans several: it stays unfinished. */
  begin(msgNo: number, bodySize: number, frameSize = 4096): void {
    assert.ok(bodySize > frameSize);
    this.send(msgNo, bodySize, { frameSize, maxFrames: 1 });
  }
}

function setUp(options: BlipConnectionOptions) {
  const { connection, peer } = connectionWithRawPeer(options);
  return { connection, peer, frames: new RequestFrames(peer) };
}

describe('limits on what a peer can make a connection hold', () => {
  it('closes with 1008 when the peer leaves more messages unfinished than allowed', async () => {
    const { connection, peer, frames } = setUp({ maxPendingIncomingMessages: 3 });
    for (let n = 1; n <= 3; n++) frames.begin(n, 10_000);
    await peer.settled();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(connection.isClosed, false);
    assert.equal(connection.stats.pendingIncomingMessages, 3);
    frames.begin(4, 10_000);
    const info = await withTimeout(closeEvent(connection), 'close over the message limit');
    assert.equal(info.code, CloseCode.PolicyViolation);
    assert.match(info.reason, /PENDING_INCOMING_LIMIT/);
    assert.equal((await withTimeout(peer.closed, 'peer sees the close')).code, CloseCode.PolicyViolation);
  });

  it('closes with 1008 when unfinished messages together hold more bytes than allowed', async () => {
    const { connection, frames } = setUp({ maxPendingIncomingBytes: 10_000 });
    // Each message is far below the per-message limit; only their sum is too much.
    for (let n = 1; n <= 3; n++) frames.begin(n, 10_000, 4096);
    const info = await withTimeout(closeEvent(connection), 'close over the byte limit');
    assert.equal(info.code, CloseCode.PolicyViolation);
    assert.match(info.reason, /exceed 10000 bytes/);
  });

  it('counts held bytes while a message arrives and releases them when it is complete', async () => {
    const { connection, peer, frames } = setUp({});
    const handled = new Promise<number>((resolve) => connection.onRequest('p', (req) => resolve(req.body.length)));
    frames.begin(1, 20_000);
    await peer.settled();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(connection.stats.pendingIncomingMessages, 1);
    assert.ok(connection.stats.pendingIncomingBytes > 4000, `held ${connection.stats.pendingIncomingBytes}`);
    frames.resume(1, { frameSize: 4096 });
    assert.equal(await withTimeout(handled, 'the request'), 20_000);
    assert.equal(connection.stats.pendingIncomingMessages, 0);
    assert.equal(connection.stats.pendingIncomingBytes, 0);
    connection.close();
  });

  it('closes with 1001 when an unfinished message gets no frame within the stall timeout', async () => {
    const { connection, frames } = setUp({ stalledMessageTimeoutMs: 50 });
    frames.begin(1, 10_000);
    const info = await withTimeout(closeEvent(connection), 'close of a stalled message');
    assert.equal(info.code, CloseCode.GoingAway);
    assert.match(info.reason, /STALLED_MESSAGE/);
  });

  describe('a peer that withholds ACKs', () => {
    /** A handler whose reply is big enough to pause for ACKs (~128 kB unacknowledged). */
    const bigReply = { body: pseudoRandomBytes(400_000), compressed: false };

    it('gets no more requests handled while replies fill the outgoing queue, then is closed with 1008', async () => {
      const { connection, peer, frames } = setUp({ maxOutgoingBytes: 100_000, maxPendingIncomingMessages: 5 });
      let handled = 0;
      connection.onRequest('p', () => {
        handled++;
        return bigReply;
      });
      frames.send(1, 10);
      await withTimeout(connection.whenOutboxIdle(), 'first reply to pause');
      assert.equal(handled, 1);
      assert.ok(connection.stats.outgoingBytes >= 400_000);
      for (let n = 2; n <= 6; n++) frames.send(n, 10);
      await peer.settled();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(handled, 1, 'requests were handled while the outgoing queue was full');
      assert.equal(connection.stats.pendingIncomingMessages, 5);
      frames.send(7, 10);
      const info = await withTimeout(closeEvent(connection), 'close over the waiting-request limit');
      assert.equal(info.code, CloseCode.PolicyViolation);
      assert.equal(handled, 1);
    });

    it('handles the waiting requests, in order, once ACKs drain the queue', async () => {
      const { connection, peer, frames } = setUp({ maxOutgoingBytes: 100_000 });
      const order: number[] = [];
      connection.onRequest('p', (req) => {
        order.push(req.number);
        return req.number === 1 ? bigReply : { body: 'small' };
      });
      frames.send(1, 10);
      await withTimeout(connection.whenOutboxIdle(), 'first reply to pause');
      frames.send(2, 10);
      frames.send(3, 10);
      await peer.settled();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(order, [1]);
      // Acknowledge everything the reply sends until it is complete.
      while (order.length < 3) {
        await withTimeout(connection.whenOutboxIdle(), 'sender idle');
        await peer.settled();
        const replyWire = peer.decoded.filter((f) => f.msgNo === 1 && f.type === MessageType.RPY).reduce((n, f) => n + f.wireLength, 0);
        peer.sendAck(1, MessageType.ACKRPY, replyWire);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(order, [1, 2, 3]);
      assert.equal(connection.stats.pendingIncomingMessages, 0);
      connection.close();
    });

    it('closes with 1001 when a paused reply gets no ACK within the stall timeout', async () => {
      const { connection, frames } = setUp({ stalledMessageTimeoutMs: 50 });
      connection.onRequest('p', () => bigReply);
      frames.send(1, 10);
      const info = await withTimeout(closeEvent(connection), 'close of a stalled reply');
      assert.equal(info.code, CloseCode.GoingAway);
      assert.match(info.reason, /no ACK for reply #1/);
    });
  });
});
