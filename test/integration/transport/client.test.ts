import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import type { BlipConnection } from '../../../server/blip/connection';
import type { ConnectionInfo } from '../../../server/transport/blip-websocket-server';
import { ConnectionError } from '../../../server/transport/connection-error';
import { blipsyncUrl, connectBlipWebSocket, type BlipWebSocketClient } from '../../../server/transport/websocket-client';
import { Cleanup, closedPort, nextEvent, rejectionOf, startServer } from './helpers';
import { withTimeout } from '../../helpers/wait';

/** Guards every wait against a hang; generous because a busy machine can stall for seconds. */
const T = 30_000;

describe('connectBlipWebSocket (loopback)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function track(client: BlipWebSocketClient): BlipWebSocketClient {
    cleanup.add(() => client.close());
    return client;
  }

  /** A TCP server that accepts connections and never answers; resolves the server-side sockets as they arrive. */
  async function silentServer(): Promise<{ port: number; sockets: net.Socket[]; nextSocket(): Promise<net.Socket> }> {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.resume(); // read (and discard) the request, so the peer's FIN is noticed
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.add(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return {
      port: (server.address() as net.AddressInfo).port,
      sockets,
      nextSocket: () => nextEvent<[net.Socket]>(server, 'connection', T, 'TCP connection').then(([s]) => s),
    };
  }

  /** A bare ws server (not the code under test) speaking the subprotocol, with configurable behaviour. */
  async function wsServer(options: { autoPong?: boolean; selectProtocol?: boolean } = {}): Promise<{ port: number; nextSocket(): Promise<WebSocket> }> {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      autoPong: options.autoPong ?? true,
      handleProtocols: (offered) => (options.selectProtocol === false ? false : offered.has('BLIP_3+CBMobile_3') ? 'BLIP_3+CBMobile_3' : false),
    });
    await nextEvent(wss, 'listening', T);
    cleanup.add(async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    });
    return {
      port: (wss.address() as net.AddressInfo).port,
      nextSocket: () => nextEvent<[WebSocket, IncomingMessage]>(wss, 'connection', T, 'ws connection').then(([s]) => s),
    };
  }

  it('runs BLIP request/reply round trips in both directions', async () => {
    const server = await startServer(cleanup);
    const serverConn = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
    const client = track(await withTimeout(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`), 'connect', T));
    assert.equal(client.url, `ws://127.0.0.1:${server.port}/db/_blipsync`);
    assert.equal(client.socket.protocol, 'BLIP_3+CBMobile_3');
    const [conn, info] = await serverConn;
    assert.equal(info.database, 'db');

    conn.onRequest('getCheckpoint', (req) => ({ properties: { rev: '1-abc' }, body: JSON.stringify({ client: req.property('client') }) }));
    client.connection.onRequest('changes', (req) => ({ body: `got ${req.text()}` }));

    const toServer = await withTimeout(client.connection.request({ profile: 'getCheckpoint', properties: { client: 'cp-1' } }), 'reply from server', T);
    assert.equal(toServer.property('rev'), '1-abc');
    assert.deepEqual(toServer.json(), { client: 'cp-1' });

    const toClient = await withTimeout(conn.request({ profile: 'changes', body: '[[1,"doc1","1-a"]]' }), 'reply from client', T);
    assert.equal(toClient.text(), 'got [[1,"doc1","1-a"]]');

    const serverClosed = nextEvent(conn, 'close', T);
    await client.close();
    await serverClosed;
    const closed = await client.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.local, true);
    assert.equal(closed.connectionError, undefined);
  });

  it('builds the _blipsync URL from the database URL', () => {
    assert.equal(blipsyncUrl('ws://h:1/db'), 'ws://h:1/db/_blipsync');
    assert.equal(blipsyncUrl('ws://h:1/db/'), 'ws://h:1/db/_blipsync');
    assert.equal(blipsyncUrl('wss://h:1/db/_blipsync'), 'wss://h:1/db/_blipsync');
    assert.equal(blipsyncUrl('ws://[::1]:1/my%20db'), 'ws://[::1]:1/my%20db/_blipsync');
    for (const bad of ['http://h:1/db', 'ws://h:1/', 'not a url']) {
      assert.throws(
        () => blipsyncUrl(bad),
        (err: unknown) => err instanceof ConnectionError && err.code === 'INVALID_URL' && !err.transient,
        bad,
      );
    }
  });

  it('classifies an unknown database (404) as permanent', async () => {
    const server = await startServer(cleanup);
    const err = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/nope`), T, 'connect to unknown db');
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.transient, false);
    assert.equal(err.httpStatus, 404);
    assert.equal(err.responseBody?.trim(), 'no database named nope');
    assert.match(err.message, /HTTP 404/);
  });

  it('classifies a refused connection as transient ECONNREFUSED', async () => {
    const port = await closedPort();
    const err = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${port}/db`), T, 'connect to a closed port');
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.transient, true);
    assert.equal(err.code, 'ECONNREFUSED');
  });

  it('times out a handshake that never gets an answer (transient) and destroys the socket', async () => {
    const silent = await silentServer();
    const accepted = silent.nextSocket();
    const attempt = connectBlipWebSocket(`ws://127.0.0.1:${silent.port}/db`, { timeoutMs: 300 });
    const serverSocket = await accepted;
    const serverSideClosed = nextEvent(serverSocket, 'close', T, 'server-side socket close');
    const err = await rejectionOf(attempt, T, 'connect to a silent server');
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.transient, true);
    assert.equal(err.code, 'HANDSHAKE_TIMEOUT');
    await serverSideClosed;
  });

  it('cancels a pending connect when the signal aborts', async () => {
    const silent = await silentServer();
    const accepted = silent.nextSocket();
    const controller = new AbortController();
    const attempt = connectBlipWebSocket(`ws://127.0.0.1:${silent.port}/db`, { signal: controller.signal });
    const serverSocket = await accepted;
    const serverSideClosed = nextEvent(serverSocket, 'close', T, 'server-side socket close');
    controller.abort(new Error('replicator stopped'));
    const err = await rejectionOf(attempt, T, 'aborted connect');
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.code, 'ABORT_ERR');
    assert.match(err.message, /aborted: replicator stopped/);
    await serverSideClosed;

    const already = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${silent.port}/db`, { signal: AbortSignal.abort() }), T, 'connect with an aborted signal');
    assert.ok(already instanceof ConnectionError);
    assert.equal(already.code, 'ABORT_ERR');
  });

  it('refuses a server that does not select the subprotocol (permanent)', async () => {
    const bare = await wsServer({ selectProtocol: false });
    const err = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${bare.port}/db`), T, 'connect');
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.transient, false);
    assert.equal(err.code, 'WRONG_SUBPROTOCOL');
  });

  it('detects a peer that stops answering pings (heartbeat 1 s) and reports a transient heartbeat timeout', async () => {
    const bare = await wsServer({ autoPong: false });
    const serverSocket = bare.nextSocket();
    const client = track(await withTimeout(connectBlipWebSocket(`ws://127.0.0.1:${bare.port}/db`, { heartbeatSeconds: 1 }), 'connect', T));
    const peer = await serverSocket;
    const pinged = nextEvent(peer, 'ping', T, 'first ping');
    const peerClosed = nextEvent<[number]>(peer, 'close', T, 'peer-side close');
    const socketClosed = nextEvent(client.socket, 'close', T, 'client socket close');
    let pingSeen = false;
    const closedAfterPing = client.closed.then(() => pingSeen);
    await pinged;
    pingSeen = true;
    const closed = await withTimeout(client.closed, 'heartbeat failure', T);
    // The connection is declared dead only after a ping went unanswered.
    assert.equal(await closedAfterPing, true, 'closed before the first ping was sent');
    assert.equal(closed.code, 1006);
    assert.equal(closed.reason, 'heartbeat timeout');
    assert.ok(closed.connectionError);
    assert.equal(closed.connectionError.transient, true);
    assert.equal(closed.connectionError.code, 'HEARTBEAT_TIMEOUT');
    await socketClosed;
    assert.equal(client.socket.readyState, WebSocket.CLOSED);
    assert.equal((await peerClosed)[0], 1006);
    await assert.rejects(client.connection.request({ profile: 'x' }), /closed/);
  });

  it('keeps a connection whose peer answers pings alive across several heartbeats', async () => {
    const server = await startServer(cleanup);
    const serverConn = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
    const client = track(await withTimeout(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`, { heartbeatSeconds: 1 }), 'connect', T));
    const [conn, info] = await serverConn;
    for (let i = 1; i <= 3; i++) await nextEvent(info.socket, 'ping', T, `ping ${i}`);
    assert.equal(client.connection.isClosed, false);
    conn.onRequest('echo', (req) => ({ body: req.body }));
    assert.equal((await withTimeout(client.connection.request({ profile: 'echo', body: 'alive' }), 'echo', T)).text(), 'alive');
  });

  it('classifies closes by the server: 4001 transient, 4002 permanent', async () => {
    const server = await startServer(cleanup);
    for (const [code, transient] of [
      [4001, true],
      [4002, false],
    ] as const) {
      const serverConn = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
      const client = track(await withTimeout(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`), 'connect', T));
      const [conn] = await serverConn;
      conn.close(code, 'app says so');
      const closed = await withTimeout(client.closed, `close ${code}`, T);
      assert.equal(closed.code, code);
      assert.equal(closed.local, false);
      assert.equal(closed.connectionError?.transient, transient);
      assert.equal(closed.connectionError?.closeReason, 'app says so');
    }
  });
});
