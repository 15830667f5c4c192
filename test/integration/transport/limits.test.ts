import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FrameEncoder } from '../../../server/blip/frame-encoder';
import { MessageType } from '../../../server/blip/frame';
import { encodeMessagePayload } from '../../../server/blip/message';
import type { BlipWebSocketServer } from '../../../server/transport/blip-websocket-server';
import { Cleanup, nextEvent, rawRequest, startServer } from './helpers';
import { withTimeout } from '../../helpers/wait';

const T = 5000;

/** Encodes a raw client's request frames with one running checksum (a frame only when it is sent). */
function requestFrames(): { first: (msgNo: number, bodySize: number) => Uint8Array; whole: (msgNo: number) => Uint8Array } {
  const encoder = new FrameEncoder({ compressionLevel: 0 });
  return {
    first(msgNo, bodySize) {
      const payload = encodeMessagePayload({ Profile: 'p' }, new Uint8Array(bodySize));
      const frame = encoder.encodeSync(msgNo, MessageType.MSG, payload, 0, 4096);
      assert.ok(frame?.moreComing);
      return frame.bytes;
    },
    whole(msgNo) {
      const frame = encoder.encodeSync(msgNo, MessageType.MSG, encodeMessagePayload({ Profile: 'hello' }, undefined), 0);
      assert.ok(frame && !frame.moreComing);
      return frame.bytes;
    },
  };
}

describe('listener limits (loopback)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function rawWebSocket(server: BlipWebSocketServer, options: WebSocket.ClientOptions = {}): WebSocket {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/db/_blipsync`, ['BLIP_3+CBMobile_3'], options);
    ws.on('error', () => {});
    cleanup.add(() => ws.terminate());
    return ws;
  }

  async function openWebSocket(server: BlipWebSocketServer, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
    const ws = rawWebSocket(server, options);
    await nextEvent(ws, 'open', T, 'WebSocket open');
    return ws;
  }

  function rawSocket(port: number): net.Socket {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    cleanup.add(() => socket.destroy());
    return socket;
  }

  /** Everything the server sent before it closed the socket. */
  function untilClosed(socket: net.Socket, what: string): Promise<string> {
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    return withTimeout(new Promise((resolve) => socket.once('close', () => resolve(received))), what, T);
  }

  describe('partially received messages', () => {
    it('closes a connection that leaves too many requests unfinished with 1008', async () => {
      const server = await startServer(cleanup, { blipOptions: { maxPendingIncomingMessages: 2 } });
      const ws = await openWebSocket(server);
      const frames = requestFrames();
      const closed = nextEvent<[number, Buffer]>(ws, 'close', T, 'close over the unfinished-message limit');
      for (let n = 1; n <= 3; n++) ws.send(frames.first(n, 100_000));
      const [code, reason] = await closed;
      assert.equal(code, 1008);
      assert.match(reason.toString(), /PENDING_INCOMING_LIMIT/);
    });

    it('closes a connection whose unfinished requests stall with 1001', async () => {
      const server = await startServer(cleanup, { blipOptions: { stalledMessageTimeoutMs: 100 } });
      const ws = await openWebSocket(server);
      const closed = nextEvent<[number, Buffer]>(ws, 'close', T, 'close of a stalled request');
      ws.send(requestFrames().first(1, 100_000));
      const [code, reason] = await closed;
      assert.equal(code, 1001);
      assert.match(reason.toString(), /STALLED_MESSAGE/);
    });
  });

  describe('connections per address', () => {
    it('answers 429 to one more connection from the same address than allowed, and frees the slot on close', async () => {
      const server = await startServer(cleanup, { maxConnections: 10, limits: { maxConnectionsPerAddress: 2 } });
      const first = await openWebSocket(server);
      await openWebSocket(server);
      const refused = await rawRequest(server.port, '/db/_blipsync', { upgrade: true, headers: { 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' } });
      assert.equal(refused.status, 429);
      assert.match(refused.body, /too many connections from 127\.0\.0\.1 \(at most 2\)/);
      assert.equal(refused.headers['retry-after'], '5');
      const gone = nextEvent(server, 'disconnection', T);
      first.close();
      await gone;
      await openWebSocket(server);
    });
  });

  describe('idle connections', () => {
    const limits = { pingIntervalMs: 50, idleTimeoutMs: 200, firstMessageTimeoutMs: 100 };

    it('closes a peer that neither sends nor answers pings with 1001', async () => {
      const server = await startServer(cleanup, { limits: { ...limits, firstMessageTimeoutMs: 60_000 } });
      const ws = await openWebSocket(server, { autoPong: false });
      const pinged = nextEvent(ws, 'ping', T, 'a ping from the server');
      const closed = nextEvent<[number, Buffer]>(ws, 'close', T, 'close of the idle peer');
      ws.send(requestFrames().whole(1));
      await pinged;
      const [code, reason] = await closed;
      assert.equal(code, 1001);
      assert.match(reason.toString(), /nothing received for 200 ms/);
    });

    it('keeps a peer that answers pings open however long it has nothing to say', async () => {
      // A roomy idle timeout: a busy test machine may hold up a pong for a while.
      const server = await startServer(cleanup, { limits: { pingIntervalMs: 50, idleTimeoutMs: 1000, firstMessageTimeoutMs: 1000 } });
      const ws = await openWebSocket(server);
      ws.send(requestFrames().whole(1));
      let pings = 0;
      // Pings come every 50 ms of silence: thirty of them span well over the idle timeout.
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.on('ping', () => ++pings === 30 && resolve());
          ws.once('close', (code: number, reason: Buffer) => reject(new Error(`closed after ${pings} pings: ${code} ${reason.toString()}`)));
        }),
        'thirty pings',
        T,
      );
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(server.status.connectionCount, 1);
    });

    it('closes a connection that never sends a BLIP message with 1008, even if it answers pings', async () => {
      const server = await startServer(cleanup, { limits: { ...limits, pingIntervalMs: 20 } });
      const ws = await openWebSocket(server);
      const [code, reason] = await nextEvent<[number, Buffer]>(ws, 'close', T, 'close of the silent connection');
      assert.equal(code, 1008);
      assert.match(reason.toString(), /no BLIP message within 100 ms/);
    });
  });

  describe('slow clients before the WebSocket opens', () => {
    it('answers 408 when request headers take longer than the headers timeout, even while they trickle in', async () => {
      const server = await startServer(cleanup, { limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
      const socket = rawSocket(server.port);
      const response = untilClosed(socket, 'the server to close a slow-headers client');
      socket.write('GET /db/_blipsync HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 20);
      cleanup.add(() => clearInterval(drip));
      assert.match(await response, /^HTTP\/1\.1 408 /);
    });

    it('answers 408 when the upgrade (authentication included) takes longer than the upgrade timeout', async () => {
      const server = await startServer(cleanup, {
        limits: { upgradeTimeoutMs: 100 },
        authenticate: () => new Promise(() => {}),
      });
      const res = await rawRequest(server.port, '/db/_blipsync', { upgrade: true, headers: { 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' } });
      assert.equal(res.status, 408);
      assert.match(res.body, /not completed within 100 ms/);
      assert.equal(server.status.connectionCount, 0);
    });

    it('refuses limits that would disable a timeout', async () => {
      await assert.rejects(startServer(cleanup, { limits: { idleTimeoutMs: 0 } }), /idleTimeoutMs must be a positive integer/);
    });
  });
});
