/** The connection count a listener announces stays live: the last status after a peer leaves says 0. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import type * as P from '../../../server/rpc/protocol';
import { connectBlipWebSocket } from '../../../server/transport/websocket-client';
import { tempDir } from '../../helpers/temp-dir';
import { waitForCondition } from '../../helpers/wait';

test('a peer that leaves is counted out in the next status the listener announces', async (t) => {
  const app = new PeerSyncApp({ dataFolder: tempDir(t), persistConfiguration: false });
  t.after(() => app.shutdown());
  await app.databases.open('db');
  const l = await app.listeners.start({ db: 'db', port: 0, networkInterface: '127.0.0.1', tls: false });
  let last: P.ListenerInfo | undefined;
  app.events.on('listenerStatus', (info) => (last = info));
  const subscribe = (notify: () => void): (() => void) => app.events.on('listenerStatus', notify);
  const client = await connectBlipWebSocket(`ws://127.0.0.1:${l.port}/db`);
  await waitForCondition(() => last?.connectionCount === 1, subscribe, 10_000, 'a status with the client counted in');
  client.connection.close();
  await waitForCondition(() => last?.connectionCount === 0 && last.clients.length === 0, subscribe, 10_000, 'a status with the client counted out');
  assert.equal(app.listeners.info(l.id).connectionCount, 0);
});
