import { BlipError, type BlipConnection } from '../blip';
import type { Collection, ConflictResolver, Database } from '../store';
import { closeToReplicatorError, toReplicatorError } from '../error-mapping';
import { logger } from '../util/log';
import { TypedEmitter } from '../util/typed-emitter';
import { BlobServer } from './blob-server';
import { Pusher } from './pusher';
import { Checkpointer } from './checkpointer';
import type { DocumentEnded } from './document-event';
import { ReplicatorError, type CollectionConfig } from './replicator-types';
import { Puller } from './puller';

const log = logger('replicator');

/** A collection as a replicator replicates it: its settings, resolver and checkpoint ID. */
export interface ReplicatedCollection {
  readonly collection: Collection;
  readonly config: CollectionConfig;
  readonly resolver: ConflictResolver;
  readonly checkpointId: string;
}

export interface ReplicationSessionOptions {
  readonly db: Database;
  /** The peer's key in remote_revs. */
  readonly remoteId: number;
  readonly collections: readonly ReplicatedCollection[];
  readonly push: boolean;
  readonly pull: boolean;
  readonly continuous: boolean;
  readonly checkpointIntervalMs?: number | undefined;
}

export type ReplicationSessionEvents = {
  documentEnded: [DocumentEnded];
  /** Progress moved, or the session caught up (or fell behind again). */
  progress: [caughtUp: boolean];
};

/**
 * One connection's replication: a Pusher per collection (proposing changes), a Puller (fed by
 * subChanges), the blobs the peer may fetch, conflicts being resolved,
 * and the Checkpointer. A one-shot session ends once both directions have caught up; a continuous
 * one runs until the connection closes. The replicator around it retries and reports status.
 */
export class ReplicationSession extends TypedEmitter<ReplicationSessionEvents> {
  private readonly collectionsMode: boolean;
  readonly checkpointer: Checkpointer;
  private readonly pushers: (Pusher | undefined)[];
  private puller: Puller | undefined;
  private blobServer: BlobServer | undefined;
  /** Documents whose conflict is being resolved here (by collection ID and document ID). */
  private readonly resolving = new Set<string>();
  private settle: ((e?: unknown) => void) | undefined;
  private checkQueued = false;
  private closed = false;

  constructor(
    private readonly conn: BlipConnection,
    private readonly options: ReplicationSessionOptions,
  ) {
    super();
    const cs = options.collections;
    this.collectionsMode = !(cs.length === 1 && cs[0]!.collection === options.db.defaultCollection);
    this.pushers = cs.map(() => undefined);
    this.checkpointer = new Checkpointer(conn, { db: options.db, collections: cs, collectionsMode: this.collectionsMode, saveIntervalMs: options.checkpointIntervalMs }, (i) => ({
      local: this.pushers[i]?.checkpointSequence,
      remote: this.puller?.checkpointSequence(cs[i]!.collection),
    }));
  }

  /** Changes pushed and pulled (announced) and finished so far in this session. */
  get progress(): { completed: number; total: number } {
    let completed = this.puller?.completed ?? 0;
    let total = this.puller?.total ?? 0;
    for (const p of this.pushers) {
      completed += p?.completed ?? 0;
      total += p?.total ?? 0;
    }
    return { completed, total };
  }

  /** The local sequence the push of `collection` has made durable on the peer, if it is running. */
  pushCheckpointSequence(collection: Collection): number | undefined {
    const i = this.options.collections.findIndex((c) => c.collection === collection);
    return i < 0 ? undefined : this.pushers[i]?.checkpointSequence;
  }

  /**
   * Replicates until caught up (one-shot) or until the connection ends (continuous), then saves
   * the checkpoints of a one-shot run. Resolves when done or aborted; rejects with a
   * ReplicatorError when the connection fails.
   */
  async run(signal: AbortSignal): Promise<void> {
    let finished = false;
    const done = new Promise<void>((resolve, reject) => {
      this.settle = (e?: unknown) => {
        if (finished) return;
        finished = true;
        if (e === undefined) resolve();
        else reject(e);
      };
    });
    // The connection may fail while the checkpoints are still being fetched: that failure is the one reported.
    done.catch(() => undefined);
    const offClose = this.conn.on('close', (info) => this.end(closeToReplicatorError(info)));
    const offError = this.conn.on('error', (e) => this.end(new ReplicatorError(`protocol error: ${e.message}`, false, 'protocol', { cause: e })));
    const onAbort = (): void => this.end();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.checkpointer.fetch();
      if (this.options.pull) await this.startPuller();
      if (this.options.pull) this.resolveExistingConflicts();
      if (this.options.push) this.startPushers();
      this.checkDone();
      await done;
      if (!signal.aborted && !this.options.continuous) await this.checkpointer.save();
    } catch (e) {
      throw toReplicatorError(e);
    } finally {
      signal.removeEventListener('abort', onAbort);
      offClose();
      offError();
      this.close();
    }
  }

  /** Saves every checkpoint now (while the connection is still up). */
  saveCheckpoints(): Promise<void> {
    return this.checkpointer.save();
  }

  /** Stops pushing, pulling and the checkpoint timer; the connection itself is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.checkpointer.close();
    for (const p of this.pushers) p?.stop();
    this.puller?.close();
    this.blobServer?.close();
  }

  private end(e?: unknown): void {
    if (e !== undefined) log.info('connection ended', { reason: e instanceof Error ? e.message : String(e) });
    this.settle?.(e);
  }

  private indexOf(collection: Collection): number {
    return this.options.collections.findIndex((c) => c.collection === collection);
  }

  private collectionAt(index: number | undefined): Collection {
    const c = index === undefined ? (this.collectionsMode ? undefined : this.options.collections[0]) : this.options.collections[index];
    if (!c) throw new BlipError('HTTP', 404, `no collection at index ${String(index)}`);
    return c.collection;
  }

  /** The Puller: receives what the peer's changes feed offers, from where the checkpoint left off. */
  private async startPuller(): Promise<void> {
    const { db, collections, continuous } = this.options;
    const puller = new Puller(this.conn, {
      db,
      role: 'active',
      collectionFor: (index) => this.collectionAt(index),
      pullFilter: collections.some((c) => c.config.pullFilter) ? (doc, collection) => collections[this.indexOf(collection)]?.config.pullFilter?.(doc) ?? true : undefined,
      remoteId: this.options.remoteId,
      sinceFor: (c) => {
        const i = this.indexOf(c);
        return i < 0 ? undefined : (this.checkpointer.position(i).remote ?? undefined);
      },
      onPeerRevision: (collection, docId, revId) => this.onPeerRevision(collection, docId, revId),
      onConflict: (collection, docId) => this.resolveConflict(collection, docId),
    });
    this.puller = puller;
    puller.on('documentEnded', (e) => this.emit('documentEnded', e));
    puller.on('progress', () => this.checkSoon());
    puller.on('peerCaughtUp', () => this.checkDone());
    puller.on('checkpoint', () => this.checkpointer.scheduleSave());
    for (const [i, c] of collections.entries()) {
      await puller.subscribe({ since: this.checkpointer.position(i).remote, continuous, collectionIndex: this.collectionsMode ? i : undefined, docIds: c.config.documentIDs });
    }
  }

  /** The Pushers, one per collection, and the blobs of what they push (and nothing else) for the peer to fetch. */
  private startPushers(): void {
    const { db, collections } = this.options;
    this.blobServer = new BlobServer(this.conn, {
      db,
      collectionFor: (index) => this.collectionAt(index),
      mayRead: (collection, docId) => {
        const config = collections[this.indexOf(collection)]?.config;
        if (!config || (config.documentIDs && !config.documentIDs.includes(docId))) return false;
        const doc = config.pushFilter ? collection.get(docId) : undefined;
        return !config.pushFilter || (doc !== undefined && config.pushFilter(doc));
      },
    });
    for (const [i, c] of collections.entries()) {
      const peerKnows = this.checkpointer.peerKnows(i);
      const pusher = new Pusher(this.conn, c.collection, {
        mode: 'proposeChanges',
        since: this.checkpointer.position(i).local,
        continuous: this.options.continuous,
        docIds: c.config.documentIDs,
        filter: c.config.pushFilter,
        collectionIndex: this.collectionsMode ? i : undefined,
        remoteId: this.options.remoteId,
        holdConflicts: this.options.pull,
        ...(peerKnows ? { peerKnows } : {}),
      });
      this.pushers[i] = pusher;
      pusher.on('documentEnded', (e) => this.emit('documentEnded', e));
      pusher.on('progress', () => this.checkSoon());
      pusher.on('caughtUp', () => this.checkDone());
      pusher.on('checkpoint', () => this.checkpointer.scheduleSave());
      pusher.on('failed', (e) => this.end(toReplicatorError(e)));
      pusher.start();
    }
  }

  private onPeerRevision(collection: Collection, docId: string, revId: string): void {
    const i = this.indexOf(collection);
    if (i < 0) return;
    this.checkpointer.confirm(i, docId, revId);
    const pusher = this.pushers[i];
    if (pusher?.heldConflictCount) queueMicrotask(() => pusher.peerHasRevision(docId, revId));
  }

  /** Conflicts left by an earlier run (kept for a person, or not settled when it stopped) are resolved now, as LiteCore does when a pull starts. */
  private resolveExistingConflicts(): void {
    for (const c of this.options.collections) {
      if (c.resolver.keepsConflicts === true) continue;
      for (const { docId } of c.collection.conflicts({ limit: 10_000 })) this.resolveConflict(c.collection, docId);
    }
  }

  /** A pulled revision conflicts with ours: resolved here, and the resolution is pushed in this run. */
  private resolveConflict(collection: Collection, docId: string): void {
    const i = this.indexOf(collection);
    const c = this.options.collections[i];
    if (!c) return;
    if (c.resolver.keepsConflicts === true) {
      log.info('conflict kept for manual resolution', { collection: collection.fullName, docId });
      return;
    }
    const key = `${collection.id}:${docId}`;
    if (this.resolving.has(key)) return;
    this.resolving.add(key);
    log.info('resolving conflict', { collection: collection.fullName, docId });
    void collection
      .resolveWith(docId, c.resolver)
      .catch((e: unknown) => {
        log.warn('conflict not resolved', { collection: collection.fullName, docId, error: (e as Error).message });
        this.emit('documentEnded', {
          direction: 'pull',
          collection: collection.fullName,
          docId,
          revId: '',
          deleted: false,
          error: { code: 409, message: `conflict not resolved: ${(e as Error).message}` },
        });
      })
      .finally(() => {
        this.resolving.delete(key);
        this.pushers[i]?.rescan();
        this.checkDone();
      });
  }

  private get caughtUp(): boolean {
    const { push, pull, collections } = this.options;
    return collections.every((c, i) => (!push || this.pushers[i]?.isCaughtUp === true) && (!pull || this.puller?.isCaughtUp(c.collection) === true)) && this.resolving.size === 0;
  }

  private checkDone(): void {
    // A conflict resolved after the end must not report progress the replicator has already summed up.
    if (this.closed) return;
    const caughtUp = this.caughtUp;
    // The pull has shown everything it will: conflicts still held cannot be retried this time.
    if (caughtUp) for (const p of this.pushers) p?.failHeldConflicts();
    this.emit('progress', caughtUp);
    if (caughtUp && !this.options.continuous) this.end();
  }

  /** Progress arrives once per document, often a hundred at a time: one check per burst is enough. */
  private checkSoon(): void {
    if (this.checkQueued) return;
    this.checkQueued = true;
    queueMicrotask(() => {
      this.checkQueued = false;
      const { completed, total } = this.progress;
      log.trace('batch', { completed, total });
      this.checkDone();
    });
  }
}
