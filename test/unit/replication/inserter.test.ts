/**
 * The Inserter saves what arrives together in one transaction; a revision the store refuses
 * fails alone, with its own reply and outcome, and the rest of its batch is saved.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BlipError } from '../../../server/blip';
import type { Collection } from '../../../server/store';
import { ValidBody } from '../../../server/store/document-body';
import { Inserter, type InsertOutcome } from '../../../server/replication/inserter';
import type { RevMessage } from '../../../server/replication/protocol';
import { openTempDb } from '../../helpers/open-db';

function revMessage(docId: string, revId: string, sequence: number, json: string): RevMessage {
  return { docId, revId, history: [], deleted: false, sequence, noConflicts: false, body: new TextEncoder().encode(json) };
}

async function setup(t: TestContext, onlyExtending: boolean) {
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  coll.insertRevisionWithHistory({ id: 'live', bodyJson: '{"v":1}' }, ['1-aa01']);
  const outcomes: [string, InsertOutcome][] = [];
  const inserter = new Inserter({ db, onlyExtending, onInserted: (_c, rev, outcome) => outcomes.push([rev.docId, outcome]) });
  t.after(() => inserter.close());
  const insert = (collection: Collection, rev: RevMessage) => inserter.insert(collection, rev, ValidBody.received(rev.body, rev.deleted));
  return { db, coll, outcomes, insert, inserter };
}

test('revisions received together are saved in one transaction; a refused one fails alone and the rest land', async (t) => {
  const { db, coll, outcomes, insert } = await setup(t, true);
  const transactions = t.mock.method(db, 'inBatch');
  const replies = await Promise.allSettled([
    insert(coll, revMessage('n1', '1-bb01', 1, '{"n":1}')),
    insert(coll, revMessage('live', '1-cc01', 2, '{"v":"other"}')), // does not extend ours: refused here
    insert(coll, revMessage('n2', '1-dd01', 3, '{"n":2}')),
  ]);
  assert.equal(transactions.mock.callCount(), 1);
  assert.deepEqual(
    replies.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const refused = replies[1];
  assert.ok(refused?.status === 'rejected' && refused.reason instanceof BlipError && refused.reason.code === 409);
  assert.deepEqual(
    outcomes.map(([docId, o]) => [docId, o instanceof BlipError ? o.code : o]),
    [
      ['n1', { conflicted: false }],
      ['live', 409],
      ['n2', { conflicted: false }],
    ],
  );
  assert.deepEqual(coll.get('n1')?.body, { n: 1 });
  assert.deepEqual(coll.get('n2')?.body, { n: 2 });
  assert.equal(coll.get('live')?.revId, '1-aa01');
  assert.equal(coll.get('live')?.conflicted, false);
});

test('a puller keeps a conflicting revision, saved and reported as a conflict to resolve', async (t) => {
  const { coll, outcomes, insert } = await setup(t, false);
  await insert(coll, revMessage('live', '1-cc01', 1, '{"v":"other"}'));
  assert.deepEqual(outcomes, [['live', { conflicted: true }]]);
  assert.equal(coll.get('live')?.conflicted, true);
});

test('revisions still queued when the inserter closes are refused as unavailable, not saved', async (t) => {
  const { coll, outcomes, insert, inserter } = await setup(t, false);
  const reply = insert(coll, revMessage('n1', '1-bb01', 1, '{"n":1}'));
  inserter.close();
  await assert.rejects(reply, (e: unknown) => e instanceof BlipError && e.code === 503);
  await assert.rejects(insert(coll, revMessage('n2', '1-dd01', 2, '{"n":2}')), (e: unknown) => e instanceof BlipError && e.code === 503);
  assert.deepEqual(outcomes, []);
  assert.equal(coll.get('n1'), undefined);
});
