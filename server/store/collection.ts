import type { SqlValue } from 'sql.js';
import { findBlobRefs } from './blob-store';
import { isJsonObject, parseJsonObject } from './canonical-json';
import { toResolver, type Conflict, type ConflictResolver, type ConflictResolverFn, type ConflictRevision, type Resolution } from './conflict-resolver';
import { asDocId, asValidDocId } from './doc-id';
import { ValidBody } from './document-body';
import type { DurableSqlite, SqlParam } from './durable-sqlite';
import { StoreError } from './errors';
import { asRevId, computeRevId } from './rev-id';
import { RevTree, type RevNode } from './rev-tree';
import type { Change, DocId, Document, JsonObject, RevId, RevisionInfo, Sequence } from './types';
import { TypedEmitter } from '../util/typed-emitter';

/** How save() treats a document that changed since it was read (Couchbase Lite's ConcurrencyControl). */
export type ConcurrencyControl = 'lastWriteWins' | 'failOnConflict';

/**
 * Custom conflict handler for save(): gets the body about to be saved (mutable) and the current
 * revision (undefined if deleted/purged); returns true to save the (possibly edited) body on top of
 * the current revision, false to give up (save throws a CONFLICT error).
 */
export type SaveConflictHandler = (toSave: JsonObject, current: Document | undefined) => boolean;

export interface DocumentInput {
  /** Omitted: a new random ID. */
  readonly id?: string;
  /** The revision this edit is based on (as read); omitted/null for a new document. */
  readonly revId?: string | null;
  readonly body: JsonObject;
}

export interface GetOptions {
  /** A specific revision instead of the current one. */
  readonly rev?: string;
  /** Return the current revision even if it is a deletion (tombstone). */
  readonly includeDeleted?: boolean;
}

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

export interface CollectionHost {
  readonly engine: DurableSqlite;
  readonly maxRevTreeDepth: number;
}

const F_DELETED = 1;
const F_CONFLICTED = 2;
const F_HAS_BLOBS = 4;
const TOMBSTONE_BODY = '{}';

interface Row {
  seq: number;
  rev: RevId;
  flags: number;
  body: string;
  /** null = the tree is just the current revision (most documents: stored without a tree). */
  tree: string | null;
}

/** A named set of documents with its own sequence space (`scope.collection`). */
export class Collection extends TypedEmitter<{ change: [Change[]]; purge: [DocId] }> {
  private lastSeq: number;
  private pendingChanges: Change[] | undefined;
  private seqDirty = false;
  private readonly sql: ReturnType<typeof statements>;

  constructor(
    private readonly host: CollectionHost,
    readonly id: number,
    readonly scope: string,
    readonly name: string,
    lastSeq: number,
  ) {
    super();
    this.lastSeq = lastSeq;
    this.sql = statements(`docs_${id}`);
  }

  get fullName(): string {
    return `${this.scope}.${this.name}`;
  }

  get lastSequence(): Sequence {
    return this.lastSeq as Sequence;
  }

  private get engine(): DurableSqlite {
    return this.host.engine;
  }

  /** Number of documents (live only unless includeDeleted). */
  count(options: { includeDeleted?: boolean } = {}): number {
    const row = this.engine.one(options.includeDeleted ? this.sql.countAll : this.sql.countLive);
    return Number(row?.[0] ?? 0);
  }

  get(docId: string, options: GetOptions = {}): Document | undefined {
    const id = asDocId(docId);
    const row = this.readRow(id);
    if (!row) return undefined;
    if (options.rev === undefined || options.rev === row.rev) {
      const deleted = (row.flags & F_DELETED) !== 0;
      if (deleted && !options.includeDeleted && options.rev === undefined) return undefined;
      return {
        id,
        revId: row.rev,
        sequence: row.seq as Sequence,
        deleted,
        conflicted: (row.flags & F_CONFLICTED) !== 0,
        body: parseJsonObject(row.body, 'stored body'),
      };
    }
    const tree = this.treeOf(row);
    const node = tree.get(options.rev);
    return node ? this.toDocument(id, node, row) : undefined;
  }

  /** The current revision ID and whether it is a deletion, without reading the body. */
  currentRevision(docId: string): { revId: RevId; deleted: boolean } | undefined {
    const r = this.engine.one(this.sql.revById, [asDocId(docId)]);
    return r ? { revId: r[0] as RevId, deleted: ((r[1] as number) & F_DELETED) !== 0 } : undefined;
  }

  /**
   * What a pusher needs to send a document's current revision, in one read: its ID, deletion
   * flag, body as the stored JSON text (sent as is) and its size in UTF-8 bytes, and up to `maxHistory`
   * ancestors (newest first).
   */
  readForSending(docId: string, maxHistory: number): { revId: RevId; deleted: boolean; json: string; bytes: number; history: RevId[] } | undefined {
    const row = this.readRow(asDocId(docId));
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

  /** The current revision's body as stored JSON text (for sending without re-serialising). */
  getJson(docId: string): { revId: RevId; deleted: boolean; sequence: Sequence; json: string } | undefined {
    const row = this.readRow(asDocId(docId));
    if (!row) return undefined;
    return { revId: row.rev, deleted: (row.flags & F_DELETED) !== 0, sequence: row.seq as Sequence, json: row.body };
  }

  /**
   * Saves a new revision. `doc.revId` is the revision the edit was based on; if the document moved
   * on since (or was created elsewhere), `concurrency` decides: lastWriteWins saves on top of the
   * current revision anyway, failOnConflict throws CONFLICT, a handler may adjust the body or give up.
   */
  save(doc: DocumentInput, concurrency: ConcurrencyControl | SaveConflictHandler = 'lastWriteWins'): Document {
    if (!isJsonObject(doc.body)) throw new StoreError('INVALID_DOCUMENT', 'document body must be a JSON object');
    return this.writeLocal(doc.id === undefined ? newDocId() : asValidDocId(doc.id), doc.revId ?? null, doc.body, false, concurrency);
  }

  /** Deletes a document by adding a tombstone revision (replicated, unlike purge). */
  delete(docId: string, options: { revId?: string | null; concurrency?: ConcurrencyControl | SaveConflictHandler } = {}): Document {
    const id = asValidDocId(docId);
    const current = this.readRow(id);
    if (!current || (current.flags & F_DELETED) !== 0) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)} not found`);
    const base = options.revId === undefined ? current.rev : options.revId;
    return this.writeLocal(id, base, {}, true, options.concurrency ?? 'lastWriteWins');
  }

  private writeLocal(id: DocId, baseRev: string | null, body: JsonObject, deleted: boolean, concurrency: ConcurrencyControl | SaveConflictHandler): Document {
    let toSave = body;
    return this.engine.transaction(() => {
      const row = this.readRow(id);
      const tree = row ? this.treeOf(row) : new RevTree();
      const current = tree.winner();
      let parent: RevNode | null = null;
      if (current) {
        const upToDate = baseRev === current.revId || (baseRev === null && current.deleted);
        if (!upToDate) {
          if (concurrency === 'failOnConflict') {
            throw new StoreError('CONFLICT', `document ${JSON.stringify(id)} changed since revision ${baseRev ?? '(new)'}; current is ${current.revId}`);
          }
          if (typeof concurrency === 'function') {
            const copy = structuredClone(toSave);
            const currentDoc = current.deleted ? undefined : this.toDocument(id, current, row!);
            if (!concurrency(copy, currentDoc)) throw new StoreError('CONFLICT', `save of ${JSON.stringify(id)} was refused by the conflict handler`);
            toSave = copy;
          }
        }
        parent = current;
      } else if (baseRev !== null && concurrency === 'failOnConflict') {
        throw new StoreError('CONFLICT', `document ${JSON.stringify(id)} no longer exists (purged)`);
      }
      let json = TOMBSTONE_BODY;
      let hasBlobs = false;
      // The final body is what counts: a conflict handler may have edited it.
      if (!deleted) ({ json, hasBlobs } = ValidBody.local(toSave));
      const revId = computeRevId(parent?.revId ?? null, deleted, json);
      const seq = this.nextSequence();
      tree.addChild(revId, parent, json, deleted, seq);
      this.writeTree(id, tree, row, seq, hasBlobs);
      // The body just saved is returned as given (not re-parsed from the stored JSON).
      return { id, revId, sequence: seq, deleted, conflicted: tree.isConflicted(), body: deleted ? {} : toSave };
    });
  }

  /** Removes a document and its whole history locally; nothing is replicated. Returns false if absent. */
  purge(docId: string): boolean {
    const id = asDocId(docId);
    return this.engine.transaction(() => {
      const row = this.readRow(id);
      if (!row) return false;
      this.engine.run(this.sql.deleteBySeq, [row.seq]);
      this.engine.run('DELETE FROM remote_revs WHERE coll = ? AND doc = ?', [this.id, id]);
      this.engine.afterCommit(() => this.emit('purge', id));
      return true;
    });
  }

  getRevisionHistory(docId: string): RevisionInfo[] | undefined {
    const row = this.readRow(asDocId(docId));
    return row ? this.treeOf(row).describe() : undefined;
  }

  /** Revision IDs from `revId` (default: current) back to the oldest kept, newest first. */
  getAncestry(docId: string, revId?: string, max?: number): RevId[] | undefined {
    const row = this.readRow(asDocId(docId));
    if (!row) return undefined;
    return this.treeOf(row).history(revId ?? row.rev, max);
  }

  /**
   * The replicator's write path: inserts a revision from a peer together with its ancestry
   * (`history[0]` is the revision itself). Branches that diverge from the local winner become
   * conflicts, marked so the local winner stays current until resolved.
   */
  insertRevisionWithHistory(rev: ForeignRevision, history: readonly string[], options: InsertOptions = {}): InsertOutcome {
    const id = asValidDocId(rev.id);
    const revIds = history.map(asRevId);
    const deleted = rev.deleted === true;
    const input = rev.bodyJson ?? rev.body;
    const { json, hasBlobs } = rev.validBody ?? (input === undefined ? { json: TOMBSTONE_BODY, hasBlobs: false } : ValidBody.received(input, deleted));
    return this.engine.transaction(() => {
      const row = this.readRow(id);
      const ancestry = options.onlyExtending ? revIds.slice(1) : undefined;
      if (ancestry && row && row.rev !== revIds[0] && !ancestry.includes(row.rev) && !this.recreatesDeleted(row, ancestry)) {
        throw new StoreError('CONFLICT', `conflict: ${id} is at ${row.rev} here, which ${revIds[0]!} does not descend from`);
      }
      const tree = row ? this.treeOf(row) : new RevTree();
      const seqIfAdded = (this.lastSeq + 1) as Sequence;
      const result = tree.insertWithHistory(revIds, json, deleted, seqIfAdded, options.markConflict ?? true);
      if (result.added === 0) {
        return { docId: id, revId: revIds[0]!, added: 0, conflicted: row ? (row.flags & F_CONFLICTED) !== 0 : false, sequence: undefined };
      }
      const seq = this.nextSequence();
      const winner = tree.winner()!;
      const blobs = winner.revId === revIds[0] ? hasBlobs : row !== undefined && (row.flags & F_HAS_BLOBS) !== 0;
      this.writeTree(id, tree, row, seq, blobs);
      return { docId: id, revId: revIds[0]!, added: result.added, conflicted: tree.isConflicted(), sequence: seq };
    });
  }

  /** A revision with no ancestor in common with a document deleted on every branch re-creates it. */
  private recreatesDeleted(row: Row, ancestry: readonly string[]): boolean {
    if ((row.flags & (F_DELETED | F_CONFLICTED)) !== F_DELETED) return false;
    const tree = this.treeOf(row);
    return tree.allLeavesDeleted() && !ancestry.some((rev) => tree.indexOf(rev) >= 0);
  }

  /** For each document, which of the given revisions are missing here, and which known ones may be their ancestors. */
  revsDiff(request: Readonly<Record<string, readonly string[]>>): Record<string, RevsDiffEntry> {
    // No prototype: a peer's document ID such as `__proto__` must be a key like any other.
    const out = Object.create(null) as Record<string, RevsDiffEntry>;
    const ids = Object.keys(request).map(asDocId);
    // One query per batch; bodies are not read (only the trees matter here).
    const rows = new Map<string, Row>();
    for (const [id, seq, rev, flags, tree] of this.selectIn(ids, [], (p) => `SELECT id, seq, rev, flags, tree FROM docs_${this.id} WHERE id IN (${p})`)) {
      rows.set(id as string, { seq: seq as number, rev: rev as RevId, flags: flags as number, body: '', tree: tree as string | null });
    }
    for (const docId of ids) {
      const row = rows.get(docId);
      const tree = row ? this.treeOf(row) : undefined;
      const missing = request[docId]!.map(asRevId).filter((r) => !tree || tree.indexOf(r) < 0);
      if (missing.length === 0) continue;
      const possibleAncestors = tree ? tree.possibleAncestors(missing.reduce((a, b) => (a > b ? a : b))) : [];
      out[docId] = { missing, possibleAncestors };
    }
    return out;
  }

  /** Documents with unresolved conflicting branches, in ID order. */
  conflicts(options: { limit?: number; after?: string } = {}): { docId: DocId; revId: RevId }[] {
    const rows = this.engine.all(this.sql.conflicts, [options.after ?? '', options.limit ?? -1]);
    return rows.map(([id, rev]) => ({ docId: id as DocId, revId: rev as RevId }));
  }

  /** The conflict a resolver would see for this document: local = current winner, remote = the best other branch. */
  getConflict(docId: string): Conflict | undefined {
    const id = asDocId(docId);
    const row = this.readRow(id);
    if (!row || (row.flags & F_CONFLICTED) === 0) return undefined;
    const tree = this.treeOf(row);
    const local = tree.winner()!;
    const remote = tree.conflictingLeaves()[0];
    if (!remote) return undefined;
    return { collection: this.fullName, docId: id, local: toConflictRevision(local), remote: toConflictRevision(remote) };
  }

  /**
   * Ends a conflict. The result is built on the remote (conflicting) branch, which the peer already
   * has, so pushing it afterwards is a plain update and not a new conflict:
   * - remote wins: the local branch is closed with a tombstone;
   * - local wins / merged / delete: a new revision on the remote branch carries the local body,
   *   the merged body, or a deletion, and the local branch is closed.
   */
  resolveConflict(docId: string, resolution: Resolution): Document {
    const id = asDocId(docId);
    return this.engine.transaction(() => {
      const row = this.readRow(id);
      if (!row) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)} not found`);
      const tree = this.treeOf(row);
      const others = tree.conflictingLeaves();
      if (others.length === 0) throw new StoreError('NOT_IN_CONFLICT', `document ${JSON.stringify(id)} is not in conflict`);
      const local = tree.winner()!;
      const base = others[0]!;
      const seq = this.nextSequence();
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
      for (const node of tree.nodes) node.conflict = false;
      const winner = tree.winner()!;
      const hasBlobs = !winner.deleted && findBlobRefs(resultBody ?? parseJsonObject(winner.body ?? TOMBSTONE_BODY)).length > 0;
      this.writeTree(id, tree, row, seq, hasBlobs);
      return this.toDocument(id, winner, { seq, rev: winner.revId, flags: this.flagsFor(tree, winner.deleted, hasBlobs), body: winner.body ?? TOMBSTONE_BODY, tree: '' });
    });
  }

  /** Resolves a document's conflict with a resolver (retrying if the document changes while it runs). */
  async resolveWith(docId: string, resolver: ConflictResolver | ConflictResolverFn): Promise<Document | undefined> {
    const r = toResolver(resolver);
    for (let attempt = 0; attempt < 5; attempt++) {
      const conflict = this.getConflict(docId);
      if (!conflict) return undefined;
      const resolution = await r.resolve(conflict);
      const now = this.getConflict(docId);
      if (now && now.local.revId === conflict.local.revId && now.remote.revId === conflict.remote.revId) {
        return this.resolveConflict(docId, resolution);
      }
    }
    throw new StoreError('CONFLICT', `document ${JSON.stringify(docId)} kept changing while its conflict was being resolved`);
  }

  /** Documents changed after `since`, each once at its latest sequence, in sequence order. */
  changesSince(since: number, options: ChangesOptions = {}): Change[] {
    const limit = options.limit ?? -1;
    let rows: SqlValue[][];
    if (options.docIds && options.docIds.length > 0) {
      const ids = options.docIds.map(asDocId);
      const placeholders = ids.map(() => '?').join(',');
      const live = options.activeOnly ? ` AND (flags & ${F_DELETED}) = 0` : '';
      rows = this.engine.all(
        `SELECT seq, id, rev, flags, octet_length(body) FROM docs_${this.id} WHERE seq > ? AND id IN (${placeholders})${live} ORDER BY seq LIMIT ?`,
        [since, ...ids, limit],
      );
    } else {
      rows = this.engine.all(options.activeOnly ? this.sql.changesLive : this.sql.changes, [since, limit]);
    }
    return rows.map(([seq, id, rev, flags, size]) => ({
      sequence: seq as Sequence,
      docId: id as DocId,
      revId: rev as RevId,
      deleted: ((flags as number) & F_DELETED) !== 0,
      bodySize: size as number,
    }));
  }

  /** Documents in ID order, for listings and paging (`after` = last ID of the previous page). */
  allDocs(options: { limit?: number; after?: string; includeDeleted?: boolean } = {}): Document[] {
    const rows = this.engine.all(options.includeDeleted ? this.sql.allDocsWithDeleted : this.sql.allDocs, [options.after ?? '', options.limit ?? -1]);
    return rows.map(([seq, id, rev, flags, body]) => ({
      id: id as DocId,
      revId: rev as RevId,
      sequence: seq as Sequence,
      deleted: ((flags as number) & F_DELETED) !== 0,
      conflicted: ((flags as number) & F_CONFLICTED) !== 0,
      body: parseJsonObject(body as string, 'stored body'),
    }));
  }

  /** The revision a peer is known to have of each document (only documents with a record are in the map). */
  getRemoteRevs(remote: number, docIds: readonly string[]): Map<string, RevId> {
    const out = new Map<string, RevId>();
    const rows = this.selectIn(docIds, [remote, this.id], (ids) => `SELECT doc, rev FROM remote_revs WHERE remote = ? AND coll = ? AND doc IN (${ids})`);
    for (const [doc, rev] of rows) out.set(doc as string, rev as RevId);
    return out;
  }

  /**
   * Runs a query over many IDs, one query per chunk rather than per ID. Chunks are padded to a
   * power of two (with repeats of an ID, harmless in IN) so only a few distinct statements get
   * prepared and cached.
   */
  private selectIn(ids: readonly string[], leading: readonly SqlParam[], sql: (placeholders: string) => string): SqlValue[][] {
    const rows: SqlValue[][] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      const size = powerOfTwoAtLeast(chunk.length);
      const params: SqlParam[] = [...leading, ...chunk];
      while (params.length < size + leading.length) params.push(chunk[0]!);
      rows.push(...this.engine.all(sql(`${'?,'.repeat(size - 1)}?`), params));
    }
    return rows;
  }

  /** Records that a peer now has these revisions (after it acknowledged a push, or after a pull). */
  setRemoteRevs(remote: number, entries: readonly (readonly [string, string])[]): void {
    if (entries.length === 0) return;
    // Nobody waits for these to be durable (a lost one only means more history on the next push).
    // Many rows per statement, padded to a power of two by repeating the last row (replacing a row
    // with itself is harmless), so a batch is a few statement runs and a few cached statements.
    this.engine.transaction(() => {
      for (let i = 0; i < entries.length; i += IN_CHUNK) {
        const chunk = entries.slice(i, i + IN_CHUNK);
        const size = powerOfTwoAtLeast(chunk.length);
        const params: SqlParam[] = [];
        for (let k = 0; k < size; k++) {
          const [doc, rev] = chunk[Math.min(k, chunk.length - 1)]!;
          params.push(remote, this.id, doc, rev);
        }
        this.engine.run(`INSERT OR REPLACE INTO remote_revs (remote, coll, doc, rev) VALUES ${'(?, ?, ?, ?), '.repeat(size - 1)}(?, ?, ?, ?)`, params);
      }
    }, { deferDurability: true });
  }

  /** Forgets what a peer was recorded to have of a document (it refused a proposal based on it). */
  forgetRemoteRev(remote: number, docId: string): void {
    this.engine.transaction(() => this.engine.run('DELETE FROM remote_revs WHERE remote = ? AND coll = ? AND doc = ?', [remote, this.id, docId]), { deferDurability: true });
  }

  /** Creates this collection's table (idempotent). */
  createSchema(): void {
    for (const stmt of this.sql.schema) this.engine.run(stmt);
  }

  dropSchema(): void {
    this.engine.run(`DROP TABLE IF EXISTS docs_${this.id}`);
    this.engine.run('DELETE FROM remote_revs WHERE coll = ?', [this.id]);
  }

  /** Allocates the next sequence; the counter is persisted once per transaction, and restored on rollback. */
  private nextSequence(): Sequence {
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
    return this.lastSeq as Sequence;
  }

  private writeTree(id: DocId, tree: RevTree, oldRow: Row | undefined, seq: Sequence, hasBlobs: boolean): void {
    if (tree.generationSpan() > this.host.maxRevTreeDepth) tree.prune(this.host.maxRevTreeDepth);
    const winner = tree.winner()!;
    const body = winner.body ?? TOMBSTONE_BODY;
    const flags = this.flagsFor(tree, winner.deleted, hasBlobs);
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
        if (batch.length > 0) this.emit('change', batch);
      });
    }
    this.pendingChanges.push(change);
  }

  private flagsFor(tree: RevTree, deleted: boolean, hasBlobs: boolean): number {
    return (deleted ? F_DELETED : 0) | (tree.isConflicted() ? F_CONFLICTED : 0) | (hasBlobs ? F_HAS_BLOBS : 0);
  }

  private readRow(id: DocId): Row | undefined {
    const r = this.engine.one(this.sql.byId, [id]);
    if (!r) return undefined;
    return { seq: r[0] as number, rev: r[1] as RevId, flags: r[2] as number, body: r[3] as string, tree: r[4] as string | null };
  }

  private treeOf(row: Row): RevTree {
    if (row.tree === null) return RevTree.single(row.rev, (row.flags & F_DELETED) !== 0, row.seq as Sequence, row.body);
    const tree = RevTree.decode(row.tree);
    const winner = tree.get(row.rev);
    if (!winner) throw new StoreError('CORRUPT', `revision tree does not contain the current revision ${row.rev}`);
    winner.body = row.body;
    return tree;
  }

  private toDocument(id: DocId, node: RevNode, row: Row): Document {
    return {
      id,
      revId: node.revId,
      sequence: node.sequence,
      deleted: node.deleted,
      conflicted: (row.flags & F_CONFLICTED) !== 0,
      body: node.body === undefined ? undefined : parseJsonObject(node.body, 'stored body'),
    };
  }
}

/** Bodies are stored as UTF-8 bytes (see writeTree); older rows or other writers may hold text. */
function toConflictRevision(node: RevNode): ConflictRevision {
  return { revId: node.revId, deleted: node.deleted, body: node.deleted || node.body === undefined ? undefined : parseJsonObject(node.body, 'stored body') };
}

function newDocId(): DocId {
  return `-${crypto.randomUUID().replace(/-/g, '').slice(0, 22)}` as DocId;
}

/** IDs (or remote_revs rows) per statement (SQLite allows 32,766 parameters; 4 × 256 stays well inside). */
const IN_CHUNK = 256;

function powerOfTwoAtLeast(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/** SQL for one collection's table, built once per collection so prepared statements are reused. */
function statements(table: string) {
  // Bodies are stored as UTF-8 bytes (bound natively on write) and read back as text: sql.js decodes
  // text natively but copies blobs out byte by byte.
  const body = 'CAST(body AS TEXT)';
  const cols = `seq, id, rev, flags, ${body}`;
  return {
    schema: [
      `CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, rev TEXT NOT NULL, flags INTEGER NOT NULL, body TEXT NOT NULL, tree TEXT)`,
      `CREATE INDEX IF NOT EXISTS ${table}_conflicts ON ${table}(id) WHERE (flags & ${F_CONFLICTED}) != 0`,
    ],
    byId: `SELECT seq, rev, flags, ${body}, tree FROM ${table} WHERE id = ?`,
    revById: `SELECT rev, flags FROM ${table} WHERE id = ?`,
    insert: `INSERT INTO ${table} (seq, id, rev, flags, body, tree) VALUES (?, ?, ?, ?, ?, ?)`,
    update: `UPDATE ${table} SET seq = ?, id = ?, rev = ?, flags = ?, body = ?, tree = ? WHERE seq = ?`,
    deleteBySeq: `DELETE FROM ${table} WHERE seq = ?`,
    countAll: `SELECT count(*) FROM ${table}`,
    countLive: `SELECT count(*) FROM ${table} WHERE (flags & ${F_DELETED}) = 0`,
    changes: `SELECT seq, id, rev, flags, octet_length(body) FROM ${table} WHERE seq > ? ORDER BY seq LIMIT ?`,
    changesLive: `SELECT seq, id, rev, flags, octet_length(body) FROM ${table} WHERE seq > ? AND (flags & ${F_DELETED}) = 0 ORDER BY seq LIMIT ?`,
    conflicts: `SELECT id, rev FROM ${table} WHERE (flags & ${F_CONFLICTED}) != 0 AND id > ? ORDER BY id LIMIT ?`,
    allDocs: `SELECT ${cols} FROM ${table} WHERE id > ? AND (flags & ${F_DELETED}) = 0 ORDER BY id LIMIT ?`,
    allDocsWithDeleted: `SELECT ${cols} FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`,
  };
}
