/**
 * Fuzzing the WebSocket listener over loopback: odd HTTP upgrade requests (every one is answered
 * with 101 or a 4xx and the socket closed, never left hanging or answered with a server error; no
 * connection slot leaks), then hostile BLIP traffic on upgraded sockets (each is closed with a
 * protocol close code, or keeps answering), then sockets that never finish their request.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { createWebSocketTransport } from '../../../server/blip/websocket-transport';
import { MessageType } from '../../../server/blip/frame';
import type { BlipWebSocketServer } from '../../../server/transport/blip-websocket-server';
import { connectBlipWebSocket } from '../../../server/transport/websocket-client';
import { drainEventLoop, fuzzLoop, guardProcess, pendingTimers } from '../../helpers/fuzz';
import { withTimeout } from '../../helpers/wait';
import { Framer, mutateFrame, plainPayload } from '../../helpers/fuzz-frames';
import { upgradeRequest, type HttpFuzzRequest } from '../../helpers/fuzz-http';
import { waitForCondition } from '../../helpers/wait';
import { FuzzPeer, isReply } from '../../unit/fuzz/fuzz-peer';
import { Cleanup, startServer } from '../transport/helpers';

const WAIT_MS = 5000;
const SUBPROTOCOL = 'BLIP_3+CBMobile_3';
const MAX_CONNECTIONS = 4;
const MAX_PAYLOAD = 256 * 1024;

interface Answer {
  /** Status of the response, undefined if the server closed without one. */
  readonly status: number | undefined;
  readonly head: string;
}

/** Writes the request and reads the answer until the server closes, or until a 101 head is complete. */
function exchange(port: number, request: HttpFuzzRequest): Promise<Answer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const answer = new Promise<Answer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const status = (): number | undefined => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received.toString('latin1'));
      return m ? Number(m[1]) : undefined;
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      if (status() === 101 && text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve({ status: 101, head: text.slice(0, text.indexOf('\r\n\r\n')) });
      }
    });
    socket.on('error', () => undefined); // a reset is a close like any other here
    socket.on('close', () => resolve({ status: status(), head: received.toString('latin1').split('\r\n\r\n')[0] ?? '' }));
    socket.on('connect', () => {
      const complete = request.cutAt === undefined && request.bytes.includes('\r\n\r\n');
      socket.write(request.cutAt === undefined ? request.bytes : request.bytes.subarray(0, request.cutAt));
      // A request that cannot complete is followed by our end of the stream, as a peer that gives up.
      if (!complete) socket.end();
    });
    socket.on('timeout', () => reject(new Error('socket timeout')));
  });
  return withTimeout(answer, `an answer to ${JSON.stringify(request.bytes.subarray(0, 120).toString('latin1'))}`, WAIT_MS).finally(() => socket.destroy());
}

async function startFuzzedServer(cleanup: Cleanup): Promise<BlipWebSocketServer> {
  return startServer(cleanup, {
    maxConnections: MAX_CONNECTIONS,
    maxPayload: MAX_PAYLOAD,
    onConnection: (connection) => {
      connection.on('error', () => undefined);
      connection.onRequest('ping', (req) => ({ body: req.body }));
    },
  });
}

async function noConnections(server: BlipWebSocketServer): Promise<void> {
  await waitForCondition(
    () => server.status.connectionCount === 0,
    (notify) => server.on('disconnection', notify),
    WAIT_MS,
    'every connection to be gone',
  );
}

/** A well-behaved replicator-side client still gets in and gets its answer. */
async function probe(server: BlipWebSocketServer, what: string): Promise<void> {
  const client = await withTimeout(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`), `a valid client to connect (${what})`, WAIT_MS);
  try {
    const reply = await withTimeout(client.connection.request({ profile: 'ping', body: 'still here' }), `the probe's reply (${what})`, WAIT_MS);
    assert.equal(reply.text(), 'still here');
  } finally {
    await client.close();
  }
}

describe('listener under odd upgrades and hostile traffic (loopback)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('answers every odd upgrade request with 101 or a 4xx and closes; never hangs, never leaks a slot', async (t: TestContext) => {
    const guard = guardProcess(t);
    const server = await startFuzzedServer(cleanup);
    const serverErrors: Error[] = [];
    server.on('error', (e) => serverErrors.push(e));
    await fuzzLoop(t, 'listener-upgrade', 200, async (rng, i) => {
      const request = upgradeRequest(rng);
      const answer = await exchange(server.port, request);
      const what = `${JSON.stringify(request.bytes.subarray(0, 300).toString('latin1'))} -> ${answer.head.slice(0, 300)}`;
      if (answer.status !== undefined) {
        assert.ok(answer.status === 101 || (answer.status >= 400 && answer.status < 500), `a server error or odd status: ${what}`);
      }
      if (request.valid) assert.equal(answer.status, 101, `a valid upgrade must succeed: ${what}`);
      if (answer.status === 101) assert.match(answer.head, new RegExp(`\\r\\nSec-WebSocket-Protocol: ${SUBPROTOCOL.replace('+', '\\+')}`, 'i'), what);
      // More sockets than slots have gone by: a leaked slot would turn this probe into a 503.
      if (i % 25 === 24) {
        await noConnections(server);
        await probe(server, `after iteration ${i}`);
      }
    });
    await noConnections(server);
    await probe(server, 'at the end');
    assert.deepEqual(serverErrors, []);
    guard.check();
  });

  it('closes upgraded sockets that send bad BLIP frames with a protocol close code; the others keep answering', async (t: TestContext) => {
    const guard = guardProcess(t);
    const server = await startFuzzedServer(cleanup);
    await fuzzLoop(t, 'listener-blip-traffic', 80, async (rng) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/db/_blipsync`, [SUBPROTOCOL]);
      ws.on('error', () => undefined);
      await withTimeout(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('unexpected-response', () => reject(new Error('upgrade refused'))))), 'the upgrade', WAIT_MS);
      const peer = new FuzzPeer(createWebSocketTransport(ws), (text) => ws.send(text));
      const framer = new Framer();
      try {
        for (let n = rng.range(0, 3); n > 0; n--) {
          const kind = rng.pick(['valid', 'mutated', 'raw', 'text', 'huge'] as const);
          const payload = plainPayload({ Profile: 'ping' }, rng.bytes(rng.size(2000)));
          if (kind === 'valid') for (const f of await framer.message(framer.nextRequest++, MessageType.MSG, payload, rng.range(1, 3))) peer.send(f);
          else if (kind === 'mutated') peer.send(mutateFrame(rng, await framer.frame(framer.nextRequest++, MessageType.MSG, payload)).bytes);
          else if (kind === 'raw') peer.send(rng.bytes(rng.range(1, 200)));
          else if (kind === 'text') peer.sendText('not a frame');
          else peer.send(new Uint8Array(MAX_PAYLOAD + 1));
        }
        const body = rng.bytes(rng.size(3000));
        const followUp = framer.nextRequest++;
        for (const f of await framer.message(followUp, MessageType.MSG, plainPayload({ Profile: 'ping' }, body), rng.range(1, 2))) peer.send(f);
        const outcome = await peer.replyOrClose(followUp, WAIT_MS);
        if (isReply(outcome)) {
          assert.equal(outcome.type, 'RPY');
          assert.deepEqual(Buffer.from(outcome.body), Buffer.from(body));
        } else {
          assert.ok([1002, 1003, 1009].includes(outcome.code), `closed with ${outcome.code} (${outcome.reason}); bad traffic should get 1002, 1003 or 1009`);
        }
        assert.equal(peer.decodeError, undefined);
      } finally {
        ws.terminate();
        framer.close();
      }
    });
    await noConnections(server);
    await probe(server, 'after the hostile traffic');
    guard.check();
  });

  it('requests that never finish hold no one else up, and stop() still ends promptly, leaving no timer', async (t: TestContext) => {
    const guard = guardProcess(t);
    const timersBefore = pendingTimers();
    const server = await startFuzzedServer(cleanup);
    const stalled: net.Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS + 2; i++) {
      const socket = net.connect({ host: '127.0.0.1', port: server.port });
      socket.on('error', () => undefined);
      await withTimeout(new Promise((resolve) => socket.once('connect', resolve)), 'a stalled socket to connect', WAIT_MS);
      socket.write(`GET /db/_blipsync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`); // and nothing more
      stalled.push(socket);
      cleanup.add(() => socket.destroy());
    }
    await probe(server, 'beside stalled requests');
    const closedByStop = stalled.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
    await withTimeout(server.stop(), 'stop() with stalled requests', WAIT_MS);
    await withTimeout(Promise.all(closedByStop), 'stop() to close the stalled sockets', WAIT_MS);
    await drainEventLoop();
    assert.ok(pendingTimers() <= timersBefore, `timers left running after stop(): ${pendingTimers()} > ${timersBefore}`);
    guard.check();
  });
});
