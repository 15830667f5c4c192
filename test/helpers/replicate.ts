import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { DocumentEnded } from '../../server/replication/document-event';
import { Replicator } from '../../server/replication/replicator';
import type { ReplicatorConfig } from '../../server/replication/replicator-types';

/** Runs a replicator until it stops, asserting it stopped without an error; returns the documents that failed. */
export async function replicateOnce(t: TestContext, config: ReplicatorConfig): Promise<DocumentEnded[]> {
  const r = new Replicator(config);
  const errors: DocumentEnded[] = [];
  r.on('documentEnded', (e) => {
    if (e.error) errors.push(e);
  });
  t.after(() => r.stop());
  r.start();
  const s = await r.whenStopped();
  assert.equal(s.error, undefined, s.error?.message);
  return errors;
}
