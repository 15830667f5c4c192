import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlipConnection } from '../../../server/blip/connection';
import { BIG_FRAME_SIZE, DEFAULT_FRAME_SIZE } from '../../../server/blip/constants';
import { BlipClosedError, BlipError } from '../../../server/blip/errors';
import { FrameDecoder, type DecodedFrame } from '../../../server/blip/frame-decoder';
import { FrameFlag, MessageType, parseFrameHeader } from '../../../server/blip/frame';
import { type IncomingRequest, decodeMessagePayload } from '../../../server/blip/message';
import { createMemoryTransportPair } from '../../../server/blip/memory-transport';
import type { FrameTransport } from '../../../server/blip/transport';
import { decodeVarint } from '../../../server/blip/varint';
import { closeEvent, compressibleText, connectedPair, connectionWithRawPeer, fromHex, plain, pseudoRandomBytes, text, toHex } from './helpers';
import { withTimeout } from '../../helpers/wait';
import { FRAME1_CHECKPOINT_CLIENT, FRAME1_HEX, FRAME2_BODY, FRAME2_HEX } from './protocol-notes-vectors';

async function decodeAll(frames: readonly Uint8Array[]): Promise<DecodedFrame[]> {
  const decoder = new FrameDecoder();
  const out: DecodedFrame[] = [];
  for (const frame of frames) out.push(await decoder.decode(frame));
  decoder.close();
  return out;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('request / reply', () => {
  it('round-trips properties and body', async () => {
    const { a, b } = connectedPair();
    b.onRequest('echo', (req) => ({ properties: { echoed: req.property('x') ?? '' }, body: req.body }));
    const reply = await withTimeout(a.request({ profile: 'echo', properties: { x: '1' }, body: 'hello' }), 'reply');
    assert.equal(reply.kind, 'reply');
    assert.equal(reply.number, 1);
    assert.deepStrictEqual(plain(reply.properties), { echoed: '1' });
    assert.equal(reply.text(), 'hello');
    a.close();
  });

  it('numbers requests per side from 1 and matches replies that complete out of order', async () => {
    const { a, b } = connectedPair();
    const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
    const seen: number[] = [];
    b.onRequest('slow', async (req) => {
      seen.push(req.number);
      await gates[req.intProperty('i')]?.promise;
      return { body: `reply ${req.property('i') ?? ''}` };
    });
    a.onRequest('ping', () => ({ body: 'pong' }));
    const replies = [0, 1, 2].map((i) => a.request({ profile: 'slow', properties: { i: String(i) } }));
    const fromB = await withTimeout(b.request({ profile: 'ping' }), 'ping reply');
    assert.equal(fromB.number, 1);
    assert.equal(fromB.text(), 'pong');
    gates[2]?.resolve();
    assert.equal((await withTimeout(replies[2] as Promise<IncomingRequest>, 'reply 2')).text(), 'reply 2');
    gates[0]?.resolve();
    gates[1]?.resolve();
    const all = await withTimeout(Promise.all(replies), 'all replies');
    assert.deepStrictEqual(
      all.map((r) => [r.number, r.text()]),
      [
        [1, 'reply 0'],
        [2, 'reply 1'],
        [3, 'reply 2'],
      ],
    );
    assert.deepStrictEqual(seen, [1, 2, 3]);
    a.close();
  });

  it('turns a thrown BlipError into an ERR reply and a rejected request', async () => {
    const { a, b, tapB } = connectedPair();
    b.onRequest('put', () => {
      throw new BlipError('HTTP', 409, 'document update conflict', { docID: 'doc1' });
    });
    const error = await withTimeout(
      a.request({ profile: 'put' }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'ERR',
    );
    assert.ok(error instanceof BlipError);
    assert.equal(error.domain, 'HTTP');
    assert.equal(error.code, 409);
    assert.equal(error.message, 'document update conflict');
    assert.deepStrictEqual(plain(error.properties), { docID: 'doc1' });
    const [frame] = await decodeAll(tapB.sent);
    assert.equal(frame?.type, MessageType.ERR);
    const payload = decodeMessagePayload((frame as DecodedFrame).payload);
    assert.deepStrictEqual(plain(payload.properties), { 'Error-Domain': 'HTTP', 'Error-Code': '409', docID: 'doc1' });
    assert.equal(text(payload.body), 'document update conflict');
    a.close();
  });

  it('answers an unknown profile with ERR 404 in the BLIP domain', async () => {
    const { a } = connectedPair();
    await assert.rejects(withTimeout(a.request({ profile: 'nope' }), 'ERR'), (err: unknown) => {
      assert.ok(err instanceof BlipError);
      assert.equal(err.domain, 'BLIP');
      assert.equal(err.code, 404);
      assert.match(err.message, /no handler for profile 'nope'/);
      return true;
    });
    a.close();
  });

  it('answers a crashing handler with ERR 501 and reports it locally', async () => {
    const { a, b } = connectedPair();
    const reported = new Promise<unknown>((resolve) => b.on('handlerError', (err) => resolve(err)));
    b.onRequest('boom', async () => {
      throw new Error('secret internal detail');
    });
    await assert.rejects(withTimeout(a.request({ profile: 'boom' }), 'ERR'), (err: unknown) => {
      assert.ok(err instanceof BlipError);
      assert.equal(err.code, 501);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    assert.match(String(await withTimeout(reported, 'handlerError')), /secret internal detail/);
    a.close();
  });

  it('sends an empty reply when the handler returns nothing', async () => {
    const { a, b } = connectedPair();
    b.onRequest('noop', () => undefined);
    const reply = await withTimeout(a.request({ profile: 'noop' }), 'reply');
    assert.equal(reply.body.length, 0);
    assert.deepStrictEqual(plain(reply.properties), {});
    a.close();
  });

  it('delivers no-reply requests without sending anything back', async () => {
    const { a, b, tapB } = connectedPair();
    const got = deferred<IncomingRequest>();
    b.onRequest('note', (req) => {
      got.resolve(req);
      return { body: 'ignored' };
    });
    a.sendNoReply({ profile: 'note', body: 'fyi' });
    const req = await withTimeout(got.promise, 'no-reply request');
    assert.equal(req.noReply, true);
    assert.equal(req.text(), 'fyi');
    // A request that does expect a reply still works afterwards, and it is the only reply sent.
    b.onRequest('ping', () => ({ body: 'pong' }));
    assert.equal((await withTimeout(a.request({ profile: 'ping' }), 'pong')).number, 2);
    assert.deepStrictEqual(
      (await decodeAll(tapB.sent)).map((f) => [f.type, f.msgNo]),
      [[MessageType.RPY, 2]],
    );
    a.close();
  });

  it('rejects request() for a noReply message', async () => {
    const { a } = connectedPair();
    await assert.rejects(a.request({ profile: 'x', noReply: true }), TypeError);
    a.close();
  });

  it('replies inherit the urgency of the request', async () => {
    const { a, b, tapB } = connectedPair();
    b.onRequest('u', () => ({ body: 'x' }));
    await withTimeout(a.request({ profile: 'u', urgent: true }), 'reply');
    assert.equal(parseFrameHeader(tapB.sent[0] as Uint8Array).flags & FrameFlag.Urgent, FrameFlag.Urgent);
    a.close();
  });

  it('a replaced or removed handler is no longer called', async () => {
    const { a, b } = connectedPair();
    const off = b.onRequest('p', () => ({ body: 'first' }));
    b.onRequest('p', () => ({ body: 'second' }));
    off(); // stale unsubscribe must not remove the newer handler
    assert.equal((await withTimeout(a.request({ profile: 'p' }), 'reply')).text(), 'second');
    a.close();
  });
});

describe('wire compatibility with Couchbase Lite', () => {
  it('sends the captured getCheckpoint frame byte for byte', async () => {
    const { a, tapA } = connectedPair();
    const pending = a.request({ profile: 'getCheckpoint', properties: { client: FRAME1_CHECKPOINT_CLIENT } });
    await a.whenOutboxIdle();
    assert.equal(toHex(tapA.sent[0] as Uint8Array), FRAME1_HEX);
    a.close();
    await assert.rejects(pending, BlipClosedError);
  });

  it('handles the captured client frames and replies with matching message numbers', async () => {
    const { connection, peer } = connectionWithRawPeer();
    connection.onRequest('getCheckpoint', (req) => {
      assert.equal(req.property('client'), FRAME1_CHECKPOINT_CLIENT);
      return { properties: {}, body: '{}' };
    });
    connection.onRequest('proposeChanges', (req) => {
      assert.equal(req.text(), FRAME2_BODY);
      assert.equal(req.urgent, true);
      assert.equal(req.compressed, true);
      return { body: '[]' };
    });
    peer.send(fromHex(FRAME1_HEX));
    peer.send(fromHex(FRAME2_HEX));
    await peer.waitForFrames(2);
    assert.deepStrictEqual(
      peer.decoded.map((f) => [f.type, f.msgNo]),
      [
        [MessageType.RPY, 1],
        [MessageType.RPY, 2],
      ],
    );
    assert.equal(peer.decoded[1]?.urgent, true);
    assert.equal(text(decodeMessagePayload((peer.decoded[1] as DecodedFrame).payload).body), '[]');
    connection.close();
  });
});

describe('multi-frame messages over a connection', () => {
  it('compresses, frames and reassembles a large message; CRC runs across frames; ACKs flow back', async () => {
    const { a, b, tapA, tapB } = connectedPair();
    const body = compressibleText(400_000);
    b.onRequest('big', (req) => ({ properties: { length: String(req.body.length), compressed: String(req.compressed) } }));
    const reply = await withTimeout(a.request({ profile: 'big', body }), 'reply to big message');
    assert.deepStrictEqual(plain(reply.properties), { length: String(body.length), compressed: 'true' });

    const frames = await decodeAll(tapA.sent);
    assert.ok(frames.length >= 8, `expected many frames, got ${frames.length}`);
    for (const [i, frame] of frames.entries()) {
      assert.ok((tapA.sent[i] as Uint8Array).length <= BIG_FRAME_SIZE);
      assert.equal(frame.msgNo, 1);
      assert.equal(frame.compressed, true);
      assert.equal(frame.moreComing, i < frames.length - 1);
    }
    // decodeAll verified every frame's checksum against the running CRC of what came before.
    // The receiver acknowledges every 50,000 bytes (after headers) of the message, with the total
    // received so far; the final frame needs no ACK.
    const expectedCounts: number[] = [];
    let received = 0;
    let unacked = 0;
    for (const frame of frames.slice(0, -1)) {
      received += frame.wireLength;
      unacked += frame.wireLength;
      if (unacked >= 50_000) {
        expectedCounts.push(received);
        unacked = 0;
      }
    }
    const acks = (await decodeAll(tapB.sent)).filter((f) => f.type === MessageType.ACKMSG);
    assert.ok(expectedCounts.length >= 2, `test message too small (${expectedCounts.length} ACKs expected)`);
    assert.deepStrictEqual(
      acks.map((ack) => decodeVarint(ack.payload).value),
      expectedCounts,
    );
    for (const ack of acks) {
      assert.equal(ack.msgNo, 1);
      assert.equal(ack.urgent, true);
      assert.equal(ack.noReply, true);
    }
    a.close();
  });

  it('sends a small message uncompressed by default and a large one compressed', async () => {
    const { a, b, tapA } = connectedPair();
    b.onRequest('x', () => undefined);
    await withTimeout(a.request({ profile: 'x', body: 'tiny' }), 'reply');
    await withTimeout(a.request({ profile: 'x', body: 'y'.repeat(1000) }), 'reply');
    await withTimeout(a.request({ profile: 'x', body: 'y'.repeat(1000), compressed: false }), 'reply');
    assert.deepStrictEqual(
      tapA.sent.map((f) => (parseFrameHeader(f).flags & FrameFlag.Compressed) !== 0),
      [false, true, false],
    );
    a.close();
  });

  it('gives urgent messages the bigger share of frames without starving normal ones', async () => {
    const { a, b, tapA } = connectedPair();
    const done: string[] = [];
    const bothDone = deferred<void>();
    const record = (name: string) => () => {
      done.push(name);
      if (done.length === 2) bothDone.resolve();
    };
    b.onRequest('normal', record('normal'));
    b.onRequest('urgent', record('urgent'));
    a.sendNoReply({ profile: 'normal', body: pseudoRandomBytes(150_000), compressed: false });
    a.sendNoReply({ profile: 'urgent', body: pseudoRandomBytes(100_000, 7), urgent: true, compressed: false });
    await withTimeout(bothDone.promise, 'both messages delivered');
    assert.deepStrictEqual(done, ['urgent', 'normal']);

    const headers = tapA.sent.map((f) => ({ ...parseFrameHeader(f), size: f.length }));
    const urgentFrames = headers.filter((h) => h.msgNo === 2);
    const lastUrgent = headers.lastIndexOf(urgentFrames[urgentFrames.length - 1] as (typeof headers)[number]);
    const firstUrgent = headers.indexOf(urgentFrames[0] as (typeof headers)[number]);
    for (const h of urgentFrames.slice(0, -1)) assert.equal(h.size, BIG_FRAME_SIZE);
    // While the urgent message is in flight, the normal one proceeds in small frames, one per
    // urgent frame: urgent gets about four times the bandwidth and normal is not starved.
    const between = headers.slice(firstUrgent, lastUrgent + 1);
    const normalBetween = between.filter((h) => h.msgNo === 1);
    assert.ok(normalBetween.length >= urgentFrames.length - 2, 'normal message starved');
    for (const h of normalBetween) assert.ok(h.size <= DEFAULT_FRAME_SIZE, `normal frame of ${h.size} while urgent waits`);
    for (let i = 1; i < between.length; i++) {
      assert.ok(!(between[i]?.msgNo === 1 && between[i - 1]?.msgNo === 1), 'two normal frames in a row while urgent waits');
    }
    // Once the urgent message is done, the normal one goes back to big frames.
    const after = headers.slice(lastUrgent + 1).filter((h) => h.msgNo === 1);
    assert.ok(after.length > 0);
    for (const h of after.slice(0, -1)) assert.equal(h.size, BIG_FRAME_SIZE);
    a.close();
  });
});

describe('closing', () => {
  it('rejects pending requests, emits close once, and tells the peer', async () => {
    const { a, b } = connectedPair();
    b.onRequest('never', () => new Promise<undefined>(() => undefined));
    const closes: unknown[] = [];
    a.on('close', (info) => closes.push(info));
    const bClosed = closeEvent(b);
    const pending = a.request({ profile: 'never' });
    await a.whenOutboxIdle();
    a.close(1000, 'bye');
    a.close(1000, 'again');
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof BlipClosedError);
      assert.equal(err.code, 'CONNECTION_CLOSED');
      assert.equal(err.closeCode, 1000);
      return true;
    });
    assert.deepStrictEqual(closes, [{ code: 1000, reason: 'bye', local: true }]);
    assert.deepStrictEqual(await withTimeout(bClosed, 'peer close'), { code: 1000, reason: 'bye', local: false });
    assert.equal(a.isClosed, true);
    await assert.rejects(a.request({ profile: 'x' }), BlipClosedError);
    assert.throws(() => a.sendNoReply({ profile: 'x' }), BlipClosedError);
  });

  it('rejects pending requests when the transport closes underneath', async () => {
    const [ta, tb] = createMemoryTransportPair();
    const a = new BlipConnection(ta);
    const pending = a.request({ profile: 'x' });
    tb.close(1001, 'going away');
    const err = await withTimeout(
      pending.then(
        () => undefined,
        (e: unknown) => e,
      ),
      'rejection',
    );
    assert.ok(err instanceof BlipClosedError);
    assert.equal(err.closeCode, 1001);
    assert.deepStrictEqual(a.closeInfo, { code: 1001, reason: 'going away', local: false });
  });

  it('notices a transport that closed before the connection was created', async () => {
    const [ta, tb] = createMemoryTransportPair();
    tb.close(1006, 'gone');
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    assert.equal(ta.isClosed, true);
    const a = new BlipConnection(ta);
    const err = await withTimeout(
      a.request({ profile: 'x' }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'rejection',
    );
    assert.ok(err instanceof BlipClosedError);
    assert.equal(a.closeInfo?.code, 1006);
  });

  it('removes its transport listeners on close, and close is idempotent', () => {
    const listeners = { frame: 0, close: 0 };
    const closes: [number, string][] = [];
    const transport: FrameTransport = {
      send: () => undefined,
      close: (code, reason) => void closes.push([code, reason]),
      onFrame: () => {
        listeners.frame++;
        return () => void listeners.frame--;
      },
      onClose: () => {
        listeners.close++;
        return () => void listeners.close--;
      },
    };
    const a = new BlipConnection(transport);
    assert.deepStrictEqual(listeners, { frame: 1, close: 1 });
    a.close(4000, 'done');
    a.close(4001, 'twice');
    assert.deepStrictEqual(listeners, { frame: 0, close: 0 });
    assert.deepStrictEqual(closes, [[4000, 'done']]);
  });

  it('truncates close reasons to what a WebSocket close frame can carry', () => {
    const { a } = connectedPair();
    const long = 'é'.repeat(100);
    a.close(1000, long);
    const reason = a.closeInfo?.reason ?? '';
    assert.ok(Buffer.byteLength(reason) <= 123);
    assert.ok(reason.startsWith('ééé') && reason.endsWith('...'));
  });

  it('counts traffic', async () => {
    const { a, b } = connectedPair();
    b.onRequest('p', () => ({ body: 'pong' }));
    await withTimeout(a.request({ profile: 'p', body: 'ping' }), 'reply');
    const stats = a.stats;
    assert.equal(stats.framesSent, 1);
    assert.equal(stats.framesReceived, 1);
    assert.equal(stats.messagesSent, 1);
    assert.equal(stats.messagesReceived, 1);
    assert.ok(stats.bytesSent > 0 && stats.bytesReceived > 0);
    a.close();
  });
});
