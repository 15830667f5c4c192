import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { BlipConnection } from '../../../server/blip/connection';
import { BLIP_SUBPROTOCOLS } from '../../../server/blip/constants';
import { BlipProtocolError } from '../../../server/blip/errors';
import { createWebSocketTransport } from '../../../server/blip/websocket-transport';
import { closeEvent, compressibleText } from './helpers';
import { withTimeout } from '../../helpers/wait';

describe('WebSocket transport (ws on loopback)', () => {
  let server: WebSocketServer;
  let url: string;
  const serverConnections: BlipConnection[] = [];

  before(async () => {
    server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (offered) => BLIP_SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/db/_blipsync`;
    server.on('connection', (socket) => {
      const connection = new BlipConnection(createWebSocketTransport(socket), { name: 'server' });
      connection.onRequest('echo', (req) => ({ properties: { size: String(req.body.length) }, body: req.body }));
      // Answers only later, as a receiver waiting for its disk would.
      connection.onRequest('slow', () => new Promise((resolve) => setTimeout(() => resolve({ body: 'late' }), 200)));
      serverConnections.push(connection);
    });
  });

  after(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function connect(): Promise<{ socket: WebSocket; connection: BlipConnection }> {
    const socket = new WebSocket(url, [...BLIP_SUBPROTOCOLS]);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      }),
      'WebSocket open',
    );
    assert.equal(socket.protocol, 'BLIP_3+CBMobile_3');
    return { socket, connection: new BlipConnection(createWebSocketTransport(socket), { name: 'client' }) };
  }

  it('carries requests and large compressed replies', async () => {
    const { connection } = await connect();
    const body = compressibleText(300_000);
    const reply = await withTimeout(connection.request({ profile: 'echo', body }), 'echo reply');
    assert.equal(reply.property('size'), String(body.length));
    assert.equal(reply.text(), body);
    assert.equal(reply.compressed, true);
    const serverSide = serverConnections[serverConnections.length - 1] as BlipConnection;
    const serverClosed = closeEvent(serverSide);
    connection.close(1000, 'done');
    assert.deepStrictEqual(await withTimeout(serverClosed, 'server close'), { code: 1000, reason: 'done', local: false });
  });

  it('closes with 1003 when the peer sends a text message', async () => {
    const { socket, connection } = await connect();
    const serverSide = serverConnections[serverConnections.length - 1] as BlipConnection;
    const clientClosed = closeEvent(connection);
    socket.send('not a BLIP frame');
    const info = await withTimeout(closeEvent(serverSide), 'server close');
    assert.ok(info.error instanceof BlipProtocolError);
    assert.equal(info.error.code, 'TEXT_FRAME');
    const seen = await withTimeout(clientClosed, 'client close');
    assert.equal(seen.code, 1003);
    assert.match(seen.reason, /TEXT_FRAME/);
    assert.equal(seen.local, false);
  });

  it('acknowledges a message it has nothing to answer yet with a ping, so a peer that batches small writes is not held up', async () => {
    const { socket, connection } = await connect();
    const pinged = withTimeout(new Promise<void>((resolve) => socket.once('ping', () => resolve())), 'a ping from the silent side');
    const reply = connection.request({ profile: 'slow' });
    await pinged;
    assert.equal((await withTimeout(reply, 'slow reply')).text(), 'late');
    connection.close(1000, 'done');
  });

  it('sends no ping when it answers at once', async () => {
    const { socket, connection } = await connect();
    let pings = 0;
    socket.on('ping', () => pings++);
    for (let i = 0; i < 20; i++) await withTimeout(connection.request({ profile: 'echo', body: `m${i}` }), 'echo reply');
    // A ping would have been sent right behind a reply; one more round trip lets it arrive.
    await withTimeout(connection.request({ profile: 'echo', body: 'last' }), 'echo reply');
    assert.equal(pings, 0);
    connection.close(1000, 'done');
  });
});
