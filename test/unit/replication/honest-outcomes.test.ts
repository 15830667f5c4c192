/**
 * A replication never reports a document as replicated when the peer refused it or failed to save
 * it, never strands an edit, and never trusts a stale idea of what the peer has.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Database, StoreError, type Collection } from '../../../server/store';
import { createMemoryConnector, type MemoryConnector } from '../../../server/replication/memory-connector';
import { Replicator } from '../../../server/replication/replicator';
import type { ReplicatorConfig, ReplicatorStatus } from '../../../server/replication/replicator-types';
import { openTempDb } from '../../helpers/open-db';

async function run(config: ReplicatorConfig): Promise<{ status: ReplicatorStatus; replicator: Replicator }> {
  const replicator = new Replicator(config);
  replicator.start();
  const status = await replicator.whenStopped();
  assert.equal(status.error, undefined, status.error?.message);
  return { status, replicator };
}

/** Makes the collection's replication inserts of `docId` fail as a full disk would, until `heal()`. */
function failInserts(collection: Collection, docId: string): { heal: () => void } {
  const original = collection.insertRevisionWithHistory.bind(collection);
  collection.insertRevisionWithHistory = (rev, history, options) => {
    if (rev.id === docId) throw new StoreError('IO', 'could not write: the disk is full');
    return original(rev, history, options);
  };
  return { heal: () => (collection.insertRevisionWithHistory = original) };
}

/**
 * C creates `doc` and pushes it to listener A; B pulls it from C (never from A) and edits it. So B
 * has never heard from A, whose current revision of `doc` is the parent of B's edit.
 */
async function editOfDocumentFromAnotherPeer(t: TestContext): Promise<{ a: Database; b: Database; toA: MemoryConnector }> {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const { db: c } = await openTempDb(t);
  const toA = createMemoryConnector({ database: a }, 'memory://a');
  c.defaultCollection.save({ id: 'doc', body: { v: 'from c' } });
  await run({ database: c, target: toA, type: 'push' });
  await run({ database: b, target: createMemoryConnector({ database: c }, 'memory://c'), type: 'pull' });
  b.defaultCollection.save({ id: 'doc', revId: b.defaultCollection.get('doc')!.revId, body: { v: 'edited on b' } });
  return { a, b, toA };
}

test('an edit to a document the listener got from another peer is delivered in the same push-and-pull run', async (t) => {
  const { a, b, toA } = await editOfDocumentFromAnotherPeer(t);
  const { status, replicator } = await run({ database: b, target: toA });
  assert.equal(status.failed, 0, JSON.stringify(replicator.failedDocuments()));
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { v: 'edited on b' });
  assert.equal(a.defaultCollection.get('doc')?.conflicted, false);
  assert.equal(a.defaultCollection.get('doc')?.revId, b.defaultCollection.get('doc')?.revId);
});

test('a push the listener refuses is reported as failed, not checkpointed, and delivered once the pusher learns the parent', async (t) => {
  const { a, b, toA } = await editOfDocumentFromAnotherPeer(t);
  b.defaultCollection.save({ id: 'other', body: { v: 1 } });

  // Push only: nothing tells b that a already has doc's parent, so a refuses it as a conflict.
  const first = await run({ database: b, target: toA, type: 'push' });
  assert.equal(first.status.failed, 1);
  const failed = first.replicator.failedDocuments();
  assert.deepEqual(
    failed.map((f) => [f.docId, f.error?.code]),
    [['doc', 409]],
  );
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { v: 'from c' });
  assert.deepEqual(a.defaultCollection.get('other')?.body, { v: 1 }, 'the other document still went through');
  const docSeq = b.defaultCollection.get('doc')!.sequence;
  assert.ok((first.replicator.checkpoint()?.local ?? 0) < docSeq, 'the checkpoint stops before the refused document');

  // A second push-only run retries it (and fails the same way: it is not silently dropped).
  const second = await run({ database: b, target: toA, type: 'push' });
  assert.deepEqual(
    second.replicator.failedDocuments().map((f) => f.docId),
    ['doc'],
  );

  // Pulling from a shows b that a has doc's parent; the next push delivers the edit.
  await run({ database: b, target: toA, type: 'pull' });
  const third = await run({ database: b, target: toA, type: 'push' });
  assert.equal(third.status.failed, 0);
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { v: 'edited on b' });
  assert.ok((third.replicator.checkpoint()?.local ?? 0) >= docSeq);
});

test('a fresh database at an address pushed to before receives everything', async (t) => {
  const { db: b } = await openTempDb(t);
  const { db: a1 } = await openTempDb(t);
  const { db: a2 } = await openTempDb(t);
  b.inBatch(() => {
    for (let i = 0; i < 50; i++) b.defaultCollection.save({ id: `d${i}`, body: { i } });
  });
  await run({ database: b, target: createMemoryConnector({ database: a1 }, 'memory://same'), type: 'push' });
  assert.equal(a1.defaultCollection.count(), 50);
  const again = await run({ database: b, target: createMemoryConnector({ database: a2 }, 'memory://same'), type: 'push' });
  assert.equal(a2.defaultCollection.count(), 50, 'the new database at the same address gets every document');
  assert.equal(again.status.failed, 0);
  // And a pull from it afterwards starts from its own (new) sequences.
  a2.defaultCollection.save({ id: 'new-on-a2', body: {} });
  await run({ database: b, target: createMemoryConnector({ database: a2 }, 'memory://same'), type: 'pull' });
  assert.ok(b.defaultCollection.get('new-on-a2'));
});

test('a listener restored from an older copy gets the documents it lost', async (t) => {
  const { db: b } = await openTempDb(t);
  const dir = mkdtempSync(join(tmpdir(), 'peersync-restore-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let a = await Database.open(join(dir, 'a'), { snapshotIntervalMs: 0 });
  b.inBatch(() => {
    for (let i = 0; i < 20; i++) b.defaultCollection.save({ id: `d${i}`, body: { i } });
  });
  await run({ database: b, target: createMemoryConnector({ database: a }, 'memory://a'), type: 'push' });
  a.close();
  cpSync(join(dir, 'a'), join(dir, 'backup'), { recursive: true });
  a = await Database.open(join(dir, 'a'), { snapshotIntervalMs: 0 });
  b.inBatch(() => {
    for (let i = 20; i < 30; i++) b.defaultCollection.save({ id: `d${i}`, body: { i } });
  });
  b.defaultCollection.save({ id: 'd0', revId: b.defaultCollection.get('d0')!.revId, body: { i: 0, edited: true } });
  await run({ database: b, target: createMemoryConnector({ database: a }, 'memory://a'), type: 'push' });
  assert.equal(a.defaultCollection.count(), 30);
  a.close();

  const restored = await Database.open(join(dir, 'backup'), { snapshotIntervalMs: 0 });
  t.after(() => restored.close());
  assert.equal(restored.defaultCollection.count(), 20);
  const { status } = await run({ database: b, target: createMemoryConnector({ database: restored }, 'memory://a'), type: 'push' });
  assert.equal(status.failed, 0);
  assert.equal(restored.defaultCollection.count(), 30, 'the documents pushed after the backup arrive again');
  assert.deepEqual(restored.defaultCollection.get('d0')?.body, { i: 0, edited: true });
});

test('documents the listener fails to save (full disk) fail the run and are retried by the next one', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const toA = createMemoryConnector({ database: a }, 'memory://a');
  for (let i = 0; i < 10; i++) b.defaultCollection.save({ id: `d${i}`, body: { i } });
  const disk = failInserts(a.defaultCollection, 'd4');
  const first = await run({ database: b, target: toA, type: 'push' });
  assert.equal(first.status.failed, 1);
  const [failure] = first.replicator.failedDocuments();
  assert.equal(failure?.docId, 'd4');
  assert.match(failure?.error?.message ?? '', /disk is full/);
  assert.equal(a.defaultCollection.count(), 9);
  assert.ok((first.replicator.checkpoint()?.local ?? 0) < b.defaultCollection.get('d4')!.sequence);

  disk.heal();
  const second = await run({ database: b, target: toA, type: 'push' });
  assert.equal(second.status.failed, 0);
  assert.equal(a.defaultCollection.count(), 10);
  assert.deepEqual(a.defaultCollection.get('d4')?.body, { i: 4 });
});

test('a pulled revision that cannot be saved here fails the run and is pulled again next time', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const fromA = createMemoryConnector({ database: a }, 'memory://a');
  for (let i = 0; i < 10; i++) a.defaultCollection.save({ id: `d${i}`, body: { i } });
  const disk = failInserts(b.defaultCollection, 'd7');
  const first = await run({ database: b, target: fromA, type: 'pull' });
  assert.deepEqual(
    first.replicator.failedDocuments().map((f) => [f.direction, f.docId]),
    [['pull', 'd7']],
  );
  assert.equal(b.defaultCollection.count(), 9);
  disk.heal();
  const second = await run({ database: b, target: fromA, type: 'pull' });
  assert.equal(second.status.failed, 0);
  assert.deepEqual(b.defaultCollection.get('d7')?.body, { i: 7 });
});

test('an edit to a document the listener purged is delivered in one run (the recorded parent is forgotten)', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const toA = createMemoryConnector({ database: a }, 'memory://a');
  const first = b.defaultCollection.save({ id: 'doc', body: { v: 1 } });
  await run({ database: b, target: toA, type: 'push' });
  assert.equal(a.defaultCollection.purge('doc'), true);
  b.defaultCollection.save({ id: 'doc', revId: first.revId, body: { v: 2 } });
  const { status } = await run({ database: b, target: toA, type: 'push' });
  assert.equal(status.failed, 0);
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { v: 2 });
});
