import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BlipError, type BlipConnection } from '../../../server/blip';
import type { Database } from '../../../server/store';
import { localCheckpointDocId, peerCheckpointDocId } from '../../../server/replication/checkpoint';
import { Checkpointer, type DurablePositions } from '../../../server/replication/checkpointer';
import { createMemoryConnector } from '../../../server/replication/memory-connector';
import { openTempDb } from '../../helpers/open-db';

const ID = 'cp-test';

async function setup(t: TestContext, durable?: DurablePositions, saveIntervalMs?: number): Promise<{ a: Database; b: Database; conn: BlipConnection; checkpointer: Checkpointer }> {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const link = await createMemoryConnector({ database: b }).connect(new AbortController().signal, 0);
  t.after(() => link.close());
  const checkpointer = new Checkpointer(link.connection, { db: a, collections: [{ collection: a.defaultCollection, checkpointId: ID }], collectionsMode: false, saveIntervalMs }, durable);
  t.after(() => checkpointer.close());
  return { a, b, conn: link.connection, checkpointer };
}

const peerCopy = (b: Database) => b.getLocal(peerCheckpointDocId(ID))?.body;
const localCopy = (a: Database) => a.getLocal(localCheckpointDocId(ID))?.body;

test('no copy on the peer: the run starts over and trusts only what the peer confirms', async (t) => {
  const { a, checkpointer } = await setup(t);
  a.putLocal(localCheckpointDocId(ID), { local: 5, remote: 7 });
  await checkpointer.fetch();
  assert.equal(checkpointer.startedOver(0), true);
  assert.deepEqual(checkpointer.position(0), { local: 0, remote: null });
  checkpointer.confirm(0, 'doc', '1-a');
  const knows = checkpointer.peerKnows(0);
  assert.ok(knows);
  assert.equal(knows('doc', '1-a'), true);
  assert.equal(knows('doc', '2-b'), false);
  assert.equal(knows('other', '1-a'), false);
});

test('matching copies: the run resumes where both say, and recorded revisions are trusted', async (t) => {
  const { a, b, checkpointer } = await setup(t);
  a.putLocal(localCheckpointDocId(ID), { time: 1, local: 5, remote: 7 });
  b.putLocal(peerCheckpointDocId(ID), { time: 2, local: 5, remote: 7 });
  await checkpointer.fetch();
  assert.equal(checkpointer.startedOver(0), false);
  assert.deepEqual(checkpointer.position(0), { local: 5, remote: 7 });
  assert.equal(checkpointer.peerKnows(0), undefined);
});

test('differing copies (the peer restored from an older copy): the run starts over', async (t) => {
  const { a, b, checkpointer } = await setup(t);
  a.putLocal(localCheckpointDocId(ID), { local: 5, remote: 7 });
  b.putLocal(peerCheckpointDocId(ID), { local: 3, remote: 7 });
  await checkpointer.fetch();
  assert.equal(checkpointer.startedOver(0), true);
  assert.deepEqual(checkpointer.position(0), { local: 0, remote: null });
  assert.ok(checkpointer.peerKnows(0));
});

test('save writes the durable positions on the peer and here; what is not yet durable keeps its old value', async (t) => {
  let durable: { local?: number; remote?: number } = { remote: 4 };
  const { a, b, checkpointer } = await setup(t, () => durable);
  a.putLocal(localCheckpointDocId(ID), { local: 5, remote: 2 });
  b.putLocal(peerCheckpointDocId(ID), { local: 5, remote: 2 });
  await checkpointer.fetch();
  await checkpointer.save();
  assert.deepEqual([peerCopy(b)?.local, peerCopy(b)?.remote], [5, 4]);
  assert.deepEqual([localCopy(a)?.local, localCopy(a)?.remote], [5, 4]);
  assert.deepEqual(checkpointer.position(0), { local: 5, remote: 4 });

  durable = { local: 9, remote: 4 };
  await checkpointer.save();
  assert.deepEqual([peerCopy(b)?.local, localCopy(a)?.local], [9, 9]);
  assert.equal(checkpointer.peerKnows(0), undefined, 'the copies still agree');
});

test('a save the peer refuses (409: its copy changed meanwhile) rejects and leaves the local copy as it was', async (t) => {
  const { a, b, checkpointer } = await setup(t, () => ({ local: 8, remote: 3 }));
  a.putLocal(localCheckpointDocId(ID), { local: 5, remote: 2 });
  b.putLocal(peerCheckpointDocId(ID), { local: 5, remote: 2 });
  await checkpointer.fetch();
  const current = b.getLocal(peerCheckpointDocId(ID))!;
  b.putLocal(peerCheckpointDocId(ID), { local: 1, remote: 1 }, current.rev);
  await assert.rejects(checkpointer.save(), (e: unknown) => e instanceof BlipError && e.code === 409);
  assert.deepEqual([localCopy(a)?.local, localCopy(a)?.remote], [5, 2]);
  assert.deepEqual(peerCopy(b), { local: 1, remote: 1 });
});

test('nothing is saved before the copies were fetched, and nothing again when no position moved', async (t) => {
  const { a, b, checkpointer } = await setup(t, () => ({ local: 3 }));
  await checkpointer.save();
  assert.equal(peerCopy(b), undefined);
  await checkpointer.fetch();
  await checkpointer.save();
  const rev = b.getLocal(peerCheckpointDocId(ID))?.rev;
  assert.ok(rev);
  await checkpointer.save();
  assert.equal(b.getLocal(peerCheckpointDocId(ID))?.rev, rev);
  assert.equal(localCopy(a)?.local, 3);
});

test('a scheduled save happens once the save interval has passed', async (t) => {
  const { b, checkpointer } = await setup(t, () => ({ local: 6 }), 5000);
  await checkpointer.fetch();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  checkpointer.scheduleSave();
  checkpointer.scheduleSave();
  t.mock.timers.tick(4999);
  await turns(20);
  assert.equal(peerCopy(b), undefined);
  t.mock.timers.tick(1);
  for (let i = 0; i < 200 && peerCopy(b) === undefined; i++) await turns(1);
  assert.equal(peerCopy(b)?.local, 6);
});

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}
