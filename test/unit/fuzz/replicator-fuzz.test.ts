/**
 * Fuzzing the active side: a one-shot push-and-pull replicator against a listener that lies (see
 * hostile-listener.ts). Whatever it is told, the replicator stops by itself with a status that
 * says why, its handlers never fail (every bad message gets a 4xx), nothing is left running, and
 * the local database is intact and usable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Replicator } from '../../../server/replication/replicator';
import { ReplicatorError } from '../../../server/replication/replicator-types';
import { drainEventLoop, fuzzLoop, guardProcess, pendingTimers } from '../../helpers/fuzz';
import { withTimeout } from '../../helpers/wait';
import { openTempDb } from '../../helpers/open-db';
import { hostileConnector, type HostileSession } from './hostile-listener';

const WAIT_MS = 15_000;

test('replicator against a hostile listener: it always stops, with a clear status, and its handlers never fail', async (t) => {
  const guard = guardProcess(t);
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  for (const id of ['doc-1', 'doc-2', 'mine']) coll.save({ id, body: { id, v: 1 } });
  const timersBefore = pendingTimers();
  await fuzzLoop(t, 'replicator', 60, async (rng, i) => {
    // New local edits each time, so there is always something to push.
    coll.save({ id: `local-${i}`, body: { i } });
    let session: HostileSession | undefined;
    const handlerErrors: string[] = [];
    const connector = hostileConnector(rng, (s) => {
      session = s;
      s.active.on('handlerError', (err, req) => handlerErrors.push(`${req.profile ?? '?'}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    });
    const replicator = new Replicator({ database: db, target: connector, type: 'pushAndPull', continuous: false, maxAttempts: 1, checkpointIntervalMs: 50 });
    replicator.start();
    let status;
    try {
      status = await withTimeout(replicator.whenStopped(), `the replicator to stop (now ${replicator.status.activity})`, WAIT_MS);
    } finally {
      await replicator.stop();
    }
    assert.equal(status.activity, 'stopped');
    if (status.error) {
      assert.ok(status.error instanceof ReplicatorError, `iteration ${i}: the error is a ReplicatorError`);
      assert.ok(status.error.message.length > 0);
    }
    assert.deepEqual(handlerErrors, [], `iteration ${i}: the replicator's handlers threw`);
    const s = session;
    if (s) {
      await withTimeout(s.finished, 'the hostile listener to finish', WAIT_MS);
      // What the replicator answered to the hostile side's own requests: 4xx for its lies, 503
      // for what arrived while it was stopping; never a handler failure or an internal error.
      const bad = s.errorsReceived.filter((e) => (e.domain === 'BLIP' && e.code === 501) || e.code === 500);
      assert.deepEqual(bad, [], `iteration ${i}: the replicator answered with internal errors`);
    }
    assert.doesNotThrow(() => coll.count());
    assert.deepEqual(coll.get('mine')?.body, { id: 'mine', v: 1 }, 'a local document the listener never touched is unchanged');
  });
  await drainEventLoop();
  assert.ok(pendingTimers() <= timersBefore, `timers left running after every replicator stopped: ${pendingTimers()} > ${timersBefore}`);
  guard.check();
});
