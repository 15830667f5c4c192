import { findBlobRefs } from './blob-store';
import { isJsonObject, parseJsonObject } from './canonical-json';
import { decodeDocRevRow } from './collection-rows';
import { F_CONFLICTED } from './collection-schema';
import { flagsFor, TOMBSTONE_BODY, type CollectionTable } from './collection-table';
import type { Conflict, ConflictRevision, Resolution } from './conflict-resolver';
import { asDocId } from './doc-id';
import { ValidBody } from './document-body';
import { StoreError } from './errors';
import { computeRevId } from './rev-id';
import type { RevNode } from './rev-tree';
import type { DocId, Document, JsonObject, RevId } from './types';

/** Documents with unresolved conflicting branches, in ID order. */
export function listConflicts(table: CollectionTable, options: { limit?: number; after?: string }): { docId: DocId; revId: RevId }[] {
  return table.engine.all(table.sql.conflicts, [options.after ?? '', options.limit ?? -1]).map(decodeDocRevRow);
}

/**
 * The conflict a resolver would see for this document: local = current winner, remote = the best
 * other branch (or the branch `against`), and every conflicting branch in `others`.
 */
export function getConflict(table: CollectionTable, collection: string, docId: string, against?: string): Conflict | undefined {
  const id = asDocId(docId);
  const row = table.readRow(id);
  if (!row || (row.flags & F_CONFLICTED) === 0) return undefined;
  const tree = table.treeOf(row);
  const local = tree.winner();
  const leaves = tree.conflictingLeaves();
  const remote = against === undefined ? leaves[0] : leaves.find((l) => l.revId === against);
  if (!local || !remote) return undefined;
  return { collection, docId: id, local: toConflictRevision(local), remote: toConflictRevision(remote), others: leaves.map(toConflictRevision) };
}

/** What a resolution did: the document after it. */
export interface ResolutionOutcome {
  readonly document: Document;
}

/**
 * Ends a conflict. The result is built on the remote (conflicting) branch, which the peer already
 * has, so pushing it afterwards is a plain update and not a new conflict:
 * - remote wins: the local branch is closed with a tombstone;
 * - local wins / merged / delete: a new revision on the remote branch carries the local body,
 *   the merged body, or a deletion, and the local branch is closed.
 * With `against`, only that branch and the current one are settled (a resolver meets a document's
 * branches one pair at a time); without it, every other branch is closed too.
 */
export function resolveConflict(table: CollectionTable, docId: string, resolution: Resolution, against?: RevId): ResolutionOutcome {
  const id = asDocId(docId);
  return table.engine.transaction(() => {
    const row = table.readRow(id);
    if (!row) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)} not found`);
    const tree = table.treeOf(row);
    const leaves = tree.conflictingLeaves();
    const base = against === undefined ? leaves[0] : leaves.find((l) => l.revId === against);
    if (!base)
      throw new StoreError(
        leaves.length === 0 ? 'NOT_IN_CONFLICT' : 'INVALID_ARGUMENT',
        leaves.length === 0 ? `document ${JSON.stringify(id)} is not in conflict` : `revision ${against} is not a conflicting branch of ${JSON.stringify(id)}`,
      );
    const others = against === undefined ? leaves : [base];
    const local = tree.winner()!;
    const seq = table.nextSequence();
    let result: RevNode;
    let resultBody: JsonObject | undefined;
    if ('winner' in resolution && resolution.winner === base.revId) {
      result = base;
    } else {
      let deleted: boolean;
      let json: string;
      if ('winner' in resolution) {
        const chosen = tree.get(resolution.winner);
        if (!chosen || !(chosen === local || others.includes(chosen))) {
          throw new StoreError('INVALID_ARGUMENT', `revision ${resolution.winner} is not a conflicting leaf of ${JSON.stringify(id)}`);
        }
        deleted = chosen.deleted;
        json = chosen.body ?? TOMBSTONE_BODY;
      } else if ('merged' in resolution) {
        if (!isJsonObject(resolution.merged)) throw new StoreError('INVALID_DOCUMENT', 'merged body must be a JSON object');
        deleted = false;
        resultBody = resolution.merged;
        json = ValidBody.local(resolution.merged).json;
      } else {
        deleted = true;
        json = TOMBSTONE_BODY;
      }
      const revId = computeRevId(base.revId, deleted, json);
      result = tree.addChild(revId, base, json, deleted, seq);
    }
    tree.acceptBranch(result);
    for (const leaf of [local, ...others]) {
      if (leaf === result || leaf === base) continue;
      if (leaf.deleted) {
        leaf.conflict = false;
      } else {
        tree.addChild(computeRevId(leaf.revId, true, TOMBSTONE_BODY), leaf, TOMBSTONE_BODY, true, seq);
      }
    }
    // Branches this resolution did not consider stay in conflict.
    if (against === undefined) for (const node of tree.nodes) node.conflict = false;
    const winner = tree.winner()!;
    const hasBlobs = !winner.deleted && findBlobRefs(resultBody ?? parseJsonObject(winner.body ?? TOMBSTONE_BODY)).length > 0;
    table.writeTree(id, tree, row, seq, hasBlobs);
    const document = table.toDocument(id, winner, { seq, rev: winner.revId, flags: flagsFor(tree, winner.deleted, hasBlobs), body: winner.body ?? TOMBSTONE_BODY, tree: '' });
    return { document };
  });
}

function toConflictRevision(node: RevNode): ConflictRevision {
  return { revId: node.revId, deleted: node.deleted, body: node.deleted || node.body === undefined ? undefined : parseJsonObject(node.body, 'stored body') };
}
