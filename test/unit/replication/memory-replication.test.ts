import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { mergeResolver, type Database, type JsonObject } from '../../../server/store';
import { createMemoryConnector } from '../../../server/replication/memory-connector';
import { Replicator } from '../../../server/replication/replicator';
import { openTempDb } from '../../helpers/open-db';
import { waitForCondition } from '../../helpers/wait';

test('one-shot push copies every document and stops', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  a.inBatch(() => {
    for (let i = 0; i < 500; i++) a.defaultCollection.save({ id: `d${i}`, body: { i } });
  });
  const r = new Replicator({ database: a, target: createMemoryConnector({ database: b }), type: 'push' });
  r.start();
  const s = await r.whenStopped();
  assert.equal(s.error, undefined, s.error?.message);
  assert.equal(b.defaultCollection.count(), 500);
  assert.deepEqual(b.defaultCollection.get('d7')?.body, { i: 7 });
  assert.equal(b.defaultCollection.get('d7')?.revId, a.defaultCollection.get('d7')?.revId);
  assert.deepEqual(s.progress, { completed: 500, total: 500 });
});

test('one-shot pull copies every document, including deletions', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  for (let i = 0; i < 300; i++) b.defaultCollection.save({ id: `d${i}`, body: { i } });
  b.defaultCollection.delete('d3');
  const r = new Replicator({ database: a, target: createMemoryConnector({ database: b }), type: 'pull' });
  r.start();
  const s = await r.whenStopped();
  assert.equal(s.error, undefined, s.error?.message);
  assert.equal(a.defaultCollection.count(), 299);
  assert.equal(a.defaultCollection.get('d3', { includeDeleted: true })?.deleted, true);
});

function counter(r: Replicator): { push: number; pull: number } {
  const n = { push: 0, pull: 0 };
  r.on('documentEnded', (e) => {
    if (!e.skipped && !e.error) n[e.direction]++;
  });
  return n;
}

test('pushAndPull merges both sides; a second run transfers nothing (checkpoints)', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  for (let i = 0; i < 50; i++) a.defaultCollection.save({ id: `a${i}`, body: { from: 'a' } });
  for (let i = 0; i < 70; i++) b.defaultCollection.save({ id: `b${i}`, body: { from: 'b' } });
  const target = createMemoryConnector({ database: b });
  const r1 = new Replicator({ database: a, target });
  const n1 = counter(r1);
  r1.start();
  assert.equal((await r1.whenStopped()).error, undefined);
  assert.deepEqual(n1, { push: 50, pull: 70 });
  assert.equal(a.defaultCollection.count(), 120);
  assert.equal(b.defaultCollection.count(), 120);

  a.defaultCollection.save({ id: 'late', body: {} });
  const r2 = new Replicator({ database: a, target });
  const n2 = counter(r2);
  r2.start();
  assert.equal((await r2.whenStopped()).error, undefined);
  assert.deepEqual(n2, { push: 1, pull: 0 }, 'only the new document moves; pulled documents are not pushed back');
});

test('concurrent edits on both sides converge to the same winner under the default resolver', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const target = createMemoryConnector({ database: b });
  a.defaultCollection.save({ id: 'doc', body: { v: 0 } });
  const first = new Replicator({ database: a, target });
  first.start();
  await first.whenStopped();
  const base = b.defaultCollection.get('doc')!.revId;
  // a makes one edit, b makes two: the default resolver picks the higher generation (b's).
  a.defaultCollection.save({ id: 'doc', revId: base, body: { v: 'a1' } });
  const b1 = b.defaultCollection.save({ id: 'doc', revId: base, body: { v: 'b1' } });
  b.defaultCollection.save({ id: 'doc', revId: b1.revId, body: { v: 'b2' } });
  const r = new Replicator({ database: a, target });
  const ended: string[] = [];
  r.on('documentEnded', (e) => ended.push(`${e.direction}:${e.error?.code ?? 'ok'}`));
  r.start();
  const s = await r.whenStopped();
  assert.equal(s.error, undefined, s.error?.message);
  // The peer refuses the conflicting proposal; it waits for the pull, which brings the conflict to
  // resolve, and the resolution is pushed: nothing is left failed.
  assert.equal(s.failed, 0, `no document left failed: ${ended.join(' ')}`);
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { v: 'b2' });
  assert.deepEqual(b.defaultCollection.get('doc')?.body, { v: 'b2' });
  assert.equal(a.defaultCollection.get('doc')?.conflicted, false);
  assert.equal(b.defaultCollection.get('doc')?.conflicted, false);
  assert.equal(a.defaultCollection.get('doc')?.revId, b.defaultCollection.get('doc')?.revId);
});

/** A and B share `doc` (replicated once), then each edits it from the same base without syncing. */
async function divergedPair(t: TestContext, localBody: JsonObject, remoteBody: JsonObject): Promise<{ a: Database; b: Database; target: ReturnType<typeof createMemoryConnector> }> {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const target = createMemoryConnector({ database: b });
  const base = a.defaultCollection.save({ id: 'doc', body: { v: 0 } });
  const first = new Replicator({ database: a, target });
  first.start();
  await first.whenStopped();
  a.defaultCollection.save({ id: 'doc', revId: base.revId, body: localBody });
  b.defaultCollection.save({ id: 'doc', revId: base.revId, body: remoteBody });
  return { a, b, target };
}

test('local-wins resolution is pushed back: the listener ends with the local body', async (t) => {
  const { a, b, target } = await divergedPair(t, { v: 'mine' }, { v: 'theirs', extra: 1 });
  const r = new Replicator({ database: a, target, conflictResolver: ({ local }) => ({ winner: local.revId }) });
  r.start();
  assert.equal((await r.whenStopped()).error, undefined);
  assert.deepEqual(b.defaultCollection.get('doc')?.body, { v: 'mine' });
  assert.equal(a.defaultCollection.get('doc')?.revId, b.defaultCollection.get('doc')?.revId);
});

test('merge resolver result reaches both peers', async (t) => {
  const { a, b, target } = await divergedPair(t, { v: 0, a: true }, { v: 0, b: true });
  const r = new Replicator({ database: a, target, conflictResolver: mergeResolver() });
  r.start();
  assert.equal((await r.whenStopped()).error, undefined);
  assert.deepEqual(b.defaultCollection.get('doc')?.body, { v: 0, a: true, b: true });
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { v: 0, a: true, b: true });
});

test('documentIDs, push and pull filters limit what moves', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  for (const id of ['x', 'y', 'z']) a.defaultCollection.save({ id, body: { public: id !== 'y' } });
  for (const id of ['p', 'q']) b.defaultCollection.save({ id, body: { keep: id === 'p' } });
  const r = new Replicator({
    database: a,
    target: createMemoryConnector({ database: b }),
    pushFilter: (doc) => doc.body?.public === true,
    pullFilter: (doc) => doc.body?.keep === true,
  });
  r.start();
  assert.equal((await r.whenStopped()).error, undefined);
  assert.deepEqual(
    b.defaultCollection.allDocs().map((d) => d.id),
    ['p', 'q', 'x', 'z'],
  );
  assert.deepEqual(
    a.defaultCollection.allDocs().map((d) => d.id),
    ['p', 'x', 'y', 'z'],
  );

  const { db: c } = await openTempDb(t);
  const only = new Replicator({ database: c, target: createMemoryConnector({ database: a }), type: 'pull', documentIDs: ['x', 'p'] });
  only.start();
  assert.equal((await only.whenStopped()).error, undefined);
  assert.deepEqual(
    c.defaultCollection.allDocs().map((d) => d.id),
    ['p', 'x'],
  );
});

test('named collections replicate in collections mode, each with its own sequences', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  a.createCollection('store.items').save({ id: 'i1', body: { n: 1 } });
  a.defaultCollection.save({ id: 'd1', body: {} });
  b.createCollection('store.items').save({ id: 'i2', body: { n: 2 } });
  b.defaultCollection.save({ id: 'd2', body: {} });
  const r = new Replicator({ database: a, target: createMemoryConnector({ database: b }), collections: ['_default', 'store.items'] });
  r.start();
  const s = await r.whenStopped();
  assert.equal(s.error, undefined, s.error?.message);
  assert.deepEqual(
    b
      .requireCollection('store.items')
      .allDocs()
      .map((d) => d.id),
    ['i1', 'i2'],
  );
  assert.deepEqual(
    a
      .requireCollection('store.items')
      .allDocs()
      .map((d) => d.id),
    ['i1', 'i2'],
  );
  assert.deepEqual(
    a.defaultCollection.allDocs().map((d) => d.id),
    ['d1', 'd2'],
  );

  const { db: c } = await openTempDb(t);
  const missing = new Replicator({ database: c, target: createMemoryConnector({ database: b }), collections: ['_default'] });
  missing.start();
  assert.equal((await missing.whenStopped()).error, undefined);
  c.createCollection('nope');
  const refused = new Replicator({ database: c, target: createMemoryConnector({ database: b }), collections: ['nope'] });
  refused.start();
  const rs = await refused.whenStopped();
  assert.match(rs.error?.message ?? '', /does not share collection/);
  assert.equal(rs.error?.transient, false);
});

test('continuous replication goes idle, streams new changes both ways, and stops on request', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const r = new Replicator({ database: a, target: createMemoryConnector({ database: b }), continuous: true });
  const activities: string[] = [];
  r.on('change', (s) => {
    if (activities.at(-1) !== s.activity) activities.push(s.activity);
  });
  r.start();
  await r.waitFor('idle', 30_000);
  a.defaultCollection.save({ id: 'from-a', body: {} });
  await waitForCondition(
    () => b.defaultCollection.get('from-a') !== undefined,
    (notify) => b.defaultCollection.on('change', notify),
    30_000,
    'push of from-a',
  );
  b.defaultCollection.save({ id: 'from-b', body: {} });
  await waitForCondition(
    () => a.defaultCollection.get('from-b') !== undefined,
    (notify) => a.defaultCollection.on('change', notify),
    30_000,
    'pull of from-b',
  );
  await r.waitFor('idle', 30_000);
  const final = await r.stop();
  assert.equal(final.activity, 'stopped');
  assert.equal(final.error, undefined);
  assert.deepEqual(activities.slice(0, 2), ['connecting', 'busy']);
  assert.ok(activities.includes('idle'));
  assert.equal(activities.at(-1), 'stopped');
});

test('an unreachable peer: offline with the next attempt time, backs off, reconnects when it is back', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const target = createMemoryConnector({ database: b });
  target.unreachable = true;
  a.defaultCollection.save({ id: 'x', body: {} });
  const r = new Replicator({ database: a, target, continuous: true, maxAttemptWaitTime: 2 });
  const startedAt = Date.now();
  r.start();
  const offline = await r.waitFor('offline', 30_000);
  // Later than the failed attempt (not compared with the clock now, which a busy machine may have moved past it).
  assert.ok(offline.nextAttemptAt && offline.nextAttemptAt > startedAt, 'says when the next attempt is');
  assert.equal(offline.error?.transient, true);
  target.unreachable = false;
  await r.waitFor('idle', 30_000);
  assert.ok(b.defaultCollection.get('x'));
  await r.stop();
});

test('one-shot replication gives up after maxAttempts', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const target = createMemoryConnector({ database: b });
  target.unreachable = true;
  const r = new Replicator({ database: a, target, maxAttempts: 2, maxAttemptWaitTime: 1 });
  r.start();
  const s = await r.whenStopped();
  assert.match(s.error?.message ?? '', /gave up after 2 attempts/);
});

test('a read-only peer refuses pushes with 403 and writes nothing; pulls still work', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  a.defaultCollection.save({ id: 'mine', body: {} });
  b.defaultCollection.save({ id: 'theirs', body: {} });
  const push = new Replicator({ database: a, target: createMemoryConnector({ database: b, readOnly: true }), type: 'push' });
  push.start();
  const s = await push.whenStopped();
  assert.equal(s.error?.code, 403);
  assert.equal(s.error?.transient, false);
  assert.equal(b.defaultCollection.get('mine'), undefined);
  const pull = new Replicator({ database: a, target: createMemoryConnector({ database: b, readOnly: true }), type: 'pull' });
  pull.start();
  assert.equal((await pull.whenStopped()).error, undefined);
  assert.ok(a.defaultCollection.get('theirs'));
});

test('pendingDocumentIds lists what a push has not delivered yet', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  a.defaultCollection.save({ id: 'one', body: {} });
  a.defaultCollection.save({ id: 'two', body: {} });
  const target = createMemoryConnector({ database: b });
  const r = new Replicator({ database: a, target, type: 'push' });
  assert.deepEqual([...r.pendingDocumentIds()].sort(), ['one', 'two']);
  r.start();
  await r.whenStopped();
  assert.deepEqual([...r.pendingDocumentIds()], []);
  a.defaultCollection.save({ id: 'three', body: {} });
  assert.equal(r.isDocumentPending('three'), true);
  assert.equal(r.isDocumentPending('one'), false);
});

test('stopping mid-run and restarting resumes from the checkpoint without re-sending revisions', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  a.inBatch(() => {
    for (let i = 0; i < 3000; i++) a.defaultCollection.save({ id: `d${i}`, body: { i } });
  });
  let revsReceived = 0;
  const target = createMemoryConnector({ database: b }, 'memory://b', (session) => session.on('documentEnded', (e) => (e.skipped ? undefined : revsReceived++)));
  const r1 = new Replicator({ database: a, target, type: 'push' });
  const n1 = counter(r1);
  let stopping: Promise<unknown> | undefined;
  r1.on('documentEnded', () => {
    if (n1.push >= 1000 && !stopping) stopping = r1.stop();
  });
  r1.start();
  await r1.whenStopped();
  await stopping;
  assert.ok(n1.push >= 1000 && n1.push < 3000, `first run stopped part-way (${n1.push})`);
  const cp = r1.checkpoint();
  assert.ok(cp?.local && cp.local > 0, 'a checkpoint was saved on stop');

  const r2 = new Replicator({ database: a, target, type: 'push' });
  const n2 = counter(r2);
  let proposed = 0;
  r2.on('documentEnded', () => proposed++);
  r2.start();
  assert.equal((await r2.whenStopped()).error, undefined);
  assert.equal(b.defaultCollection.count(), 3000);
  assert.equal(revsReceived, 3000, 'the peer received each revision exactly once');
  assert.ok(n1.push + n2.push <= 3000);
  assert.ok(proposed <= 3000 - cp.local!, `the second run started after the checkpoint (${proposed} proposed, checkpoint ${cp.local})`);
});
