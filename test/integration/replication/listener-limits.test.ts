import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { BlipError } from '../../../server/blip/errors';
import type { IncomingRequest } from '../../../server/blip/message';
import { Listener, type ListenerConfig } from '../../../server/listener/listener';
import type { Database } from '../../../server/store';
import { connectBlipWebSocket, type BlipWebSocketClient } from '../../../server/transport/websocket-client';
import { openTempDb } from '../../helpers/open-db';
import { withTimeout } from '../../helpers/wait';

const T = 5000;

async function listen(t: TestContext, database: Database, extra: Partial<ListenerConfig> = {}): Promise<Listener> {
  const listener = new Listener({ database, networkInterface: '127.0.0.1', port: 0, disableTLS: true, ...extra });
  await listener.start();
  t.after(() => listener.stop());
  return listener;
}

async function connect(t: TestContext, listener: Listener): Promise<BlipWebSocketClient> {
  const client = await withTimeout(connectBlipWebSocket(listener.urls[0]!), 'client connect', T);
  t.after(() => client.close());
  return client;
}

test('a checkpoint larger than the cap is refused with 413 and not stored', async (t) => {
  const { db } = await openTempDb(t);
  const client = await connect(t, await listen(t, db));
  const big = JSON.stringify({ local: 1, padding: 'x'.repeat(20_000) });
  const err = await client.connection.request({ profile: 'setCheckpoint', properties: { client: 'c1' }, body: big }).then(
    () => assert.fail('a 20 kB checkpoint was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BlipError);
  assert.equal(err.code, 413);
  assert.match(err.message, /at most 16384/);
  await assert.rejects(client.connection.request({ profile: 'getCheckpoint', properties: { client: 'c1' } }), (e: unknown) => e instanceof BlipError && e.code === 404);
  // A checkpoint of the size a real client sends is kept.
  await client.connection.request({ profile: 'setCheckpoint', properties: { client: 'c1' }, body: JSON.stringify({ local: 1, remote: 2 }) });
  const reply = await client.connection.request({ profile: 'getCheckpoint', properties: { client: 'c1' } });
  assert.deepEqual(reply.json(), { local: 1, remote: 2 });
});

test('the checkpoint cap is a listener option', async (t) => {
  const { db } = await openTempDb(t);
  const client = await connect(t, await listen(t, db, { limits: { maxCheckpointBytes: 100 } }));
  await assert.rejects(
    client.connection.request({ profile: 'setCheckpoint', properties: { client: 'c1' }, body: JSON.stringify({ local: 1, padding: 'x'.repeat(200) }) }),
    (e: unknown) => e instanceof BlipError && e.code === 413,
  );
});

test('a second subChanges for the same collection replaces the first feed: one write, one changes message', async (t) => {
  const { db } = await openTempDb(t);
  const client = await connect(t, await listen(t, db));
  const announced: string[][] = [];
  let caughtUp = 0;
  const waiters: (() => void)[] = [];
  client.connection.onRequest('changes', (req: IncomingRequest) => {
    const rows = req.json() as [number, string, string][];
    if (rows.length === 0) caughtUp++;
    else announced.push(rows.map((r) => r[1]));
    for (const wake of waiters.splice(0)) wake();
    return { body: JSON.stringify(rows.map(() => 0)) };
  });
  const until = (cond: () => boolean, what: string): Promise<void> =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => (cond() ? resolve() : void waiters.push(check));
        check();
      }),
      what,
      T,
    );
  const feeds = 50;
  for (let i = 0; i < feeds; i++) await client.connection.request({ profile: 'subChanges', properties: { continuous: 'true' } });
  await until(() => caughtUp >= 1, 'the feed to catch up');
  // Every live feed reads a write as it is saved, so by the time the second write is announced
  // every announcement of the first has arrived (requests arrive in order).
  db.defaultCollection.save({ id: 'first', body: {} });
  db.defaultCollection.save({ id: 'second', body: {} });
  await until(() => announced.some((ids) => ids.includes('second')), "the second write's announcement");
  assert.equal(announced.filter((ids) => ids.includes('first')).length, 1, `announcements: ${JSON.stringify(announced)}`);
});

test('a TLS client that never completes its handshake is dropped after the handshake timeout', async (t) => {
  const { db } = await openTempDb(t);
  const listener = await listen(t, db, { disableTLS: false, limits: { tlsHandshakeTimeoutMs: 100 } });
  const socket = net.connect(listener.port, '127.0.0.1');
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await withTimeout(new Promise((resolve) => socket.once('close', resolve)), 'the listener to drop a silent TLS client', T);
});
