/**
 * A Pusher over an in-memory BLIP pair to a listener: what it proposes lands on the peer, and its
 * checkpoint never passes a change the peer did not take (the next run offers it again).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocumentEnded } from '../../../server/replication/document-event';
import { Pusher } from '../../../server/replication/pusher';
import { openTempDb } from '../../helpers/open-db';
import { connectRawClient } from '../../helpers/raw-peer';
import { waitForCondition } from '../../helpers/wait';

test('a push lands the local changes on the peer; a refused one is reported and holds the checkpoint back', async (t) => {
  const local = (await openTempDb(t)).db.defaultCollection;
  const { db: remoteDb } = await openTempDb(t);
  const remote = remoteDb.defaultCollection;
  const a = local.save({ id: 'a', body: { n: 1 } });
  const b = local.save({ id: 'b', body: { n: 2 } });
  local.save({ id: 'c', body: { mine: true } });
  const theirs = remote.save({ id: 'c', body: { theirs: true } });
  local.save({ id: 'd', body: { n: 4 } });

  const pusher = new Pusher(connectRawClient(t, remoteDb), local, { mode: 'proposeChanges', since: 0, continuous: false });
  const ended: DocumentEnded[] = [];
  pusher.on('documentEnded', (e) => ended.push(e));
  t.after(() => pusher.stop());
  pusher.start();
  await waitForCondition(
    () => pusher.isCaughtUp,
    (notify) => pusher.on('caughtUp', notify),
    5000,
    'the push to catch up',
  );

  assert.equal(remote.get('a')?.revId, a.revId);
  assert.equal(remote.get('b')?.revId, b.revId);
  assert.equal(remote.get('c')?.revId, theirs.revId, 'the peer keeps its own revision');
  assert.equal(ended.find((e) => e.docId === 'c')?.error?.code, 409);
  assert.deepEqual(
    ended
      .filter((e) => e.error === undefined)
      .map((e) => e.docId)
      .sort(),
    ['a', 'b', 'd'],
  );
  assert.equal(pusher.checkpointSequence, b.sequence, 'the checkpoint stops before the refused change');
  assert.equal(pusher.completed, pusher.total);
});
