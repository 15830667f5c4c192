import type { SqlValue } from 'sql.js';
import { decodeChangeRow, decodeRemoteRevRow, decodeTreeRow, toSequence, type DocRow } from './collection-rows';
import { F_CONFLICTED, F_DELETED, F_HAS_BLOBS } from './collection-schema';
import { IN_CHUNK, powerOfTwoAtLeast, TOMBSTONE_BODY, type CollectionTable } from './collection-table';
import { asDocId, asValidDocId } from './doc-id';
import { ValidBody } from './document-body';
import type { SqlParam } from './durable-sqlite';
import { StoreError } from './errors';
import { asRevId } from './rev-id';
import { RevTree } from './rev-tree';
import type { Change, DocId, JsonObject, RevId, Sequence } from './types';

/**
 * What replication asks of a collection, beyond reading and saving documents: inserting revisions
 * with their history, comparing revision lists, the changes feed, and remembering what each peer
 * has. Collection exposes these as methods; they live here to keep the document API readable.
 */

export interface ChangesOptions {
  readonly limit?: number;
  readonly docIds?: readonly string[];
  /** Leave out documents whose current revision is a deletion. */
  readonly activeOnly?: boolean;
}

export interface InsertOptions {
  /** Mark a branch that does not extend the local winner as a conflict (default true). */
  readonly markConflict?: boolean;
  /**
   * Refuse (CONFLICT) unless the document is new, deleted (every branch a tombstone), already at
   * this revision, or its current revision is in the history being inserted (a listener's rule for
   * pushes). Checked on the row the insert reads, against exactly the revisions inserted: a
   * current revision found only further back would leave the new branch unconnected, a conflict.
   */
  readonly onlyExtending?: boolean;
}

export interface ForeignRevision {
  readonly id: string;
  readonly deleted?: boolean;
  /** The body, parsed… */
  readonly body?: JsonObject;
  /** …or as JSON text straight off the wire (stored as is after validation, not re-serialised)… */
  readonly bodyJson?: string;
  /** …or already validated with ValidBody.received (a receiver that checks before fetching blobs). */
  readonly validBody?: ValidBody;
}

export interface InsertOutcome {
  readonly docId: DocId;
  readonly revId: RevId;
  /** Revisions added to the tree (0 = already had it). */
  readonly added: number;
  /** The document is now in conflict. */
  readonly conflicted: boolean;
  readonly sequence: Sequence | undefined;
}

export interface RevsDiffEntry {
  readonly missing: RevId[];
  readonly possibleAncestors: RevId[];
}

export interface RevisionToSend {
  readonly revId: RevId;
  readonly deleted: boolean;
  /** The body as the stored JSON text, sent as is. */
  readonly json: string;
  /** The body's size in UTF-8 bytes. */
  readonly bytes: number;
  /** Ancestors, newest first. */
  readonly history: RevId[];
}

/** A pusher's read of a document's current revision, with up to `maxHistory` ancestors. */
export function readForSending(table: CollectionTable, docId: string, maxHistory: number): RevisionToSend | undefined {
  const row = table.readRow(asDocId(docId));
  if (!row) return undefined;
  const tree = row.tree === null ? undefined : RevTree.decode(row.tree);
  return {
    revId: row.rev,
    deleted: (row.flags & F_DELETED) !== 0,
    json: row.body,
    bytes: Buffer.byteLength(row.body, 'utf8'),
    history: tree ? tree.history(row.rev, maxHistory + 1).slice(1) : [],
  };
}

/**
 * Inserts a revision from a peer together with its ancestry (`history[0]` is the revision itself).
 * Branches that diverge from the local winner become conflicts, marked so the local winner stays
 * current until resolved.
 */
export function insertRevisionWithHistory(table: CollectionTable, rev: ForeignRevision, history: readonly string[], options: InsertOptions): InsertOutcome {
  const id = asValidDocId(rev.id);
  const [revId, ...ancestors] = history.map(asRevId);
  const deleted = rev.deleted === true;
  const input = rev.bodyJson ?? rev.body;
  const { json, hasBlobs } = rev.validBody ?? (input === undefined ? { json: TOMBSTONE_BODY, hasBlobs: false } : ValidBody.received(input, deleted));
  if (revId === undefined) throw new StoreError('INVALID_HISTORY', 'revision history is empty');
  return table.engine.transaction(() => {
    const row = table.readRow(id);
    if (options.onlyExtending && row && row.rev !== revId && !ancestors.includes(row.rev) && !recreatesDeleted(table, row, ancestors)) {
      throw new StoreError('CONFLICT', `conflict: ${id} is at ${row.rev} here, which ${revId} does not descend from`);
    }
    const tree = row ? table.treeOf(row) : new RevTree();
    const seqIfAdded = toSequence(table.lastSequence + 1);
    const result = tree.insertWithHistory([revId, ...ancestors], json, deleted, seqIfAdded, options.markConflict ?? true);
    if (result.added === 0) {
      return { docId: id, revId, added: 0, conflicted: row ? (row.flags & F_CONFLICTED) !== 0 : false, sequence: undefined };
    }
    const seq = table.nextSequence();
    const blobs = tree.winner()?.revId === revId ? hasBlobs : row !== undefined && (row.flags & F_HAS_BLOBS) !== 0;
    table.writeTree(id, tree, row, seq, blobs);
    return { docId: id, revId, added: result.added, conflicted: tree.isConflicted(), sequence: seq };
  });
}

/** A revision with no ancestor in common with a document deleted on every branch re-creates it. */
function recreatesDeleted(table: CollectionTable, row: DocRow, ancestry: readonly string[]): boolean {
  if ((row.flags & (F_DELETED | F_CONFLICTED)) !== F_DELETED) return false;
  const tree = table.treeOf(row);
  return tree.allLeavesDeleted() && !ancestry.some((rev) => tree.indexOf(rev) >= 0);
}

/** For each document, which of the given revisions are missing here, and which known ones may be their ancestors. */
export function revsDiff(table: CollectionTable, request: Readonly<Record<string, readonly string[]>>): Record<string, RevsDiffEntry> {
  // No prototype: a peer's document ID such as `__proto__` must be a key like any other.
  const out = Object.create(null) as Record<string, RevsDiffEntry>;
  const requested = Object.entries(request).map(([id, revs]) => ({ docId: asDocId(id), revs }));
  const ids = requested.map((r) => r.docId);
  // One query per batch; bodies are not read (only the trees matter here).
  const rows = new Map<string, DocRow>();
  for (const r of table.selectIn(ids, [], table.sql.treesByIds)) {
    const { id, row } = decodeTreeRow(r);
    rows.set(id, row);
  }
  for (const { docId, revs } of requested) {
    const row = rows.get(docId);
    const tree = row ? table.treeOf(row) : undefined;
    const missing = revs.map(asRevId).filter((r) => !tree || tree.indexOf(r) < 0);
    if (missing.length === 0) continue;
    const possibleAncestors = tree ? tree.possibleAncestors(missing.reduce((a, b) => (a > b ? a : b))) : [];
    out[docId] = { missing, possibleAncestors };
  }
  return out;
}

/** Documents changed after `since`, each once at its latest sequence, in sequence order. */
export function changesSince(table: CollectionTable, since: number, options: ChangesOptions): Change[] {
  const limit = options.limit ?? -1;
  let rows: SqlValue[][];
  if (options.docIds && options.docIds.length > 0) {
    const ids = options.docIds.map(asDocId);
    const placeholders = ids.map(() => '?').join(',');
    rows = table.engine.all(table.sql.changesOfIds(placeholders, options.activeOnly === true), [since, ...ids, limit]);
  } else {
    rows = table.engine.all(options.activeOnly ? table.sql.changesLive : table.sql.changes, [since, limit]);
  }
  return rows.map(decodeChangeRow);
}

/** The revision a peer is known to have of each document (only documents with a record are in the map). */
export function getRemoteRevs(table: CollectionTable, remote: number, docIds: readonly string[]): Map<string, RevId> {
  const out = new Map<string, RevId>();
  const rows = table.selectIn(docIds, [remote, table.id], (ids) => `SELECT doc, rev FROM remote_revs WHERE remote = ? AND coll = ? AND doc IN (${ids})`);
  for (const r of rows) {
    const { doc, rev } = decodeRemoteRevRow(r);
    out.set(doc, rev);
  }
  return out;
}

/** Records that a peer now has these revisions (after it acknowledged a push, or after a pull). */
export function setRemoteRevs(table: CollectionTable, remote: number, entries: readonly (readonly [string, string])[]): void {
  if (entries.length === 0) return;
  // Nobody waits for these to be durable (a lost one only means more history on the next push).
  // Many rows per statement, padded to a power of two by repeating the last row (replacing a row
  // with itself is harmless), so a batch is a few statement runs and a few cached statements.
  table.engine.transaction(
    () => {
      for (let i = 0; i < entries.length; i += IN_CHUNK) {
        const chunk = entries.slice(i, i + IN_CHUNK);
        const size = powerOfTwoAtLeast(chunk.length);
        const params: SqlParam[] = [];
        for (const [doc, rev] of chunk) params.push(remote, table.id, doc, rev);
        const lastRow = params.slice(-4);
        while (params.length < size * 4) params.push(...lastRow);
        table.engine.run(`INSERT OR REPLACE INTO remote_revs (remote, coll, doc, rev) VALUES ${'(?, ?, ?, ?), '.repeat(size - 1)}(?, ?, ?, ?)`, params);
      }
    },
    { deferDurability: true },
  );
}

/** Forgets what a peer was recorded to have of a document (it refused a proposal based on it). */
export function forgetRemoteRev(table: CollectionTable, remote: number, docId: string): void {
  table.engine.transaction(() => table.engine.run('DELETE FROM remote_revs WHERE remote = ? AND coll = ? AND doc = ?', [remote, table.id, docId]), { deferDurability: true });
}
