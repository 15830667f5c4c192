import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { defaultResolver, toResolver, type Database } from '../../../server/store';
import { localCheckpointDocId, peerCheckpointDocId } from '../../../server/replication/checkpoint';
import type { DocumentEnded } from '../../../server/replication/document-event';
import { createMemoryConnector } from '../../../server/replication/memory-connector';
import { ReplicatorError } from '../../../server/replication/replicator-types';
import { ReplicationSession, type ReplicatedCollection } from '../../../server/replication/replication-session';
import type { PullFilter } from '../../../server/replication/puller';
import { openTempDb } from '../../helpers/open-db';

async function session(t: TestContext, a: Database, b: Database, options: { pullFilter?: PullFilter } = {}): Promise<{ session: ReplicationSession; ended: DocumentEnded[] }> {
  const link = await createMemoryConnector({ database: b }).connect(new AbortController().signal, 0);
  t.after(() => link.close());
  const collection: ReplicatedCollection = {
    collection: a.defaultCollection,
    config: { name: '_default._default', pullFilter: options.pullFilter },
    resolver: toResolver(defaultResolver),
    checkpointId: 'cp-session',
  };
  const s = new ReplicationSession(link.connection, { db: a, remoteId: a.remoteId('memory://b'), collections: [collection], push: true, pull: true, continuous: false });
  const ended: DocumentEnded[] = [];
  s.on('documentEnded', (e) => ended.push(e));
  return { session: s, ended };
}

test('a one-shot session ends once both directions have caught up, and saves its checkpoints', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  for (let i = 0; i < 30; i++) a.defaultCollection.save({ id: `a${i}`, body: { i } });
  for (let i = 0; i < 20; i++) b.defaultCollection.save({ id: `b${i}`, body: { i } });
  const { session: s, ended } = await session(t, a, b);
  let lastCaughtUp = false;
  s.on('progress', (caughtUp) => (lastCaughtUp = caughtUp));
  await s.run(new AbortController().signal);
  assert.equal(lastCaughtUp, true);
  assert.equal(a.defaultCollection.count(), 50);
  assert.equal(b.defaultCollection.count(), 50);
  assert.deepEqual(s.progress, { completed: 50, total: 50 });
  assert.equal(ended.filter((e) => e.error).length, 0);
  const local = a.getLocal(localCheckpointDocId('cp-session'))?.body;
  assert.ok(local && typeof local.local === 'number' && local.local >= 30, 'the push position is saved here');
  assert.deepEqual(b.getLocal(peerCheckpointDocId('cp-session'))?.body.local, local.local, 'and on the peer');
});

test('a conflict the pull cannot settle is failed once the pull has caught up, exactly once', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  a.defaultCollection.save({ id: 'doc', body: { side: 'a' } });
  b.defaultCollection.save({ id: 'doc', body: { side: 'b' } });
  a.defaultCollection.save({ id: 'fine', body: {} });
  // The pull skips the peer's revision of `doc`, so nothing lets the refused push be retried.
  const { session: s, ended } = await session(t, a, b, { pullFilter: (doc) => doc.id !== 'doc' });
  await s.run(new AbortController().signal);
  const failed = ended.filter((e) => e.error);
  assert.deepEqual(
    failed.map((e) => [e.direction, e.docId, e.error?.code]),
    [['push', 'doc', 409]],
  );
  assert.deepEqual(b.defaultCollection.get('doc')?.body, { side: 'b' });
  assert.ok(b.defaultCollection.get('fine'));
  assert.equal(a.defaultCollection.get('doc')?.conflicted, false, 'nothing was pulled into a conflict');
});

test('a session stopped by its signal ends without saving, and the connection failing rejects it', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  for (let i = 0; i < 5; i++) b.defaultCollection.save({ id: `b${i}`, body: {} });
  const stopped = await session(t, a, b);
  const controller = new AbortController();
  controller.abort();
  await stopped.session.run(controller.signal);
  assert.equal(a.getLocal(localCheckpointDocId('cp-session')), undefined);

  const link = await createMemoryConnector({ database: b }).connect(new AbortController().signal, 0);
  const failing = new ReplicationSession(link.connection, {
    db: a,
    remoteId: a.remoteId('memory://b'),
    collections: [{ collection: a.defaultCollection, config: { name: '_default._default' }, resolver: toResolver(defaultResolver), checkpointId: 'cp-other' }],
    push: false,
    pull: true,
    continuous: true,
  });
  const caughtUp = new Promise<void>((resolve) => failing.on('progress', (c) => c && resolve()));
  const running = failing.run(new AbortController().signal);
  await caughtUp;
  assert.equal(a.defaultCollection.count(), 5);
  link.close(4001, 'going away for a while');
  await assert.rejects(running, (e: unknown) => e instanceof ReplicatorError && e.transient && e.code === 'WEBSOCKET_CLOSED');

  // Closed while the checkpoints are being fetched: one transient error, and nothing left unhandled.
  const early = await createMemoryConnector({ database: b }).connect(new AbortController().signal, 0);
  const fetching = new ReplicationSession(early.connection, {
    db: a,
    remoteId: a.remoteId('memory://b'),
    collections: [{ collection: a.defaultCollection, config: { name: '_default._default' }, resolver: toResolver(defaultResolver), checkpointId: 'cp-early' }],
    push: true,
    pull: true,
    continuous: false,
  }).run(new AbortController().signal);
  early.close(4001, 'gone before the checkpoints arrived');
  await assert.rejects(fetching, (e: unknown) => e instanceof ReplicatorError && e.transient);
});
