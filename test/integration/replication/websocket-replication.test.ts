import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Listener } from '../../../server/listener/listener';
import { Replicator } from '../../../server/replication/replicator';
import type { Database } from '../../../server/store';
import { openTempDb } from '../../helpers/open-db';
import { waitForCondition } from '../../helpers/wait';

async function listen(t: TestContext, database: Database, options: { readOnly?: boolean; port?: number } = {}): Promise<{ listener: Listener; url: string }> {
  const listener = new Listener({ database, networkInterface: '127.0.0.1', port: options.port ?? 0, readOnly: options.readOnly, disableTLS: true });
  await listener.start();
  t.after(() => listener.stop());
  return { listener, url: listener.urls[0]! };
}

function replicate(t: TestContext, config: ConstructorParameters<typeof Replicator>[0]): Replicator {
  const r = new Replicator(config);
  t.after(() => r.stop());
  r.start();
  return r;
}

/** Resolves when `id` exists in `db` (checked on each change event). */
function arrives(db: Database, id: string, ms = 10_000): Promise<void> {
  const c = db.defaultCollection;
  return waitForCondition(
    () => c.get(id) !== undefined,
    (notify) => c.on('change', notify),
    ms,
    `${id} to arrive in ${db.name}`,
  );
}

test('listener URL shape and status', async (t) => {
  const { db } = await openTempDb(t);
  const { listener, url } = await listen(t, db);
  assert.equal(url, `ws://127.0.0.1:${listener.port}/${db.name}`);
  assert.deepEqual(listener.status, { connectionCount: 0, activeConnectionCount: 0 });
});

test('10k documents push and pull over a real WebSocket, with deletes', async (t) => {
  const { db: server } = await openTempDb(t);
  const { db: client } = await openTempDb(t);
  const { url } = await listen(t, server);
  client.inBatch(() => {
    for (let i = 0; i < 10_000; i++) client.defaultCollection.save({ id: `c${i}`, body: { i, text: 'x'.repeat(100) } });
  });
  server.inBatch(() => {
    for (let i = 0; i < 2000; i++) server.defaultCollection.save({ id: `s${i}`, body: { i } });
  });
  server.defaultCollection.delete('s5');
  const r = replicate(t, { database: client, target: url });
  const s = await r.whenStopped();
  assert.equal(s.error, undefined, s.error?.message);
  assert.equal(server.defaultCollection.count(), 11_999);
  assert.equal(client.defaultCollection.count(), 11_999);
  assert.equal(client.defaultCollection.get('s5', { includeDeleted: true })?.deleted, true);
  assert.deepEqual(server.defaultCollection.get('c9999')?.body, { i: 9999, text: 'x'.repeat(100) });
  assert.deepEqual(s.progress, { completed: 12_000, total: 12_000 });
});

test('continuous: a listener restart sends the replicator offline; it backs off, reconnects and catches up', async (t) => {
  const { db: server } = await openTempDb(t);
  const { db: client } = await openTempDb(t);
  const { listener, url } = await listen(t, server);
  const r = replicate(t, { database: client, target: url, continuous: true, maxAttemptWaitTime: 2 });
  await r.waitFor('idle', 30_000);
  client.defaultCollection.save({ id: 'before', body: {} });
  await arrives(server, 'before');

  await listener.stop();
  const offline = await r.waitFor('offline', 30_000);
  assert.equal(offline.error?.transient, true);
  assert.ok(offline.nextAttemptAt !== undefined);
  client.defaultCollection.save({ id: 'while-down', body: {} });

  await listener.start();
  assert.equal(listener.urls[0], url, 'restarted on the same port');
  await arrives(server, 'while-down', 15_000);
  server.defaultCollection.save({ id: 'from-server', body: {} });
  await arrives(client, 'from-server');
  assert.equal(r.status.error, undefined);
});

test('a read-only listener: push refused with 403, nothing written; pull works', async (t) => {
  const { db: server } = await openTempDb(t);
  const { db: client } = await openTempDb(t);
  server.defaultCollection.save({ id: 'public', body: {} });
  client.defaultCollection.save({ id: 'mine', body: {} });
  const { url } = await listen(t, server, { readOnly: true });
  const push = replicate(t, { database: client, target: url, type: 'push' });
  const s = await push.whenStopped();
  assert.equal(s.error?.code, 403);
  assert.equal(s.error?.transient, false);
  assert.equal(server.defaultCollection.get('mine'), undefined);
  const pull = replicate(t, { database: client, target: url, type: 'pull' });
  assert.equal((await pull.whenStopped()).error, undefined);
  assert.ok(client.defaultCollection.get('public'));
});

test('unknown database and unreachable port are reported clearly', async (t) => {
  const { db: server } = await openTempDb(t);
  const { db: client } = await openTempDb(t);
  const { listener } = await listen(t, server);
  const wrong = replicate(t, { database: client, target: `ws://127.0.0.1:${listener.port}/nope` });
  const s = await wrong.whenStopped();
  assert.equal(s.error?.transient, false);
  assert.equal(s.error?.code, 404);
  await listener.stop();
  const down = replicate(t, { database: client, target: `ws://127.0.0.1:${listener.port}/${server.name}`, maxAttempts: 2, maxAttemptWaitTime: 1 });
  const d = await down.whenStopped();
  assert.match(d.error?.message ?? '', /gave up after 2 attempts.*ECONNREFUSED|gave up after 2 attempts/);
});

test('a listener that also replicates: A → B(listener) → C chain converges', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const { db: c } = await openTempDb(t);
  const { listener: lc } = await listen(t, c);
  const { url: bUrl } = await listen(t, b);
  replicate(t, { database: b, target: lc.urls[0]!, continuous: true });
  replicate(t, { database: a, target: bUrl, continuous: true });
  a.defaultCollection.save({ id: 'from-a', body: {} });
  await arrives(c, 'from-a');
  c.defaultCollection.save({ id: 'from-c', body: {} });
  await arrives(a, 'from-c');
});

test('star: three peers through one hub converge, including a conflict', async (t) => {
  const { db: hub } = await openTempDb(t);
  const { url } = await listen(t, hub);
  const peers = await Promise.all([openTempDb(t), openTempDb(t), openTempDb(t)]);
  const reps = peers.map(({ db }) => replicate(t, { database: db, target: url, continuous: true }));
  await Promise.all(reps.map((r) => r.waitFor('idle', 30_000)));
  peers.forEach(({ db }, i) => db.defaultCollection.save({ id: `p${i}`, body: { i } }));
  for (const { db } of peers) for (let i = 0; i < 3; i++) await arrives(db, `p${i}`);
  // Everyone edits the same document concurrently.
  const base = peers[0]!.db.defaultCollection.get('p0')!.revId;
  peers.forEach(({ db }, i) => db.defaultCollection.save({ id: 'p0', revId: base, body: { editedBy: i } }));
  const all = [hub, ...peers.map((p) => p.db)];
  const converged = (): boolean => {
    const docs = all.map((d) => d.defaultCollection.get('p0'));
    return docs.every((d) => d && !d.conflicted && d.revId === docs[0]!.revId);
  };
  await waitForCondition(
    converged,
    (notify) => {
      const offs = all.map((d) => d.defaultCollection.on('change', notify));
      return () => offs.forEach((off) => off());
    },
    15_000,
    'all peers to agree on p0',
  );
});

test('mesh: three peers each listening and replicating with the others converge', async (t) => {
  const peers = await Promise.all([openTempDb(t), openTempDb(t), openTempDb(t)]);
  const urls = await Promise.all(peers.map(async ({ db }) => (await listen(t, db)).url));
  peers.forEach(({ db }, i) => {
    for (let j = 0; j < peers.length; j++) if (j > i) replicate(t, { database: db, target: urls[j]!, continuous: true });
  });
  peers.forEach(({ db }, i) => db.defaultCollection.save({ id: `m${i}`, body: {} }));
  for (const { db } of peers) for (let i = 0; i < 3; i++) await arrives(db, `m${i}`);
});
