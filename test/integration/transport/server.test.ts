import assert from 'node:assert/strict';
import type net from 'node:net';
import os from 'node:os';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { BlipConnection } from '../../../server/blip/connection';
import { BlipWebSocketServer, ListenError, type ConnectionInfo, type DisconnectionInfo, type UpgradeRejection } from '../../../server/transport/blip-websocket-server';
import { ConnectionError } from '../../../server/transport/connection-error';
import { connectBlipWebSocket, type BlipWebSocketClient } from '../../../server/transport/websocket-client';
import { Cleanup, nextEvent, rawRequest, rejectionOf, startServer } from './helpers';
import { withTimeout } from '../../helpers/wait';

/** Guards every wait against a hang; generous because a busy machine can stall for seconds. */
const T = 30_000;

describe('BlipWebSocketServer (loopback)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function connect(server: BlipWebSocketServer, db = 'db', extra: Parameters<typeof connectBlipWebSocket>[1] = {}): Promise<BlipWebSocketClient> {
    const client = await withTimeout(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/${db}`, extra), 'client connect', T);
    cleanup.add(() => client.close());
    return client;
  }

  function rawWebSocket(server: BlipWebSocketServer, protocols: string[], path = '/db/_blipsync'): WebSocket {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols);
    ws.on('error', () => {});
    cleanup.add(() => ws.terminate());
    return ws;
  }

  /** Resolves with the HTTP status a raw ws client got instead of an upgrade (or 101 on open). */
  function upgradeOutcome(ws: WebSocket): Promise<{ status: number; body: string; protocol: string }> {
    return withTimeout(
      new Promise((resolve, reject) => {
        ws.once('open', () => resolve({ status: 101, body: '', protocol: ws.protocol }));
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body, protocol: '' });
            ws.terminate();
          });
        });
        ws.once('error', reject);
      }),
      'WebSocket upgrade outcome',
      T,
    );
  }

  describe('subprotocol negotiation', () => {
    it('refuses a client offering only BLIP_3+CBMobile_2 with HTTP 400 and a clear message', async () => {
      const server = await startServer(cleanup);
      const rejected = nextEvent<[UpgradeRejection]>(server, 'rejected', T);
      const outcome = await upgradeOutcome(rawWebSocket(server, ['BLIP_3+CBMobile_2']));
      assert.equal(outcome.status, 400);
      assert.match(outcome.body, /BLIP_3\+CBMobile_3/);
      assert.match(outcome.body, /offered BLIP_3\+CBMobile_2/);
      const [rejection] = await rejected;
      assert.equal(rejection.status, 400);
      assert.equal(rejection.remoteAddress, '127.0.0.1');
      assert.equal(rejection.database, 'db');
      assert.equal(server.status.connectionCount, 0);
    });

    it('refuses an upgrade offering no subprotocol with HTTP 400', async () => {
      const server = await startServer(cleanup);
      const res = await rawRequest(server.port, '/db/_blipsync', { upgrade: true });
      assert.equal(res.status, 400);
      assert.match(res.body, /offered no subprotocol/);
      assert.equal(res.headers['connection'], 'close');
    });

    it('accepts the offer a real client makes and selects BLIP_3+CBMobile_3', async () => {
      const server = await startServer(cleanup);
      const connected = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
      const outcome = await upgradeOutcome(rawWebSocket(server, ['BLIP_3+CBMobile_3', 'BLIP_3+CBMobile_2']));
      assert.deepEqual(outcome, { status: 101, body: '', protocol: 'BLIP_3+CBMobile_3' });
      const [, info] = await connected;
      assert.equal(info.database, 'db');
      assert.equal(info.remoteAddress, '127.0.0.1');
      assert.equal(info.request.headers['sec-websocket-protocol'], 'BLIP_3+CBMobile_3,BLIP_3+CBMobile_2');
      assert.equal(server.status.connectionCount, 1);

      // The header exactly as PROTOCOL-NOTES shows it, sent byte for byte.
      const res = await rawRequest(server.port, '/db/_blipsync', {
        upgrade: true,
        headers: { 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3,BLIP_3+CBMobile_2' },
      });
      assert.equal(res.status, 101);
      assert.equal(res.headers['sec-websocket-protocol'], 'BLIP_3+CBMobile_3');
    });
  });

  describe('paths and plain HTTP', () => {
    it('answers a plain GET of the sync endpoint with 426 and a helpful message', async () => {
      const server = await startServer(cleanup);
      const res = await rawRequest(server.port, '/db/_blipsync');
      assert.equal(res.status, 426);
      assert.match(res.body, /PeerSync sync endpoint/);
      assert.match(res.body, new RegExp(`ws://127\\.0\\.0\\.1:${server.port}/<db>`));
      assert.equal(res.headers['connection'], 'close');
    });

    it('answers other paths with 404 (plain and upgrade) and unknown methods with 405', async () => {
      const server = await startServer(cleanup);
      const root = await rawRequest(server.port, '/');
      assert.equal(root.status, 404);
      assert.match(root.body, /PeerSync sync endpoint/);
      for (const path of ['/db', '/db/_blipsync/extra', '/db/other', '//_blipsync']) {
        const res = await rawRequest(server.port, path, { upgrade: true, headers: { 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' } });
        assert.equal(res.status, 404, path);
        assert.ok(res.body.length > 0 && res.body.length < 200, `short body for ${path}`);
      }
      const post = await rawRequest(server.port, '/db/_blipsync', { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers['allow'], 'GET');
    });

    it('answers an upgrade for an unknown database with 404 "no database named X"', async () => {
      const server = await startServer(cleanup);
      const res = await rawRequest(server.port, '/nope/_blipsync', { upgrade: true, headers: { 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' } });
      assert.equal(res.status, 404);
      assert.equal(res.body.trim(), 'no database named nope');
    });

    it('URL-decodes the database name and asks hasDatabase()', async () => {
      const asked: string[] = [];
      const server = await startServer(cleanup, {
        databases: undefined,
        hasDatabase: (name) => {
          asked.push(name);
          return name === 'my db/ä';
        },
      });
      const connected = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
      await connect(server, encodeURIComponent('my db/ä'));
      const [, info] = await connected;
      assert.equal(info.database, 'my db/ä');
      assert.deepEqual(asked, ['my db/ä']);
      const malformed = await rawRequest(server.port, '/%E0%A4%A/_blipsync', { upgrade: true });
      assert.equal(malformed.status, 400);
    });

    it('refuses a non-WebSocket upgrade and a malformed handshake with 400', async () => {
      const server = await startServer(cleanup);
      const h2c = await rawRequest(server.port, '/db/_blipsync', { headers: { Connection: 'Upgrade', Upgrade: 'h2c' } });
      assert.equal(h2c.status, 400);
      const badKey = await rawRequest(server.port, '/db/_blipsync', {
        upgrade: true,
        headers: { 'Sec-WebSocket-Key': 'short', 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' },
      });
      assert.equal(badKey.status, 400);
      assert.match(badKey.body, /Sec-WebSocket-Key/);
      assert.equal(server.status.connectionCount, 0);
    });
  });

  describe('authentication hook', () => {
    it("sends the hook's 401 and WWW-Authenticate header; the client error is permanent and carries both", async () => {
      const seen: (string | undefined)[] = [];
      const server = await startServer(cleanup, {
        authenticate: async (req) => {
          seen.push(req.headers.authorization);
          return { ok: false, status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' }, message: 'login required' };
        },
      });
      const rejected = nextEvent<[UpgradeRejection]>(server, 'rejected', T);
      const err = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`), T, 'connect without credentials');
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.transient, false);
      assert.equal(err.httpStatus, 401);
      assert.equal(err.wwwAuthenticate, 'Basic realm="x"');
      assert.equal(err.responseBody?.trim(), 'login required');
      assert.deepEqual(seen, [undefined]);
      assert.deepEqual((await rejected)[0].status, 401);
    });

    it('passes the user the hook names to onConnection and the connection event', async () => {
      const infos: ConnectionInfo[] = [];
      const server = await startServer(cleanup, {
        authenticate: async (req) =>
          req.headers.authorization === 'Basic ' + Buffer.from('alice:pw').toString('base64')
            ? { ok: true, user: 'alice' }
            : { ok: false, status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' }, message: 'no' },
        onConnection: (_conn, info) => infos.push(info),
      });
      const connected = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
      await connect(server, 'db', { headers: { Authorization: 'Basic ' + Buffer.from('alice:pw').toString('base64') } });
      const [, info] = await connected;
      assert.equal(info.user, 'alice');
      assert.equal(infos.length, 1);
      assert.equal(infos[0]?.user, 'alice');
    });

    it('answers 500 when the hook throws, and reports the error', async () => {
      const server = await startServer(cleanup, {
        authenticate: async () => {
          throw new Error('auth backend down');
        },
      });
      const errored = nextEvent<[Error]>(server, 'error', T);
      const err = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`), T, 'connect');
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.httpStatus, 500);
      assert.equal((await errored)[0].message, 'auth backend down');
    });
  });

  describe('connection limit and status', () => {
    it('gives the connection over the limit HTTP 503 (transient) and frees the slot on disconnect', async () => {
      const server = await startServer(cleanup, { maxConnections: 2 });
      const first = await connect(server);
      await connect(server);
      assert.equal(server.status.connectionCount, 2);
      const err = await rejectionOf(connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`), T, 'third connect');
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.httpStatus, 503);
      assert.equal(err.transient, true);
      assert.match(err.responseBody ?? '', /connection limit \(2\)/);

      const gone = nextEvent<[BlipConnection, DisconnectionInfo]>(server, 'disconnection', T);
      await first.close();
      const [, info] = await gone;
      assert.equal(info.code, 1000);
      assert.equal(server.status.connectionCount, 1);
      await connect(server);
      assert.equal(server.status.connectionCount, 2);
    });

    it('counts connections the owner marks active', async () => {
      const server = await startServer(cleanup);
      const connected = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
      await connect(server);
      await connect(server);
      const [conn] = await connected;
      assert.deepEqual(server.status, { connectionCount: 2, activeConnectionCount: 0 });
      server.markActive(conn, true);
      assert.deepEqual(server.status, { connectionCount: 2, activeConnectionCount: 1 });
      server.markActive(conn, false);
      assert.deepEqual(server.status, { connectionCount: 2, activeConnectionCount: 0 });
      assert.equal(server.connections.length, 2);
      assert.equal(server.connectionInfo(conn)?.database, 'db');
    });
  });

  describe('start / stop', () => {
    it('stop() closes live connections with 1001 (transient for the client) and the port can be reused at once', async () => {
      const server = await startServer(cleanup);
      const port = server.port;
      assert.ok(port > 0);
      const a = await connect(server);
      const b = await connect(server);
      const disconnections: DisconnectionInfo[] = [];
      server.on('disconnection', (_c, info) => disconnections.push(info));

      await withTimeout(server.stop(), 'stop', T);
      assert.equal(server.isListening, false);
      assert.equal(server.port, 0);
      assert.deepEqual(server.urls('db'), []);
      for (const client of [a, b]) {
        const closed = await withTimeout(client.closed, 'client close', T);
        assert.equal(closed.code, 1001);
        assert.equal(closed.local, false);
        assert.ok(closed.connectionError);
        assert.equal(closed.connectionError.transient, true);
        assert.equal(closed.connectionError.closeCode, 1001);
      }
      assert.deepEqual(disconnections.map((d) => d.code).sort(), [1001, 1001]);
      assert.equal(server.status.connectionCount, 0);

      // Same object, auto port: it takes the same port again.
      await withTimeout(server.start(), 'restart', T);
      assert.equal(server.port, port);
      const c = await connect(server);
      const reply = c.connection.request({ profile: 'nobody-handles-this' });
      await assert.rejects(withTimeout(reply, 'reply', T), /no handler/);
      await withTimeout(server.stop(), 'second stop', T);

      // A different server with the same explicit port, immediately.
      const other = await startServer(cleanup, { port });
      assert.equal(other.port, port);
      await connect(other);
    });

    it('stop() terminates a peer that does not answer the close handshake, within the stop timeout', async () => {
      const server = await startServer(cleanup, { stopTimeoutMs: 300 });
      const ws = rawWebSocket(server, ['BLIP_3+CBMobile_3']);
      await nextEvent(ws, 'open', T);
      // The peer stops reading: the close frame is never seen, so it never answers.
      (ws as unknown as { _socket: net.Socket })._socket.pause();
      // The close handshake cannot complete, so only the stop timeout can end this wait.
      await withTimeout(server.stop(), 'stop with an unresponsive peer', T);
      assert.equal(server.status.connectionCount, 0);
    });

    it('stop() and start() are idempotent', async () => {
      const server = await startServer(cleanup);
      const port = server.port;
      await Promise.all([server.start(), server.start()]);
      assert.equal(server.port, port);
      await Promise.all([server.stop(), server.stop()]);
      await server.stop();
      assert.equal(server.isListening, false);
    });

    it('stop() drops upgrades still waiting for the authenticate hook (transient for the client)', async () => {
      let hookCalled!: () => void;
      const called = new Promise<void>((resolve) => {
        hookCalled = resolve;
      });
      let release!: (result: { ok: true }) => void;
      const server = await startServer(cleanup, {
        authenticate: () => {
          hookCalled();
          return new Promise((resolve) => {
            release = resolve;
          });
        },
      });
      const attempt = connectBlipWebSocket(`ws://127.0.0.1:${server.port}/db`);
      await withTimeout(called, 'authenticate hook call', T);
      await withTimeout(server.stop(), 'stop during authentication', T);
      const err = await rejectionOf(attempt, T, 'connect interrupted by stop');
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.transient, true);
      release({ ok: true }); // a late answer from the hook must be harmless
      assert.equal(server.status.connectionCount, 0);
    });

    it('start() fails clearly when the port is taken', async () => {
      const first = await startServer(cleanup);
      const second = new BlipWebSocketServer({ networkInterface: '127.0.0.1', port: first.port, databases: ['db'] });
      const err = await rejectionOf(second.start(), T, 'start on a taken port');
      assert.ok(err instanceof ListenError);
      assert.equal(err.code, 'EADDRINUSE');
      assert.match(err.message, new RegExp(`port ${first.port} is already in use`));
      assert.equal(second.isListening, false);
    });

    it('start() fails clearly for an unknown interface name', async () => {
      const server = new BlipWebSocketServer({ networkInterface: 'no-such-if0', databases: ['db'] });
      const err = await rejectionOf(server.start(), T, 'start on an unknown interface');
      assert.ok(err instanceof ListenError);
      assert.match(err.message, /unknown network interface "no-such-if0"/);
    });
  });

  describe('urls()', () => {
    it('lists exactly the bound address when bound to 127.0.0.1', async () => {
      const server = await startServer(cleanup);
      assert.deepEqual(server.urls('db'), [`ws://127.0.0.1:${server.port}/db`]);
      assert.deepEqual(server.urls('a b'), [`ws://127.0.0.1:${server.port}/a%20b`]);
      assert.deepEqual(server.urls('db', 'wss'), [`wss://127.0.0.1:${server.port}/db`]);
    });

    it('resolves an interface name (the loopback one) to its address', async () => {
      const loopback = Object.entries(os.networkInterfaces()).find(([, addrs]) => (addrs ?? []).some((a) => a.internal && a.family === 'IPv4' && a.address === '127.0.0.1'));
      if (!loopback) return; // no named loopback interface on this machine
      const server = await startServer(cleanup, { networkInterface: loopback[0] });
      assert.deepEqual(server.urls('db'), [`ws://127.0.0.1:${server.port}/db`]);
      await connect(server);
    });

    it('lists usable addresses plus 127.0.0.1, never link-local, when bound to all interfaces', async () => {
      const server = await startServer(cleanup, { networkInterface: undefined });
      const urls = server.urls('db');
      assert.ok(urls.includes(`ws://127.0.0.1:${server.port}/db`), urls.join(' '));
      for (const url of urls) {
        assert.doesNotMatch(url, /fe[89ab][0-9a-f]?:|169\.254\./i);
        assert.match(url, new RegExp(`^ws://(\\d+\\.\\d+\\.\\d+\\.\\d+|\\[[0-9a-f:]+\\]):${server.port}/db$`, 'i'));
      }
      assert.equal(new Set(urls).size, urls.length);
      await connect(server);
    });
  });

  describe('WebSocket-level violations', () => {
    it('closes with 1009 when a WebSocket message exceeds maxPayload', async () => {
      const server = await startServer(cleanup, { maxPayload: 1024 });
      const ws = rawWebSocket(server, ['BLIP_3+CBMobile_3']);
      await nextEvent(ws, 'open', T);
      const closed = nextEvent<[number, Buffer]>(ws, 'close', T);
      ws.send(Buffer.alloc(2048, 1));
      const [code] = await closed;
      assert.equal(code, 1009);
    });

    it('an oversized BLIP frame from connectBlipWebSocket ends the connection with a permanent 1009', async () => {
      const server = await startServer(cleanup, { maxPayload: 4096 });
      const client = await connect(server);
      void client.connection.request({ profile: 'big', body: 'x'.repeat(10_000), compressed: false }).catch(() => {});
      const closed = await withTimeout(client.closed, 'client close', T);
      assert.equal(closed.code, 1009);
      assert.equal(closed.connectionError?.transient, false);
      assert.equal(closed.connectionError?.closeCode, 1009);
    });

    it('closes with a BLIP protocol error (1003) when a raw client sends a text message', async () => {
      const server = await startServer(cleanup);
      const serverSide = nextEvent<[BlipConnection, ConnectionInfo]>(server, 'connection', T);
      const ws = rawWebSocket(server, ['BLIP_3+CBMobile_3']);
      await nextEvent(ws, 'open', T);
      const [conn] = await serverSide;
      const serverError = nextEvent<[Error]>(conn, 'error', T);
      const closed = nextEvent<[number, Buffer]>(ws, 'close', T);
      ws.send('hello');
      const [code, reason] = await closed;
      assert.equal(code, 1003);
      assert.match(reason.toString('utf8'), /^BLIP protocol error TEXT_FRAME/);
      assert.match((await serverError)[0].message, /text WebSocket message/);
    });
  });
});
