import { isJsonObject, parseJsonObject } from './canonical-json';
import * as conflictResolution from './collection-conflicts';
import * as replication from './collection-replication';
import type { ChangesOptions, ForeignRevision, InsertOptions, InsertOutcome, RevisionToSend, RevsDiffEntry } from './collection-replication';
import { decodeCount, decodeListedRow, decodeRevisionRow } from './collection-rows';
import { createCollectionSchema, dropCollectionSchema, F_CONFLICTED, F_DELETED } from './collection-schema';
import { CollectionTable, TOMBSTONE_BODY, type CollectionHost } from './collection-table';
import { ConflictLog, type RecordedRevision, type ResolutionRecord } from './conflict-log';
import { toResolver, type Conflict, type ConflictResolver, type ConflictResolverFn, type ConflictRevision, type Resolution } from './conflict-resolver';
import { asDocId, asValidDocId } from './doc-id';
import { ValidBody } from './document-body';
import type { DurableSqlite } from './durable-sqlite';
import { StoreError } from './errors';
import { computeRevId } from './rev-id';
import { RevTree, type RevNode } from './rev-tree';
import type { Change, DocId, Document, JsonObject, RevId, RevisionInfo, Sequence } from './types';
import { TypedEmitter } from '../util/typed-emitter';

export type { ChangesOptions, ForeignRevision, InsertOptions, InsertOutcome, RevisionToSend, RevsDiffEntry } from './collection-replication';
export type { CollectionHost } from './collection-table';

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

/** A named set of documents with its own sequence space (`scope.collection`). */
export class Collection extends TypedEmitter<{ change: [Change[]]; purge: [DocId]; resolved: [ResolutionRecord] }> {
  private log: ConflictLog | undefined;
  private readonly table: CollectionTable;

  constructor(
    host: CollectionHost,
    readonly id: number,
    readonly scope: string,
    readonly name: string,
    lastSeq: number,
  ) {
    super();
    this.table = new CollectionTable(host, id, lastSeq, (batch) => this.emit('change', batch));
  }

  get fullName(): string {
    return `${this.scope}.${this.name}`;
  }

  get lastSequence(): Sequence {
    return this.table.lastSequence;
  }

  private get engine(): DurableSqlite {
    return this.table.engine;
  }

  /** A SELECT of the live documents as columns id, rev, seq and body (JSON text), for Database.queryRows. */
  get querySource(): string {
    return this.table.sql.liveForQuery;
  }

  /** Number of documents (live only unless includeDeleted). */
  count(options: { includeDeleted?: boolean } = {}): number {
    return decodeCount(this.engine.one(options.includeDeleted ? this.table.sql.countAll : this.table.sql.countLive));
  }

  get(docId: string, options: GetOptions = {}): Document | undefined {
    const id = asDocId(docId);
    const row = this.table.readRow(id);
    if (!row) return undefined;
    if (options.rev === undefined || options.rev === row.rev) {
      const deleted = (row.flags & F_DELETED) !== 0;
      if (deleted && !options.includeDeleted && options.rev === undefined) return undefined;
      return {
        id,
        revId: row.rev,
        sequence: row.seq,
        deleted,
        conflicted: (row.flags & F_CONFLICTED) !== 0,
        body: parseJsonObject(row.body, 'stored body'),
      };
    }
    const tree = this.table.treeOf(row);
    const node = tree.get(options.rev);
    return node ? this.table.toDocument(id, node, row) : undefined;
  }

  /** The current revision ID and whether it is a deletion, without reading the body. */
  currentRevision(docId: string): { revId: RevId; deleted: boolean } | undefined {
    const r = this.engine.one(this.table.sql.revById, [asDocId(docId)]);
    return r ? decodeRevisionRow(r) : undefined;
  }

  /**
   * What a pusher needs to send a document's current revision, in one read: its ID, deletion
   * flag, body as the stored JSON text (sent as is) and its size in UTF-8 bytes, and up to `maxHistory`
   * ancestors (newest first).
   */
  readForSending(docId: string, maxHistory: number): RevisionToSend | undefined {
    return replication.readForSending(this.table, docId, maxHistory);
  }

  /** The current revision's body as stored JSON text (for sending without re-serialising). */
  getJson(docId: string): { revId: RevId; deleted: boolean; sequence: Sequence; json: string } | undefined {
    const row = this.table.readRow(asDocId(docId));
    if (!row) return undefined;
    return { revId: row.rev, deleted: (row.flags & F_DELETED) !== 0, sequence: row.seq, json: row.body };
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
    const current = this.table.readRow(id);
    if (!current || (current.flags & F_DELETED) !== 0) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)} not found`);
    const base = options.revId === undefined ? current.rev : options.revId;
    return this.writeLocal(id, base, {}, true, options.concurrency ?? 'lastWriteWins');
  }

  private writeLocal(id: DocId, baseRev: string | null, body: JsonObject, deleted: boolean, concurrency: ConcurrencyControl | SaveConflictHandler): Document {
    let toSave = body;
    return this.engine.transaction(() => {
      const row = this.table.readRow(id);
      const tree = row ? this.table.treeOf(row) : new RevTree();
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
            const currentDoc = current.deleted ? undefined : this.table.toDocument(id, current, row!);
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
      const seq = this.table.nextSequence();
      tree.addChild(revId, parent, json, deleted, seq);
      this.table.writeTree(id, tree, row, seq, hasBlobs);
      // The body just saved is returned as given (not re-parsed from the stored JSON).
      return { id, revId, sequence: seq, deleted, conflicted: tree.isConflicted(), body: deleted ? {} : toSave };
    });
  }

  /** Removes a document and its whole history locally; nothing is replicated. Returns false if absent. */
  purge(docId: string): boolean {
    const id = asDocId(docId);
    return this.engine.transaction(() => {
      const row = this.table.readRow(id);
      if (!row) return false;
      this.engine.run(this.table.sql.deleteBySeq, [row.seq]);
      this.engine.run('DELETE FROM remote_revs WHERE coll = ? AND doc = ?', [this.id, id]);
      this.engine.afterCommit(() => this.emit('purge', id));
      return true;
    });
  }

  getRevisionHistory(docId: string): RevisionInfo[] | undefined {
    const row = this.table.readRow(asDocId(docId));
    return row ? this.table.treeOf(row).describe() : undefined;
  }

  /** Revision IDs from `revId` (default: current) back to the oldest kept, newest first. */
  getAncestry(docId: string, revId?: string, max?: number): RevId[] | undefined {
    const row = this.table.readRow(asDocId(docId));
    if (!row) return undefined;
    return this.table.treeOf(row).history(revId ?? row.rev, max);
  }

  /**
   * The replicator's write path: inserts a revision from a peer together with its ancestry
   * (`history[0]` is the revision itself). Branches that diverge from the local winner become
   * conflicts, marked so the local winner stays current until resolved.
   */
  insertRevisionWithHistory(rev: ForeignRevision, history: readonly string[], options: InsertOptions = {}): InsertOutcome {
    return replication.insertRevisionWithHistory(this.table, rev, history, options);
  }

  /** For each document, which of the given revisions are missing here, and which known ones may be their ancestors. */
  revsDiff(request: Readonly<Record<string, readonly string[]>>): Record<string, RevsDiffEntry> {
    return replication.revsDiff(this.table, request);
  }

  /** Documents with unresolved conflicting branches, in ID order. */
  conflicts(options: { limit?: number; after?: string } = {}): { docId: DocId; revId: RevId }[] {
    return conflictResolution.listConflicts(this.table, options);
  }

  /** The conflict a resolver would see for this document: local = current winner, remote = the best other branch. */
  getConflict(docId: string, against?: string): Conflict | undefined {
    return conflictResolution.getConflict(this.table, this.fullName, docId, against);
  }

  /**
   * Ends a conflict, building the result on the remote branch so that pushing it afterwards is a
   * plain update (see collection-conflicts.ts).
   */
  resolveConflict(docId: string, resolution: Resolution, resolver = 'manual'): Document {
    const conflict = this.getConflict(docId);
    return this.engine.transaction(() => this.settle(conflict, docId, resolution, resolver));
  }

  /**
   * Resolves a document's conflicts with a resolver, one branch at a time against the current
   * revision (three branches are two resolutions), retrying a pair that changed while the resolver
   * ran. Each resolution is recorded. Undefined when the document was not in conflict.
   */
  async resolveWith(docId: string, resolver: ConflictResolver | ConflictResolverFn): Promise<Document | undefined> {
    const r = toResolver(resolver);
    let result: Document | undefined;
    let attempts = 0;
    for (let conflict = this.getConflict(docId); conflict; conflict = this.getConflict(docId)) {
      if (++attempts > (conflict.others?.length ?? 1) + 5) throw new StoreError('CONFLICT', `document ${JSON.stringify(docId)} kept changing while its conflict was being resolved`);
      const resolution = await r.resolve(conflict);
      const now = this.getConflict(docId, conflict.remote.revId);
      if (!now || now.local.revId !== conflict.local.revId) continue;
      const against = conflict.remote.revId;
      result = this.engine.transaction(() => this.settle(now, docId, resolution, r.name, against));
    }
    return result;
  }

  /** Resolution records of this collection, newest first. */
  resolutions(options: { limit?: number; before?: number } = {}): ResolutionRecord[] {
    return this.conflictLog.list({ ...options, collection: this.fullName });
  }

  private settle(conflict: Conflict | undefined, docId: string, resolution: Resolution, resolver: string, against?: RevId): Document {
    const { document } = conflictResolution.resolveConflict(this.table, docId, resolution, against);
    if (!conflict) return document;
    const competing = [conflict.local, ...(against === undefined ? (conflict.others ?? [conflict.remote]) : [conflict.remote])].map(recorded);
    const record = this.conflictLog.append({
      time: Date.now(),
      collection: this.fullName,
      docId: document.id,
      resolver,
      competing,
      outcome: 'merged' in resolution ? 'merged' : 'delete' in resolution ? 'deleted' : 'kept',
      resultRevId: document.revId,
      // What no longer shows: every branch but the kept one; for a merge or a deletion, every live branch (a merge overwrites values).
      discarded: competing.filter((c) => ('winner' in resolution ? c.revId !== resolution.winner : !c.deleted)),
    });
    this.engine.afterCommit(() => this.emit('resolved', record));
    return document;
  }

  private get conflictLog(): ConflictLog {
    return (this.log ??= new ConflictLog(this.engine));
  }

  /** Documents changed after `since`, each once at its latest sequence, in sequence order. */
  changesSince(since: number, options: ChangesOptions = {}): Change[] {
    return replication.changesSince(this.table, since, options);
  }

  /** Documents in ID order, for listings and paging (`after` = last ID of the previous page). */
  allDocs(options: { limit?: number; after?: string; includeDeleted?: boolean; prefix?: string } = {}): Document[] {
    const rows = this.engine.all(options.includeDeleted ? this.table.sql.allDocsWithDeleted : this.table.sql.allDocs, [options.after ?? '', options.prefix ?? '', options.limit ?? -1]);
    return rows.map((r) => {
      const { id, row } = decodeListedRow(r);
      return {
        id,
        revId: row.rev,
        sequence: row.seq,
        deleted: (row.flags & F_DELETED) !== 0,
        conflicted: (row.flags & F_CONFLICTED) !== 0,
        body: parseJsonObject(row.body, 'stored body'),
      };
    });
  }

  /** The revision a peer is known to have of each document (only documents with a record are in the map). */
  getRemoteRevs(remote: number, docIds: readonly string[]): Map<string, RevId> {
    return replication.getRemoteRevs(this.table, remote, docIds);
  }

  /** Records that a peer now has these revisions (after it acknowledged a push, or after a pull). */
  setRemoteRevs(remote: number, entries: readonly (readonly [string, string])[]): void {
    replication.setRemoteRevs(this.table, remote, entries);
  }

  /** Forgets what a peer was recorded to have of a document (it refused a proposal based on it). */
  forgetRemoteRev(remote: number, docId: string): void {
    replication.forgetRemoteRev(this.table, remote, docId);
  }

  /** Creates this collection's table (idempotent). */
  createSchema(): void {
    createCollectionSchema(this.engine, this.id);
  }

  dropSchema(): void {
    dropCollectionSchema(this.engine, this.id);
  }
}

function newDocId(): DocId {
  return asDocId(`-${crypto.randomUUID().replace(/-/g, '').slice(0, 22)}`);
}

function recorded(r: ConflictRevision): RecordedRevision {
  return { revId: r.revId, deleted: r.deleted, body: r.body ?? null };
}
