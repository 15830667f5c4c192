/**
 * Fuzzing the receiving side of BLIP: the frame decoder alone (every outcome is a decoded frame
 * or a BlipProtocolError, and a failed direction stays failed), then a BlipConnection fed scripts
 * of valid, broken and hostile frames (it answers, or closes with a BLIP protocol close code; a
 * follow-up request on a surviving connection still gets the right reply).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlipConnection } from '../../../server/blip/connection';
import { BlipProtocolError, type BlipCloseInfo } from '../../../server/blip/errors';
import { FrameDecoder, type DecodedFrame } from '../../../server/blip/frame-decoder';
import { FrameFlag, MessageType } from '../../../server/blip/frame';
import { createMemoryTransportPair } from '../../../server/blip/memory-transport';
import { encodeVarint } from '../../../server/blip/varint';
import { Framer, messagePayload, mutateFrame, oddVarint, plainPayload, propertiesBlock } from '../../helpers/fuzz-frames';
import { type Rng, drainEventLoop, fuzzLoop, guardProcess, pendingTimers } from '../../helpers/fuzz';
import { withTimeout } from '../../helpers/wait';
import { FuzzPeer, isReply } from './fuzz-peer';

const WAIT_MS = 5000;
/** Close codes a connection may use when it rejects what its peer sent. */
const PROTOCOL_CLOSE_CODES = new Set([1002, 1003, 1009]);

function assertProtocolError(err: unknown, what: string): void {
  assert.ok(err instanceof BlipProtocolError, `${what}: expected a BlipProtocolError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
}

async function decodeOne(decoder: FrameDecoder, bytes: Uint8Array): Promise<DecodedFrame> {
  return decoder.decodeSync(bytes) ?? (await withTimeout(decoder.decode(bytes), 'a frame to decode', WAIT_MS));
}

const FRAME_TYPES = [MessageType.MSG, MessageType.RPY, MessageType.ERR, MessageType.ACKMSG, MessageType.ACKRPY] as const;

test('frame decoder: valid frames decode exactly; broken ones fail with a BlipProtocolError, and the direction stays failed', async (t) => {
  const guard = guardProcess(t);
  await fuzzLoop(t, 'frame-decoder', 400, async (rng, i) => {
    const decoder = new FrameDecoder({ maxInflatedFrameSize: 64 * 1024 });
    const framer = new Framer();
    let failure: unknown;
    try {
      for (let step = rng.range(1, 8); step > 0; step--) {
        const type = rng.pick(FRAME_TYPES);
        const ack = type === MessageType.ACKMSG || type === MessageType.ACKRPY;
        const msgNo = rng.weighted([
          [5, rng.range(1, 10)],
          [1, rng.range(1, Number.MAX_SAFE_INTEGER)],
        ]);
        let flags: number = type;
        if (rng.chance(0.3)) flags |= FrameFlag.Urgent;
        if (rng.chance(0.2)) flags |= FrameFlag.NoReply;
        if (rng.chance(0.3)) flags |= FrameFlag.MoreComing;
        if (!ack && rng.chance(0.3)) flags |= FrameFlag.Compressed;
        const chunk = ack ? encodeVarint(rng.int(1_000_000)) : rng.chance(0.1) ? new Uint8Array(rng.range(100_000, 200_000)) : rng.bytes(rng.size(2000));
        const valid = ack ? framer.ack(msgNo, type, chunk) : await framer.frame(msgNo, flags, chunk);
        const broken = rng.chance(0.35);
        const bytes = broken ? mutateFrame(rng, valid).bytes : valid;
        let decoded: DecodedFrame | undefined;
        try {
          decoded = await decodeOne(decoder, bytes);
        } catch (err) {
          assertProtocolError(err, `frame ${step} of iteration ${i}`);
          if (failure === undefined) failure = err;
          continue;
        }
        assert.equal(failure, undefined, 'a decoder that failed once must refuse every later frame');
        if (broken) continue; // a mutation may happen to yield another valid frame
        const inflatesTooMuch = (flags & FrameFlag.Compressed) !== 0 && chunk.length > 64 * 1024;
        assert.ok(!inflatesTooMuch, 'a frame inflating beyond the limit must be refused');
        assert.equal(decoded.msgNo, msgNo);
        assert.equal(decoded.type, type);
        assert.deepEqual(Buffer.from(decoded.payload), Buffer.from(chunk));
      }
    } finally {
      decoder.close();
      framer.close();
    }
  });
  guard.check();
});

test('frame decoder: raw random bytes never throw anything but a BlipProtocolError', async (t) => {
  const guard = guardProcess(t);
  await fuzzLoop(t, 'frame-decoder-raw', 2000, async (rng) => {
    const decoder = new FrameDecoder();
    try {
      const bytes = rng.chance(0.5) ? rng.bytes(rng.size(64)) : Uint8Array.from([...oddVarint(rng), ...oddVarint(rng), ...rng.bytes(rng.size(16))]);
      await decodeOne(decoder, bytes).catch((err: unknown) => assertProtocolError(err, 'raw bytes'));
    } finally {
      decoder.close();
    }
  });
  guard.check();
});

// ---- a BlipConnection under a hostile peer ----

type Action = 'request' | 'bad-message' | 'unknown-profile' | 'mutated-frame' | 'ack-unknown' | 'reply-unknown' | 'out-of-order' | 'partial' | 'text' | 'raw' | 'oversized';

const MAX_MESSAGE = 64 * 1024;

interface Script {
  readonly framer: Framer;
  readonly peer: FuzzPeer;
  readonly rng: Rng;
  /** Requests whose first frame went out but whose last has not: their numbers are taken. */
  readonly partial: number[];
}

function echoPayload(body: Uint8Array): Uint8Array {
  return plainPayload({ Profile: 'echo' }, body);
}

async function sendMessage(s: Script, msgNo: number, payload: Uint8Array, extraFlags: number, pieces: number): Promise<void> {
  for (const frame of await s.framer.message(msgNo, MessageType.MSG | extraFlags, payload, pieces)) s.peer.send(frame);
}

function randomFlags(rng: Rng): number {
  let flags = 0;
  if (rng.chance(0.3)) flags |= FrameFlag.Urgent;
  if (rng.chance(0.1)) flags |= FrameFlag.NoReply;
  if (rng.chance(0.3)) flags |= FrameFlag.Compressed;
  return flags;
}

async function act(s: Script, action: Action): Promise<void> {
  const { rng, framer, peer } = s;
  switch (action) {
    case 'request':
      await sendMessage(s, framer.nextRequest++, echoPayload(rng.bytes(rng.size(3000))), randomFlags(rng), rng.range(1, 4));
      return;
    case 'bad-message': {
      const props = propertiesBlock(rng, { Profile: rng.pick(['echo', 'nothing', '']), rng: String(rng.next()) });
      await sendMessage(s, framer.nextRequest++, messagePayload(rng, props, rng.bytes(rng.size(200))), randomFlags(rng), rng.range(1, 3));
      return;
    }
    case 'unknown-profile': {
      const profile = rng.pick(['', 'getCheckpoint', '__proto__', 'x'.repeat(1000), '\u{1F600}']);
      await sendMessage(s, framer.nextRequest++, plainPayload({ Profile: profile }, new Uint8Array(0)), 0, 1);
      return;
    }
    case 'mutated-frame': {
      const frame = await framer.frame(framer.nextRequest++, MessageType.MSG, echoPayload(rng.bytes(rng.size(100))));
      peer.send(mutateFrame(rng, frame).bytes);
      return;
    }
    case 'ack-unknown': {
      const body = rng.chance(0.7) ? encodeVarint(rng.int(1_000_000)) : rng.chance(0.5) ? new Uint8Array(0) : oddVarint(rng);
      peer.send(framer.ack(rng.range(1, 1000), rng.pick([MessageType.ACKMSG, MessageType.ACKRPY] as const), body));
      return;
    }
    case 'reply-unknown':
      peer.send(await framer.frame(rng.range(1, 1000), rng.pick([MessageType.RPY, MessageType.ERR]), echoPayload(new Uint8Array(0))));
      return;
    case 'out-of-order': {
      const backwards = framer.nextRequest > 1 && rng.chance(0.5);
      const msgNo = backwards ? Math.max(1, framer.nextRequest - rng.range(1, 3)) : framer.nextRequest + rng.range(1, 5);
      peer.send(await framer.frame(msgNo, MessageType.MSG, echoPayload(new Uint8Array(0))));
      return;
    }
    case 'partial': {
      // The first frame of a request whose end never comes; later requests may interleave with it.
      const msgNo = framer.nextRequest++;
      s.partial.push(msgNo);
      peer.send(await framer.frame(msgNo, MessageType.MSG | FrameFlag.MoreComing, echoPayload(rng.bytes(rng.size(2000)))));
      return;
    }
    case 'text':
      peer.sendText(rng.pick(['', 'hello', '\u0000', '{"Profile":"echo"}']));
      return;
    case 'raw':
      peer.send(rng.bytes(rng.range(1, 100)));
      return;
    case 'oversized': {
      const msgNo = framer.nextRequest++;
      const chunk = rng.bytes(16 * 1024);
      for (let sent = 0; sent <= MAX_MESSAGE; sent += chunk.length) peer.send(await framer.frame(msgNo, MessageType.MSG | FrameFlag.MoreComing, sent === 0 ? echoPayload(chunk) : chunk));
      return;
    }
  }
}

const ACTIONS: readonly (readonly [number, Action])[] = [
  [6, 'request'],
  [3, 'bad-message'],
  [2, 'unknown-profile'],
  [2, 'mutated-frame'],
  [2, 'ack-unknown'],
  [1, 'reply-unknown'],
  [1, 'out-of-order'],
  [2, 'partial'],
  [1, 'text'],
  [1, 'raw'],
  [1, 'oversized'],
];

function assertProtocolClose(info: BlipCloseInfo | undefined, what: string): void {
  assert.ok(info, `${what}: the connection should be closed`);
  assert.ok(PROTOCOL_CLOSE_CODES.has(info.code), `${what}: closed with ${info.code} (${info.reason}); a peer's bad bytes should get 1002, 1003 or 1009`);
  assert.match(info.reason, /^BLIP protocol error [A-Z_]+: /, `${what}: the close reason should name the protocol error`);
  assert.equal(info.local, true);
}

test('BlipConnection under a hostile peer: it answers or closes with a protocol close code; survivors still answer correctly', async (t) => {
  const guard = guardProcess(t);
  const timersBefore = pendingTimers();
  await fuzzLoop(t, 'blip-connection', 250, async (rng) => {
    const [ours, theirs] = createMemoryTransportPair();
    const conn = new BlipConnection(ours, { name: 'fuzzed', maxMessageSize: MAX_MESSAGE, maxInflatedFrameSize: MAX_MESSAGE });
    const handlerErrors: unknown[] = [];
    conn.on('handlerError', (err) => handlerErrors.push(err));
    conn.on('error', () => undefined);
    conn.onRequest('echo', (req) => ({ body: req.body, properties: { length: String(req.body.length) } }));
    const peer = new FuzzPeer(theirs, (text) => theirs.sendText(text));
    const script: Script = { framer: new Framer(), peer, rng, partial: [] };
    const actions: Action[] = [];
    try {
      for (let n = rng.range(1, 6); n > 0; n--) {
        const action = rng.weighted(ACTIONS);
        actions.push(action);
        await act(script, action);
      }
      // A well-formed request after the script: a connection still open must answer it correctly.
      const body = rng.bytes(rng.size(5000));
      const followUp = script.framer.nextRequest++;
      await sendMessage(script, followUp, echoPayload(body), rng.chance(0.5) ? FrameFlag.Compressed : 0, rng.range(1, 3));
      const outcome = await peer.replyOrClose(followUp, WAIT_MS);
      const what = `after ${actions.join(', ')}`;
      if (isReply(outcome)) {
        assert.equal(outcome.type, 'RPY', `${what}: follow-up answered with ${outcome.type} ${JSON.stringify(outcome.properties)}`);
        assert.deepEqual(Buffer.from(outcome.body), Buffer.from(body), `${what}: the follow-up's echo`);
        assert.equal(conn.isClosed, false);
      } else {
        assertProtocolClose(conn.closeInfo, what);
      }
      assert.deepEqual(handlerErrors, [], `${what}: no handler may fail`);
      assert.equal(peer.decodeError, undefined, `${what}: everything the connection sent must decode`);
    } finally {
      conn.close();
      peer.close();
      script.framer.close();
    }
    await withTimeout(peer.closed, 'the transport to close', WAIT_MS);
  });
  await drainEventLoop();
  assert.ok(pendingTimers() <= timersBefore, `timers left running after every connection closed: ${pendingTimers()} > ${timersBefore}`);
  guard.check();
});
