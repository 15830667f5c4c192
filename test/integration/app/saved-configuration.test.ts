/**
 * Configuration survives a restart: a listener comes back on its port, a replication comes back
 * and keeps syncing, and one that signs in waits for its password (never stored) before it does.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import { UsersFile } from '../../../server/listener/users-file';
import type { Database } from '../../../server/store';
import { tempDir } from '../../helpers/temp-dir';
import { waitForCondition } from '../../helpers/wait';

const WAIT_MS = 60_000;

/** Starts the app on a data folder as the server process does: saved databases open, and with them their listeners and replications. */
async function boot(t: TestContext, folder: string): Promise<PeerSyncApp> {
  const app = new PeerSyncApp({ dataFolder: folder });
  t.after(() => app.shutdown());
  for (const name of app.savedDatabaseNames()) await app.databases.open(name);
  return app;
}

function arrives(db: Database, docId: string, what: string): Promise<void> {
  const coll = db.defaultCollection;
  return waitForCondition(
    () => coll.get(docId) !== undefined,
    (notify) => coll.on('change', notify),
    WAIT_MS,
    what,
  );
}

test('a listener and a continuous replication come back after both sides restart, and keep syncing', async (t) => {
  const hubFolder = tempDir(t);
  const edgeFolder = tempDir(t);
  let hub = await boot(t, hubFolder);
  let edge = await boot(t, edgeFolder);
  const hubDb = await hub.databases.open('hub');
  const edgeDb = await edge.databases.open('edge');
  const listener = await hub.listeners.start({ db: 'hub', port: 0, networkInterface: '127.0.0.1', tls: false });
  const target = `ws://127.0.0.1:${listener.port}/hub`;
  const started = await edge.replications.start({ db: 'edge', target, type: 'pushAndPull', continuous: true });
  hubDb.defaultCollection.save({ id: 'before', body: { n: 1 } });
  await arrives(edgeDb, 'before', 'the first document at the edge');

  await edge.shutdown();
  await hub.shutdown();
  hub = await boot(t, hubFolder);
  edge = await boot(t, edgeFolder);

  const [back] = hub.listeners.list();
  assert.ok(back, 'the listener is back');
  assert.equal(back.port, listener.port, 'on the same port, so saved peer URLs still work');
  assert.equal(back.persisted, true);
  const [replication] = edge.replications.list();
  assert.equal(replication?.id, started.id, 'the replication is back under its ID');
  assert.equal(replication.target, target);
  hub.databases.get('hub').defaultCollection.save({ id: 'after', body: { n: 2 } });
  await arrives(edge.databases.get('edge'), 'after', 'a document written after the restart reaches the edge');

  await edge.replications.remove(started.id);
  await hub.listeners.stop(back.id);
  await edge.shutdown();
  await hub.shutdown();
  const edge3 = await boot(t, edgeFolder);
  const hub3 = await boot(t, hubFolder);
  assert.deepEqual(edge3.replications.list(), [], 'removed replications stay removed');
  assert.deepEqual(hub3.listeners.list(), [], 'stopped listeners stay stopped');
});

test('a saved replication that signs in waits for its password after a restart, then syncs', async (t) => {
  const hubFolder = tempDir(t);
  const edgeFolder = tempDir(t);
  const usersPath = join(tempDir(t), 'users.json');
  await new UsersFile(usersPath).add('alice', 'correct horse');
  const hub = await boot(t, hubFolder);
  const hubDb = await hub.databases.open('hub');
  const l = await hub.listeners.start({ db: 'hub', port: 0, networkInterface: '127.0.0.1', tls: false, usersFile: usersPath });
  let edge = await boot(t, edgeFolder);
  await edge.databases.open('edge');
  const r = await edge.replications.start({ db: 'edge', target: `ws://127.0.0.1:${l.port}/hub`, type: 'pull', continuous: true, username: 'alice', password: 'correct horse' });
  await edge.shutdown();

  edge = await boot(t, edgeFolder);
  const paused = edge.replications.info(r.id);
  assert.equal(paused.activity, 'stopped', 'no password, so it does not try (and fail) to sign in');
  assert.equal(paused.username, 'alice');
  hubDb.defaultCollection.save({ id: 'secret-plans', body: {} });
  await edge.replications.restart(r.id, 'correct horse');
  await arrives(edge.databases.get('edge'), 'secret-plans', 'the document, once the password is given');
});
