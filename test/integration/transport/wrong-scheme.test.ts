/**
 * ws:// to a TLS listener and wss:// to a plain one are named as such, and are permanent: a
 * replicator stops at once with what to change instead of retrying a "hang-up" for ever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import { ConnectionError, ConnectionErrorCode } from '../../../server/transport/connection-error';
import { connectBlipWebSocket } from '../../../server/transport/websocket-client';
import { tempDir } from '../../helpers/temp-dir';

test('the wrong scheme is recognised in both directions and names the right one', async (t) => {
  const app = new PeerSyncApp({ dataFolder: tempDir(t), persistConfiguration: false });
  t.after(() => app.shutdown());
  await app.databases.open('db');
  const secure = await app.listeners.start({ db: 'db', port: 0, networkInterface: '127.0.0.1' });
  const plain = await app.listeners.start({ db: 'db', port: 0, networkInterface: '127.0.0.1', tls: false });

  const wrong = async (url: string, expected: RegExp): Promise<void> => {
    await assert.rejects(connectBlipWebSocket(url, { tls: { rejectUnauthorized: false } }), (e: unknown) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.equal(e.code, ConnectionErrorCode.WrongScheme, e.message);
      assert.equal(e.transient, false);
      assert.match(e.message, expected);
      return true;
    });
  };
  await wrong(`ws://127.0.0.1:${secure.port}/db`, new RegExp(`speaks TLS: use wss://127\\.0\\.0\\.1:${secure.port}/db$`));
  await wrong(`wss://127.0.0.1:${plain.port}/db`, new RegExp(`does not speak TLS: use ws://127\\.0\\.0\\.1:${plain.port}/db$`));

  // The right schemes still connect.
  const ok = await connectBlipWebSocket(`ws://127.0.0.1:${plain.port}/db`);
  ok.connection.close();
});
