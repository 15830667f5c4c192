import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryConnector } from '../../../server/replication/memory-connector';
import { Replicator } from '../../../server/replication/replicator';
import { openTempDb } from '../../helpers/open-db';

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
