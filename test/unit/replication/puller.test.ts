/**
 * A Puller over an in-memory BLIP pair to a listener serving subChanges: it saves what the peer
 * offers, keeps a conflicting revision for resolution, and checkpoints the peer's last sequence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Puller } from '../../../server/replication/puller';
import { openTempDb } from '../../helpers/open-db';
import { connectRawClient } from '../../helpers/raw-peer';
import { waitForCondition } from '../../helpers/wait';

test('a pull from the start saves the peer’s documents, reports a conflict, and checkpoints the peer’s last sequence', async (t) => {
  const { db } = await openTempDb(t);
  const local = db.defaultCollection;
  const { db: remoteDb } = await openTempDb(t);
  const remote = remoteDb.defaultCollection;
  const a = remote.save({ id: 'a', body: { n: 1 } });
  remote.save({ id: 'c', body: { theirs: true } });
  local.save({ id: 'c', body: { mine: true } });
  const last = remote.save({ id: 'b', body: { n: 2 } });

  const conn = connectRawClient(t, remoteDb);
  const conflicts: string[] = [];
  const puller = new Puller(conn, { db, role: 'active', collectionFor: () => local, onConflict: (_c, docId) => conflicts.push(docId) });
  t.after(() => puller.close());
  await puller.subscribe({ since: null, continuous: false, collectionIndex: undefined, docIds: undefined });
  await waitForCondition(
    () => puller.isCaughtUp(local),
    (notify) => puller.on('peerCaughtUp', notify),
    5000,
    'the pull to catch up',
  );

  assert.equal(local.get('a')?.revId, a.revId);
  assert.equal(local.get('b')?.revId, last.revId);
  assert.deepEqual(conflicts, ['c']);
  assert.equal(local.get('c')?.conflicted, true, 'kept for the replicator to resolve');
  assert.equal(puller.checkpointSequence(local), last.sequence);
  assert.equal(puller.completed, 3);
});

test('a pull from a checkpoint asks only for what came after it', async (t) => {
  const { db } = await openTempDb(t);
  const local = db.defaultCollection;
  const { db: remoteDb } = await openTempDb(t);
  const remote = remoteDb.defaultCollection;
  const before = remote.save({ id: 'before', body: {} });
  const after = remote.save({ id: 'after', body: {} });
  const puller = new Puller(connectRawClient(t, remoteDb), { db, role: 'active', collectionFor: () => local, sinceFor: () => before.sequence });
  t.after(() => puller.close());
  await puller.subscribe({ since: before.sequence, continuous: false, collectionIndex: undefined, docIds: undefined });
  await waitForCondition(
    () => puller.isCaughtUp(local),
    (notify) => puller.on('peerCaughtUp', notify),
    5000,
    'the pull to catch up',
  );
  assert.equal(local.get('before'), undefined);
  assert.equal(local.get('after')?.revId, after.revId);
  assert.equal(puller.checkpointSequence(local), after.sequence);
});
