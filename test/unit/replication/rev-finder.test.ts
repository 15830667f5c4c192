/**
 * The RevFinder decides what a pull asks for: exactly the announced revisions missing here, each
 * with the ancestors we have (so the sender can cut its history there), and nothing twice.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ChangeEntry, RemoteSequence } from '../../../server/replication/protocol';
import { RevFinder, type ChangesTracking } from '../../../server/replication/rev-finder';
import { openTempDb } from '../../helpers/open-db';

async function collectionWithTwoDocs(t: TestContext) {
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  coll.insertRevisionWithHistory({ id: 'a', bodyJson: '{"v":2}' }, ['2-aa02', '1-aa01']);
  coll.insertRevisionWithHistory({ id: 'b', bodyJson: '{"v":1}' }, ['1-bb01']);
  return { db, coll };
}

test('a changes list is answered with exactly the missing revisions, each with the ancestors held here', async (t) => {
  const { coll } = await collectionWithTwoDocs(t);
  const finder = new RevFinder({});
  const asked: string[] = [];
  const done: RemoteSequence[] = [];
  const tracking: ChangesTracking = {
    announced: () => undefined,
    expect: (_c, docId, revId) => {
      if (asked.includes(`${docId}@${revId}`)) return false;
      asked.push(`${docId}@${revId}`);
      return true;
    },
    done: (_c, seq) => void done.push(seq),
  };
  const entries: ChangeEntry[] = [
    [1, 'a', '3-aa03'], // newer than ours: wanted, from our current revision on
    [2, 'b', '1-bb01'], // already here
    [3, 'c', '1-cc01'], // a new document: wanted, with no ancestors
    [4, 'a', '1-aa01'], // an old revision we have
    [5, 'c', '1-cc01'], // announced twice: asked for once
  ];
  const reply = finder.answerChanges(coll, entries, tracking);
  assert.equal(reply.length, entries.length);
  assert.ok(Array.isArray(reply[0]) && reply[0].includes('2-aa02'), `our current revision is offered as an ancestor: ${JSON.stringify(reply[0])}`);
  assert.deepEqual(reply.slice(1), [0, [], 0, 0]);
  assert.deepEqual(asked, ['a@3-aa03', 'c@1-cc01']);
  assert.deepEqual(done, [2, 4, 5], 'what is not asked for needs nothing more from the peer');
});

test('revisions announced by the peer and already here are recorded as the peer’s, for later pushes', async (t) => {
  const { db, coll } = await collectionWithTwoDocs(t);
  const remoteId = db.remoteId('wss://peer.example/db');
  const told: string[] = [];
  const finder = new RevFinder({ remoteId, onPeerRevision: (_c, docId, revId) => told.push(`${docId}@${revId}`) });
  const tracking: ChangesTracking = { announced: () => undefined, expect: () => true, done: () => undefined };
  finder.answerChanges(
    coll,
    [
      [1, 'b', '1-bb01'],
      [2, 'a', '3-aa03'],
    ],
    tracking,
  );
  assert.deepEqual(told, ['b@1-bb01']);
  assert.deepEqual([...coll.getRemoteRevs(remoteId, ['a', 'b'])], [['b', '1-bb01']]);
});

test('proposed revisions are answered send, have it or conflict against the current revision here', async (t) => {
  const { coll } = await collectionWithTwoDocs(t);
  coll.save({ id: 'gone', body: { v: 1 } });
  coll.delete('gone');
  const statuses = new RevFinder({}).answerProposals(coll, [
    ['a', '3-aa03', '2-aa02'], // extends our current revision
    ['a', '1-aa01', ''], // one we have
    ['b', '2-bb02', '1-bbff'], // names a parent that is not our current revision
    ['gone', '1-dd01', ''], // re-creates a document deleted here
    ['new', '1-ee01', ''],
  ]);
  assert.deepEqual(statuses, [0, 304, 409, 0, 0]);
});
