import type { SqlValue } from 'sql.js';
import { parseJsonObject } from './canonical-json';
import { decodeDocRow, toSequence, type DocRow } from './collection-rows';
import { collectionStatements, F_CONFLICTED, F_DELETED, F_HAS_BLOBS, type CollectionStatements } from './collection-schema';
import type { DurableSqlite, SqlParam } from './durable-sqlite';
import { StoreError } from './errors';
import { RevTree, type RevNode } from './rev-tree';
import type { Change, DocId, Document, Sequence } from './types';

export const TOMBSTONE_BODY = '{}';

export interface CollectionHost {
  readonly engine: DurableSqlite;
  readonly maxRevTreeDepth: number;
}

/**
 * A collection's rows and sequence counter: what both the document API and replication build on
 * (reading a document's row and tree, writing a new tree, allocating sequences). Change events are
 * collected per transaction and handed to `onChanges` once it commits.
 */
export class CollectionTable {
  readonly sql: CollectionStatements;
  private lastSeq: number;
  private seqDirty = false;
  private pendingChanges: Change[] | undefined;

  constructor(
    private readonly host: CollectionHost,
    readonly id: number,
    lastSeq: number,
    private readonly onChanges: (batch: Change[]) => void,
  ) {
    this.lastSeq = lastSeq;
    this.sql = collectionStatements(id);
  }

  get engine(): DurableSqlite {
    return this.host.engine;
  }

  get lastSequence(): Sequence {
    return toSequence(this.lastSeq);
  }

  readRow(id: DocId): DocRow | undefined {
    const r = this.engine.one(this.sql.byId, [id]);
    return r ? decodeDocRow(r) : undefined;
  }

  treeOf(row: DocRow): RevTree {
    if (row.tree === null) return RevTree.single(row.rev, (row.flags & F_DELETED) !== 0, row.seq, row.body);
    const tree = RevTree.decode(row.tree);
    const winner = tree.get(row.rev);
    if (!winner) throw new StoreError('CORRUPT', `revision tree does not contain the current revision ${row.rev}`);
    winner.body = row.body;
    return tree;
  }

  toDocument(id: DocId, node: RevNode, row: DocRow): Document {
    return {
      id,
      revId: node.revId,
      sequence: node.sequence,
      deleted: node.deleted,
      conflicted: (row.flags & F_CONFLICTED) !== 0,
      body: node.body === undefined ? undefined : parseJsonObject(node.body, 'stored body'),
    };
  }

  /** Allocates the next sequence; the counter is persisted once per transaction, and restored on rollback. */
  nextSequence(): Sequence {
    const before = this.lastSeq;
    this.lastSeq++;
    if (!this.seqDirty) {
      this.seqDirty = true;
      this.engine.onRollback(() => {
        this.lastSeq = before;
        this.seqDirty = false;
        this.pendingChanges = undefined;
      });
      this.engine.beforeCommit(() => {
        this.engine.run('UPDATE collections SET last_seq = ? WHERE id = ?', [this.lastSeq, this.id]);
        this.seqDirty = false;
      });
    }
    return toSequence(this.lastSeq);
  }

  writeTree(id: DocId, tree: RevTree, oldRow: DocRow | undefined, seq: Sequence, hasBlobs: boolean): void {
    if (tree.generationSpan() > this.host.maxRevTreeDepth) tree.prune(this.host.maxRevTreeDepth);
    const winner = tree.winner();
    if (!winner) throw new StoreError('INVALID_ARGUMENT', `cannot store ${JSON.stringify(id)} without a revision`);
    const body = winner.body ?? TOMBSTONE_BODY;
    const flags = flagsFor(tree, winner.deleted, hasBlobs);
    // The body goes in as UTF-8 bytes: sql.js copies a byte array into WebAssembly memory natively,
    // while a string is re-encoded character by character in JavaScript.
    const params: SqlParam[] = [seq, id, winner.revId, flags, Buffer.from(body, 'utf8'), tree.size === 1 ? null : tree.encode(winner)];
    if (oldRow) {
      params.push(oldRow.seq);
      this.engine.run(this.sql.update, params);
    } else {
      this.engine.run(this.sql.insert, params);
    }
    const change: Change = { sequence: seq, docId: id, revId: winner.revId, deleted: winner.deleted, bodySize: Buffer.byteLength(body) };
    if (!this.pendingChanges) {
      const batch: Change[] = [];
      this.pendingChanges = batch;
      this.engine.afterCommit(() => {
        this.pendingChanges = undefined;
        if (batch.length > 0) this.onChanges(batch);
      });
    }
    this.pendingChanges.push(change);
  }

  /**
   * Runs a query over many IDs, one query per chunk rather than per ID. Chunks are padded to a
   * power of two (with repeats of an ID, harmless in IN) so only a few distinct statements get
   * prepared and cached.
   */
  selectIn(ids: readonly string[], leading: readonly SqlParam[], sql: (placeholders: string) => string): SqlValue[][] {
    const rows: SqlValue[][] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      const size = powerOfTwoAtLeast(chunk.length);
      const params: SqlParam[] = [...leading, ...chunk];
      const padding = params.slice(-1);
      while (params.length < size + leading.length) params.push(...padding);
      rows.push(...this.engine.all(sql(`${'?,'.repeat(size - 1)}?`), params));
    }
    return rows;
  }
}

export function flagsFor(tree: RevTree, deleted: boolean, hasBlobs: boolean): number {
  return (deleted ? F_DELETED : 0) | (tree.isConflicted() ? F_CONFLICTED : 0) | (hasBlobs ? F_HAS_BLOBS : 0);
}

/** IDs (or remote_revs rows) per statement (SQLite allows 32,766 parameters; 4 × 256 stays well inside). */
export const IN_CHUNK = 256;

export function powerOfTwoAtLeast(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}
