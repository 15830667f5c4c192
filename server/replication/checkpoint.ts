import { createHash } from 'node:crypto';
import type { RemoteSequence, CheckpointBody } from './protocol';

/**
 * A replication's checkpoint ID: a hash of everything that decides which documents it moves, so
 * a replication with other filters or another peer never reuses this one's position.
 * Shaped like Couchbase Lite's (`cp-` + base64 of a 20-byte hash).
 */
export function checkpointId(parts: { localUuid: string; remoteAddress: string; collection: string; documentIds?: readonly string[]; filter?: string }): string {
  const material = JSON.stringify([parts.localUuid, parts.remoteAddress, parts.collection, parts.documentIds ? [...parts.documentIds].sort() : null, parts.filter ?? null]);
  return `cp-${createHash('sha1').update(material).digest('base64')}`;
}

/** Local document ID under which the active side keeps its copy of a checkpoint. */
export function localCheckpointDocId(id: string): string {
  return `checkpoint/${id}`;
}

/** Local document ID under which the passive side keeps the checkpoints peers store with it. */
export function peerCheckpointDocId(client: string): string {
  return `peer-checkpoint/${client}`;
}

/** Both copies exist and name the same positions (the time of saving may differ). */
export function checkpointsMatch(local: CheckpointBody | undefined, remote: CheckpointBody | undefined): boolean {
  if (!local || !remote) return false;
  return (local.local ?? 0) === (remote.local ?? 0) && JSON.stringify(local.remote ?? null) === JSON.stringify(remote.remote ?? null);
}

/**
 * Reconciles the local and remote copies: each position is the earlier of the two, so nothing is
 * skipped if one side lost a save. A remote sequence the two sides disagree on, and that cannot be
 * ordered, restarts the pull from the beginning (revisions already present are not re-transferred).
 */
export function reconcileCheckpoints(local: CheckpointBody | undefined, remote: CheckpointBody | undefined): { local: number; remote: RemoteSequence | null } {
  const l1 = local?.local ?? 0;
  const l2 = remote?.local ?? 0;
  const r1 = local?.remote ?? null;
  const r2 = remote?.remote ?? null;
  let pulled: RemoteSequence | null;
  if (r1 === null || r2 === null) pulled = null;
  else if (JSON.stringify(r1) === JSON.stringify(r2)) pulled = r1;
  else if (typeof r1 === 'number' && typeof r2 === 'number') pulled = Math.min(r1, r2);
  else pulled = null;
  return { local: Math.min(l1, l2), remote: pulled };
}
