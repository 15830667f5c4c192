import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Replicator } from '../../server/replication/replicator';
import type { ReplicatorActivity, ReplicatorConfig, ReplicatorConnector, ReplicatorLink, ReplicatorStatus } from '../../server/replication/replicator-types';
import type { Database, JsonObject } from '../../server/store';
import { openTempDb } from '../helpers/open-db';
import { waitForCondition, withTimeout } from '../helpers/wait';

/**
 * Makes a connector to `peer` (serving it for as long as `t` runs), or, without a peer, a
 * connector whose peer cannot be reached.
 */
export type ConnectorFactory = (t: TestContext, peer?: Database) => Promise<ReplicatorConnector>;

const WAIT_MS = 30_000;

function replicator(t: TestContext, config: ReplicatorConfig): Replicator {
  const r = new Replicator(config);
  t.after(() => r.stop());
  return r;
}

function stopped(r: Replicator): Promise<ReplicatorStatus> {
  return withTimeout(r.whenStopped(), 'the replicator to stop', WAIT_MS);
}

function reaches(r: Replicator, activity: ReplicatorActivity): Promise<void> {
  return waitForCondition(
    () => r.status.activity === activity,
    (notify) => r.on('change', notify),
    WAIT_MS,
    `the replicator to be ${activity}`,
  );
}

function arrives(db: Database, id: string): Promise<void> {
  const c = db.defaultCollection;
  return waitForCondition(
    () => c.get(id) !== undefined,
    (notify) => c.on('change', notify),
    WAIT_MS,
    `${id} to arrive`,
  );
}

function save(db: Database, docs: Record<string, JsonObject>): void {
  db.inBatch(() => {
    for (const [id, body] of Object.entries(docs)) db.defaultCollection.save({ id, body });
  });
}

function bodies(db: Database, ids: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(ids.map((id) => [id, db.defaultCollection.get(id)?.body]));
}

function assertClean(status: ReplicatorStatus): void {
  assert.equal(status.error, undefined, status.error?.message);
  assert.equal(status.activity, 'stopped');
  assert.equal(status.failed, 0);
}

const LOCAL = { l1: { n: 1, text: 'one' }, l2: { n: 2, nested: { list: [1, 2, 3] } }, l3: { n: 3 } };
const REMOTE = { r1: { n: 1, from: 'peer' }, r2: { n: 2, from: 'peer' } };

/** Registers what the replicator must achieve over any connector made by `makeConnector`. */
export function replicatorConnectorSuite(name: string, makeConnector: ConnectorFactory): void {
  describe(`ReplicatorConnector: ${name}`, () => {
    it('pushes documents to the peer, and nothing comes back', async (t) => {
      const { db: local } = await openTempDb(t);
      const { db: peer } = await openTempDb(t);
      save(local, LOCAL);
      save(peer, REMOTE);
      const r = replicator(t, { database: local, target: await makeConnector(t, peer), type: 'push' });
      r.start();
      assertClean(await stopped(r));
      assert.deepEqual(bodies(peer, Object.keys(LOCAL)), LOCAL);
      assert.equal(local.defaultCollection.get('r1'), undefined);
    });

    it('pulls documents from the peer, and nothing goes out', async (t) => {
      const { db: local } = await openTempDb(t);
      const { db: peer } = await openTempDb(t);
      save(local, LOCAL);
      save(peer, REMOTE);
      const r = replicator(t, { database: local, target: await makeConnector(t, peer), type: 'pull' });
      r.start();
      assertClean(await stopped(r));
      assert.deepEqual(bodies(local, Object.keys(REMOTE)), REMOTE);
      assert.equal(peer.defaultCollection.get('l1'), undefined);
    });

    it('pushes and pulls in one run, deletions included', async (t) => {
      const { db: local } = await openTempDb(t);
      const { db: peer } = await openTempDb(t);
      save(local, LOCAL);
      save(peer, REMOTE);
      peer.defaultCollection.delete('r2');
      const r = replicator(t, { database: local, target: await makeConnector(t, peer), type: 'pushAndPull' });
      r.start();
      assertClean(await stopped(r));
      assert.deepEqual(bodies(peer, Object.keys(LOCAL)), LOCAL);
      assert.deepEqual(bodies(local, ['r1']), { r1: REMOTE.r1 });
      assert.equal(local.defaultCollection.get('r2', { includeDeleted: true })?.deleted, true);
      assert.equal(local.defaultCollection.count(), peer.defaultCollection.count());
    });

    it('runs continuously: goes idle, carries later edits both ways, and stops on request', async (t) => {
      const { db: local } = await openTempDb(t);
      const { db: peer } = await openTempDb(t);
      save(local, LOCAL);
      const r = replicator(t, { database: local, target: await makeConnector(t, peer), continuous: true });
      r.start();
      await reaches(r, 'idle');
      assert.deepEqual(bodies(peer, Object.keys(LOCAL)), LOCAL);
      local.defaultCollection.save({ id: 'later-here', body: { n: 10 } });
      await arrives(peer, 'later-here');
      peer.defaultCollection.save({ id: 'later-there', body: { n: 11 } });
      await arrives(local, 'later-there');
      const final = await withTimeout(r.stop(), 'stop() to finish', WAIT_MS);
      assertClean(final);
      assert.equal((await stopped(r)).activity, 'stopped');
    });

    it('reports an unreachable peer as a transient error and keeps trying', async (t) => {
      const { db: local } = await openTempDb(t);
      const r = replicator(t, { database: local, target: await makeConnector(t), continuous: true, maxAttemptWaitTime: 1 });
      r.start();
      await reaches(r, 'offline');
      assert.equal(r.status.error?.transient, true, r.status.error?.message);
      assert.ok(r.status.nextAttemptAt !== undefined, 'says when it tries again');
      const final = await withTimeout(r.stop(), 'stop() while offline', WAIT_MS);
      assert.equal(final.activity, 'stopped');
    });

    it('gives up connecting when aborted, and a replicator stopped while connecting stops cleanly', async (t) => {
      const { db: local } = await openTempDb(t);
      const { db: peer } = await openTempDb(t);
      const connector = await makeConnector(t, peer);

      const before = new AbortController();
      before.abort();
      await assert.rejects(withTimeout(connector.connect(before.signal, 300), 'a connect that was aborted before it began', WAIT_MS));

      // Aborting mid-connect may lose the race with a fast connection; either way nothing hangs or leaks.
      const during = new AbortController();
      const attempt = connector.connect(during.signal, 300);
      during.abort();
      const link = await withTimeout(
        attempt.then(
          (l): ReplicatorLink | undefined => l,
          () => undefined,
        ),
        'a connect aborted mid-way to settle',
        WAIT_MS,
      );
      if (link) {
        const closed = link.connection.closeInfo ? Promise.resolve() : new Promise<void>((resolve) => link.connection.once('close', () => resolve()));
        link.close(1000, 'aborted');
        await withTimeout(closed, 'the link that won the race to close', WAIT_MS);
      }

      const r = replicator(t, { database: local, target: connector });
      r.start();
      const final = await withTimeout(r.stop(), 'stop() while connecting', WAIT_MS);
      assert.equal(final.activity, 'stopped');
      assert.ok(final.error === undefined || final.error.transient, `a stop is not a permanent failure: ${final.error?.message}`);
    });
  });
}
