import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlipConnection } from '../../../server/blip/connection';
import { ACK_INTERVAL_BYTES, BIG_FRAME_SIZE, MAX_UNACKED_BYTES } from '../../../server/blip/constants';
import { FrameFlag, MessageType, parseFrameHeader } from '../../../server/blip/frame';
import { decodeMessagePayload } from '../../../server/blip/message';
import { createMemoryTransportPair } from '../../../server/blip/memory-transport';
import type { FrameTransport } from '../../../server/blip/transport';
import { decodeVarint } from '../../../server/blip/varint';
import { TapTransport, connectionWithRawPeer, plain, pseudoRandomBytes } from './helpers';
import { withTimeout } from '../../helpers/wait';

/** One macrotask turn: every microtask (memory-transport delivery, non-zlib decoding) has run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('flow control', () => {
  it('pauses a message at ~128,000 unacknowledged bytes and resumes when ACKed', async () => {
    const { connection, peer } = connectionWithRawPeer();
    const body = pseudoRandomBytes(600_000);
    connection.sendNoReply({ profile: 'blob', body, compressed: false });

    const wireSoFar = (): number => peer.decoded.reduce((n, f) => n + f.wireLength, 0);

    // The receiver withholds ACKs: the sender stops by itself.
    await withTimeout(connection.whenOutboxIdle(), 'sender to pause');
    await peer.settled();
    const firstBurst = wireSoFar();
    assert.ok(firstBurst >= MAX_UNACKED_BYTES, `paused too early at ${firstBurst}`);
    assert.ok(firstBurst < MAX_UNACKED_BYTES + BIG_FRAME_SIZE, `overran the window: ${firstBurst}`);
    assert.ok(peer.decoded.every((f) => f.moreComing && f.msgNo === 1));
    const framesInFirstBurst = peer.decoded.length;

    // An ACK that still leaves too much unacknowledged does not resume it.
    peer.sendAck(1, MessageType.ACKMSG, firstBurst - MAX_UNACKED_BYTES);
    await turn();
    await withTimeout(connection.whenOutboxIdle(), 'sender idle');
    await peer.settled();
    assert.equal(peer.decoded.length, framesInFirstBurst, 'resumed on an insufficient ACK');

    // An ACK of everything so far lets another window's worth through, and no more.
    peer.sendAck(1, MessageType.ACKMSG, firstBurst);
    await peer.waitForFrames(framesInFirstBurst + 1);
    await withTimeout(connection.whenOutboxIdle(), 'sender to pause again');
    await peer.settled();
    const secondBurst = wireSoFar() - firstBurst;
    assert.ok(secondBurst >= MAX_UNACKED_BYTES && secondBurst < MAX_UNACKED_BYTES + BIG_FRAME_SIZE, `second burst ${secondBurst}`);

    // Keep acknowledging until the message completes, then check it arrived intact.
    while (peer.decoded[peer.decoded.length - 1]?.moreComing) {
      const count = peer.decoded.length;
      peer.sendAck(1, MessageType.ACKMSG, wireSoFar());
      await peer.waitForFrames(count + 1);
      await withTimeout(connection.whenOutboxIdle(), 'sender idle');
      await peer.settled();
    }
    const message = decodeMessagePayload(Buffer.concat(peer.decoded.map((f) => f.payload)));
    assert.deepStrictEqual(plain(message.properties), { Profile: 'blob' });
    assert.ok(Buffer.from(message.body).equals(Buffer.from(body)));
    connection.close();
  });

  it('ignores ACKs for unknown or finished messages', async () => {
    const { connection, peer } = connectionWithRawPeer();
    peer.sendAck(99, MessageType.ACKMSG, 1000);
    peer.sendAck(1, MessageType.ACKRPY, 1000);
    await turn();
    assert.equal(connection.isClosed, false);
    connection.close();
  });

  it('never lets a sender run more than the window ahead of the ACKs it was sent (end to end)', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const log: { from: 'a' | 'b'; frame: Uint8Array }[] = [];
    const logging = (inner: FrameTransport, from: 'a' | 'b'): FrameTransport =>
      Object.assign(new TapTransport(inner), {
        send(frame: Uint8Array): void {
          log.push({ from, frame: frame.slice() });
          inner.send(frame);
        },
      });
    const a = new BlipConnection(logging(ta, 'a'));
    const b = new BlipConnection(logging(tb, 'b'));
    const body = pseudoRandomBytes(1_500_000);
    b.onRequest('upload', (req) => ({ properties: { size: String(req.body.length) } }));
    const reply = await withTimeout(a.request({ profile: 'upload', body, compressed: false }), 'upload reply', 10_000);
    assert.equal(reply.property('size'), String(body.length));

    let sent = 0;
    let acked = 0;
    let acks = 0;
    for (const { from, frame } of log) {
      const header = parseFrameHeader(frame);
      if (from === 'a' && header.type === MessageType.MSG) {
        // The sender only sends while under the window; ACKs it has seen are at most those logged.
        assert.ok(sent - acked < MAX_UNACKED_BYTES, `sent ${sent - acked} unacknowledged bytes before another frame`);
        sent += frame.length - header.headerLength;
      } else if (from === 'b' && header.type === MessageType.ACKMSG) {
        assert.equal(header.flags, MessageType.ACKMSG | FrameFlag.Urgent | FrameFlag.NoReply);
        const count = decodeVarint(frame, header.headerLength).value;
        assert.ok(count > acked && count <= sent);
        acked = count;
        acks++;
      }
    }
    // An ACK goes out once 50,000 bytes have arrived since the last one, i.e. at least every
    // 50,000 + one frame.
    assert.ok(acks >= Math.floor(body.length / (ACK_INTERVAL_BYTES + BIG_FRAME_SIZE)), `only ${acks} ACKs`);
    a.close();
  });
});
