/**
 * A change the peer refused as a conflict is retried only when the pull shows the peer's current
 * revision is an ancestor of ours; it is reported failed once, however often the run catches up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeldConflicts } from '../../../server/replication/held-conflicts';
import { openTempDb } from '../../helpers/open-db';

test('what the peer turns out to have decides whether a held change is retried, done or left to the pull', async (t) => {
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  coll.insertRevisionWithHistory({ id: 'd', bodyJson: '{"v":2}' }, ['2-dd02', '1-dd01']);
  const [change] = coll.changesSince(0);
  assert.ok(change);
  const held = new HeldConflicts(coll);
  held.hold(change);
  assert.equal(held.size, 1);
  assert.equal(held.verdict('d', '1-dd01'), 'retry', 'the peer has our parent: propose again naming it');
  assert.equal(held.verdict('d', '2-dd02'), 'peerHasIt');
  assert.equal(held.verdict('d', '2-ee02'), 'conflict', 'a branch of its own: the pull resolves it');
  assert.equal(held.verdict('other', '1-dd01'), undefined);
  coll.save({ id: 'd', body: { v: 3 } });
  assert.equal(held.verdict('d', '1-dd01'), 'superseded', 'a newer local revision is announced in its own turn');
});

test('held changes are handed out for reporting once', async (t) => {
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  coll.save({ id: 'a', body: {} });
  coll.save({ id: 'b', body: {} });
  const held = new HeldConflicts(coll);
  for (const change of coll.changesSince(0)) held.hold(change);
  assert.deepEqual(
    [...held.takeUnreported()].map((c) => c.docId),
    ['a', 'b'],
  );
  assert.deepEqual([...held.takeUnreported()], []);
  assert.equal(held.take('a')?.reported, true, 'still held, so a later revision of the peer can retry it');
  assert.equal(held.size, 1);
});
