import { isJsonObject } from './canonical-json';
import { compareRevIds, generationOf } from './rev-id';
import type { DocId, JsonObject, RevId } from './types';

/** One side of a conflict. A deleted side has no body. */
export interface ConflictRevision {
  readonly revId: RevId;
  readonly deleted: boolean;
  readonly body: JsonObject | undefined;
}

/** `local` is the current winner; `remote` is the branch that arrived from (or belongs to) a peer. */
export interface Conflict {
  readonly collection: string;
  readonly docId: DocId;
  readonly local: ConflictRevision;
  readonly remote: ConflictRevision;
  /** Every branch in conflict with `local` (`remote` first), for a person choosing among three or more. */
  readonly others?: readonly ConflictRevision[];
}

/** How a conflict ends: one side wins as is, a new merged body, or the document is deleted. */
export type Resolution = { readonly winner: RevId } | { readonly merged: JsonObject } | { readonly delete: true };

export interface ConflictResolver {
  readonly name: string;
  resolve(conflict: Conflict): Resolution | Promise<Resolution>;
  /** Conflicts are left for a person (the Conflicts view, `peersync db resolve`): replication does not resolve them. */
  readonly keepsConflicts?: boolean;
}

/** A resolver function may also return a body (merged) or null (delete), like Couchbase Lite's. */
export type ConflictResolverFn = (conflict: Conflict) => Resolution | JsonObject | null | Promise<Resolution | JsonObject | null>;

/**
 * Couchbase Lite 3.x's default: a deletion wins; otherwise the revision with the higher
 * generation (more edits); on a tie the larger revision ID.
 */
export const defaultResolver: ConflictResolver = {
  name: 'default',
  resolve({ local, remote }) {
    if (remote.deleted !== local.deleted) return { winner: remote.deleted ? remote.revId : local.revId };
    const gl = generationOf(local.revId);
    const gr = generationOf(remote.revId);
    if (gl !== gr) return { winner: gl > gr ? local.revId : remote.revId };
    return { winner: compareRevIds(local.revId, remote.revId) >= 0 ? local.revId : remote.revId };
  },
};

export const localWins: ConflictResolver = { name: 'localWins', resolve: ({ local }) => ({ winner: local.revId }) };
export const remoteWins: ConflictResolver = { name: 'remoteWins', resolve: ({ remote }) => ({ winner: remote.revId }) };

/**
 * Shallow merge of the two bodies: every top-level key of either side; where both sides have a key,
 * the `prefer`red side's value is kept (remote by default). If either side is a deletion, the
 * deletion wins (as in the default resolver), since a merge cannot revive what a peer deleted.
 */
export function mergeResolver(prefer: 'local' | 'remote' = 'remote'): ConflictResolver {
  return {
    name: `merge(${prefer})`,
    resolve(conflict) {
      const { local, remote } = conflict;
      if (local.deleted || remote.deleted) return { delete: true };
      const l = local.body ?? {};
      const r = remote.body ?? {};
      return { merged: prefer === 'remote' ? { ...l, ...r } : { ...r, ...l } };
    },
  };
}

/** Keeps conflicts as conflicts, for a person to resolve; resolving with it directly keeps the current revision. */
export const manualResolver: ConflictResolver = { name: 'manual', keepsConflicts: true, resolve: ({ local }) => ({ winner: local.revId }) };

export const builtInResolvers = {
  default: defaultResolver,
  localWins,
  remoteWins,
  merge: mergeResolver('remote'),
  mergePreferLocal: mergeResolver('local'),
  manual: manualResolver,
} as const;

export type BuiltInResolverName = keyof typeof builtInResolvers;

/** Accepts a resolver object or a plain function and returns a resolver object. */
export function toResolver(r: ConflictResolver | ConflictResolverFn): ConflictResolver {
  if (typeof r !== 'function') return r;
  return {
    name: r.name || 'custom',
    async resolve(conflict) {
      const out = await r(conflict);
      if (out === null) return { delete: true };
      if (isResolution(out)) return out;
      if (isJsonObject(out)) return { merged: out };
      throw new TypeError('conflict resolver returned neither a resolution, a body, nor null');
    },
  };
}

function isResolution(v: unknown): v is Resolution {
  if (!isJsonObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  return (keys[0] === 'winner' && typeof v.winner === 'string') || (keys[0] === 'merged' && isJsonObject(v.merged)) || (keys[0] === 'delete' && v.delete === true);
}
