import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createWebSocketTransport } from '../../../server/blip/websocket-transport';
import { frameTransportSuite } from '../../kits/frame-transport-suite';
import { withTimeout } from '../../helpers/wait';

/** A client socket and the server's end of it, over loopback, each wrapped as a transport. */
frameTransportSuite('WebSocket over loopback', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await withTimeout(new Promise<void>((resolve) => server.once('listening', resolve)), 'the WebSocket server to listen');
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const opened = new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  const [serverSide] = await withTimeout(Promise.all([accepted, opened]), 'the loopback WebSocket to open');
  return {
    a: createWebSocketTransport(client),
    b: createWebSocketTransport(serverSide),
    sendTextFromA: (text) => client.send(text),
    dispose: async () => {
      for (const socket of server.clients) socket.terminate();
      client.terminate();
      await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 'the WebSocket server to close');
    },
  };
});
