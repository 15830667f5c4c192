import { BlipError, type BlipConnection } from '../blip';
import { defaultResolver, toResolver, type Collection, type ConflictResolver } from '../store';
import { TypedEmitter } from '../util/typed-emitter';
import { retryDelayMs, sleep } from './backoff';
import { BlobServer } from './blob-server';
import { ChangesSender } from './changes-sender';
import { checkpointId, checkpointsMatch, localCheckpointDocId, reconcileCheckpoints } from './checkpoint';
import type { DocumentEnded } from './document-event';
import { Profile, Prop, Tuning, type CheckpointBody, type RemoteSequence } from './protocol';
import { RevReceiver } from './rev-receiver';
import {
  ReplicatorError,
  type CollectionConfig,
  type ReplicatorActivity,
  type ReplicatorConfig,
  type ReplicatorConnector,
  type ReplicatorLink,
  type ReplicatorStatus,
} from './replicator-types';
import { createWebSocketConnector } from './websocket-connector';
import { closeToReplicatorError, toReplicatorError } from '../error-mapping';

export { toReplicatorError };

export type ReplicatorEvents = {
  /** Status changed (activity, progress or error). */
  change: [ReplicatorStatus];
  documentEnded: [DocumentEnded];
};

interface ResolvedCollection {
  readonly collection: Collection;
  readonly config: CollectionConfig;
  readonly resolver: ConflictResolver;
  readonly checkpointId: string;
}

/** Per-collection state of one connection. */
interface CollectionRun {
  readonly rc: ResolvedCollection;
  readonly index: number | undefined;
  position: { local: number; remote: RemoteSequence | null };
  /**
   * The peer's checkpoint was missing or did not match ours (a new database at that address, or
   * one restored from an older copy): the run starts over and does not trust what the peer was
   * recorded to have, except what it confirms during this connection (`confirmed`).
   */
  startedOver: boolean;
  readonly confirmed: Set<string>;
  remoteCheckpointRev: string | undefined;
  sender: ChangesSender | undefined;
  lastSaved: string | undefined;
}

/**
 * The active peer: connects to a target, pushes and/or pulls, once or continuously, retrying
 * transient failures with exponential backoff. Await `whenStopped()`, or listen for `change`.
 */
export class Replicator extends TypedEmitter<ReplicatorEvents> {
  private readonly connector: ReplicatorConnector;
  private readonly collectionsToSync: ResolvedCollection[];
  private statusValue: ReplicatorStatus = { activity: 'stopped', progress: { completed: 0, total: 0 }, failed: 0 };
  /** Last failure of each document that has not replicated since (by direction, collection and ID). */
  private readonly failures = new Map<string, DocumentEnded>();
  private running: Promise<void> | undefined;
  private stopController: AbortController | undefined;
  private link: ReplicatorLink | undefined;
  private currentRun: { runs: CollectionRun[]; receiver: RevReceiver | undefined; saveNow: () => Promise<void> } | undefined;
  private progressBase = { completed: 0, total: 0 };
  private stoppedWaiters: ((s: ReplicatorStatus) => void)[] = [];
  readonly type: 'push' | 'pull' | 'pushAndPull';
  readonly continuous: boolean;

  constructor(readonly config: ReplicatorConfig) {
    super();
    this.type = config.type ?? 'pushAndPull';
    this.continuous = config.continuous ?? false;
    this.connector = typeof config.target === 'string' ? createWebSocketConnector(config.target, config) : config.target;
    this.on('documentEnded', (e) => {
      const key = `${e.direction}\u0000${e.collection}\u0000${e.docId}`;
      if (e.error) this.failures.set(key, e);
      else this.failures.delete(key);
    });
    const db = config.database;
    const specs = (config.collections ?? ['_default._default']).map((c) => (typeof c === 'string' ? { name: c } : c));
    this.collectionsToSync = specs.map((spec) => {
      const collection = db.requireCollection(spec.name);
      const documentIDs = spec.documentIDs ?? config.documentIDs;
      return {
        collection,
        config: {
          ...spec,
          documentIDs,
          pushFilter: spec.pushFilter ?? config.pushFilter,
          pullFilter: spec.pullFilter ?? config.pullFilter,
        },
        resolver: toResolver(spec.conflictResolver ?? config.conflictResolver ?? defaultResolver),
        checkpointId: checkpointId({
          localUuid: db.uuid,
          remoteAddress: this.connector.address,
          collection: collection.fullName,
          ...(documentIDs ? { documentIds: documentIDs } : {}),
          ...(spec.pushFilter ?? config.pushFilter ?? spec.pullFilter ?? config.pullFilter ? { filter: 'custom' } : {}),
        }),
      };
    });
  }

  get status(): ReplicatorStatus {
    return this.statusValue;
  }

  get target(): string {
    return this.connector.address;
  }

  /** What a user should know about this replication's security (e.g. a password sent over ws://). */
  get warnings(): readonly string[] {
    return this.connector.warnings ?? [];
  }

  /** Starts replicating; a running replicator is left as is. */
  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.stopController = controller;
    this.progressBase = { completed: 0, total: 0 };
    this.failures.clear();
    this.setStatus({ activity: 'connecting', progress: { completed: 0, total: 0 } });
    this.running = this.loop(controller.signal).finally(() => {
      this.running = undefined;
      const final = this.statusValue;
      const waiters = this.stoppedWaiters;
      this.stoppedWaiters = [];
      for (const w of waiters) w(final);
    });
  }

  /** Stops (saving the checkpoint first when connected); resolves once fully stopped. */
  async stop(): Promise<ReplicatorStatus> {
    const running = this.running;
    if (!running) return this.statusValue;
    // Save while the connection is still up; the position is then at most a little behind.
    if (this.currentRun) await this.currentRun.saveNow().catch(() => undefined);
    this.stopController?.abort();
    this.link?.close(1000, 'replicator stopped');
    await running;
    return this.statusValue;
  }

  /** Resolves when the replicator is stopped (at once if it is). */
  whenStopped(): Promise<ReplicatorStatus> {
    if (!this.running) return Promise.resolve(this.statusValue);
    return new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }

  /** Resolves when the status satisfies `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: ReplicatorActivity | ((s: ReplicatorStatus) => boolean), timeoutMs = 30_000): Promise<ReplicatorStatus> {
    const test = typeof predicate === 'string' ? (s: ReplicatorStatus) => s.activity === predicate : predicate;
    if (test(this.statusValue)) return Promise.resolve(this.statusValue);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`replicator did not reach the expected state within ${timeoutMs} ms (now ${this.statusValue.activity}${this.statusValue.error ? `: ${this.statusValue.error.message}` : ''})`));
      }, timeoutMs);
      const off = this.on('change', (s) => {
        if (test(s)) {
          clearTimeout(timer);
          off();
          resolve(s);
        }
      });
    });
  }

  /** The checkpoint saved locally for a collection (default: the first replicated), if any. */
  checkpoint(collectionName?: string): CheckpointBody | undefined {
    const rc = collectionName ? this.collectionsToSync.find((c) => c.collection === this.config.database.requireCollection(collectionName)) : this.collectionsToSync[0];
    return rc ? this.readLocalCheckpoint(rc) : undefined;
  }

  /** Documents whose last attempt since `start()` failed, with the reason (see `status.failed`). */
  failedDocuments(): DocumentEnded[] {
    return [...this.failures.values()];
  }

  /** IDs of local documents not yet pushed (changed since the push checkpoint, not on the peer). */
  pendingDocumentIds(collectionName?: string): Set<string> {
    if (this.type === 'pull') throw new ReplicatorError('a pull-only replicator has no pending documents', false);
    const rc = collectionName ? this.collectionsToSync.find((c) => c.collection === this.config.database.requireCollection(collectionName)) : this.collectionsToSync[0];
    if (!rc) throw new ReplicatorError(`collection ${collectionName ?? ''} is not replicated by this replicator`, false);
    const run = this.currentRun?.runs.find((r) => r.rc === rc);
    const since = run?.sender?.checkpointSequence ?? this.readLocalCheckpoint(rc)?.local ?? 0;
    const remoteId = this.config.database.remoteId(this.connector.address);
    const out = new Set<string>();
    let after = since;
    for (;;) {
      const page = rc.collection.changesSince(after, { limit: 1000, ...(rc.config.documentIDs ? { docIds: rc.config.documentIDs } : {}) });
      if (page.length === 0) break;
      const known = rc.collection.getRemoteRevs(remoteId, page.map((c) => c.docId));
      for (const c of page) {
        if (known.get(c.docId) === c.revId) continue;
        if (rc.config.pushFilter) {
          const doc = rc.collection.get(c.docId, { includeDeleted: true });
          if (!doc || !rc.config.pushFilter(doc)) continue;
        }
        out.add(c.docId);
      }
      after = page[page.length - 1]!.sequence;
    }
    return out;
  }

  isDocumentPending(docId: string, collectionName?: string): boolean {
    return this.pendingDocumentIds(collectionName).has(docId);
  }

  // ---- the run loop ----

  private async loop(signal: AbortSignal): Promise<void> {
    const maxAttempts = this.config.maxAttempts ?? (this.continuous ? 0 : 10);
    const maxWait = this.config.maxAttemptWaitTime ?? 300;
    let failures = 0;
    while (!signal.aborted) {
      let connected = false;
      try {
        if (this.statusValue.activity !== 'connecting') this.setStatus({ activity: 'connecting', progress: this.statusValue.progress });
        await this.runConnection(signal, () => {
          connected = true;
          failures = 0;
        });
        if (!this.continuous || signal.aborted) {
          this.setStatus({ activity: 'stopped', progress: this.statusValue.progress });
          return;
        }
        throw new ReplicatorError('connection closed', true);
      } catch (e) {
        const err = toReplicatorError(e);
        if (signal.aborted) break;
        if (!err.transient) {
          this.setStatus({ activity: 'stopped', progress: this.statusValue.progress, error: err });
          return;
        }
        if (!connected) failures++;
        else failures = 1;
        if (maxAttempts > 0 && failures >= maxAttempts) {
          this.setStatus({ activity: 'stopped', progress: this.statusValue.progress, error: new ReplicatorError(`gave up after ${failures} attempts: ${err.message}`, true, err.code, { cause: err }) });
          return;
        }
        const delay = retryDelayMs(failures, maxWait);
        this.setStatus({ activity: 'offline', progress: this.statusValue.progress, error: err, nextAttemptAt: Date.now() + delay });
        if (!(await sleep(delay, signal))) break;
      }
    }
    this.setStatus({ activity: 'stopped', progress: this.statusValue.progress });
  }

  /** One connection: checkpoints, then push/pull until caught up (one-shot) or the connection ends. */
  private async runConnection(signal: AbortSignal, onConnected: () => void): Promise<void> {
    const link = await this.connector.connect(signal, this.config.heartbeat ?? 300);
    if (signal.aborted) {
      link.close(1000, 'replicator stopped');
      return;
    }
    this.link = link;
    onConnected();
    const conn = link.connection;
    const db = this.config.database;
    const remoteId = db.remoteId(this.connector.address);
    const push = this.type !== 'pull';
    const pull = this.type !== 'push';
    const collectionsMode = !(this.collectionsToSync.length === 1 && this.collectionsToSync[0]!.collection === db.defaultCollection);
    let finished = false;
    let settle!: (e?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (e?: unknown) => {
        if (finished) return;
        finished = true;
        if (e === undefined) resolve();
        else reject(e);
      };
    });
    const offClose = conn.on('close', (info) => settle(closeToReplicatorError(info)));
    const offError = conn.on('error', (e) => settle(new ReplicatorError(`protocol error: ${e.message}`, false, 'protocol', { cause: e })));
    const onAbort = (): void => settle();
    signal.addEventListener('abort', onAbort, { once: true });

    const runs: CollectionRun[] = this.collectionsToSync.map((rc, i) => ({
      rc,
      index: collectionsMode ? i : undefined,
      position: { local: 0, remote: null },
      startedOver: false,
      confirmed: new Set<string>(),
      remoteCheckpointRev: undefined,
      sender: undefined,
      lastSaved: undefined,
    }));
    const resolving = new Set<string>();
    let receiver: RevReceiver | undefined;
    let blobServer: BlobServer | undefined;
    let saveTimer: NodeJS.Timeout | undefined;
    let saving: Promise<void> | undefined;

    const saveCheckpoints = async (): Promise<void> => {
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      while (saving) await saving;
      saving = (async () => {
        for (const run of runs) await this.saveCheckpoint(conn, run, receiver);
      })();
      try {
        await saving;
      } finally {
        saving = undefined;
      }
    };
    const scheduleSave = (): void => {
      saveTimer ??= setTimeout(() => void saveCheckpoints().catch(() => undefined), this.config.checkpointIntervalMs ?? Tuning.checkpointSaveDelayMs);
    };
    this.currentRun = { runs, receiver: undefined, saveNow: saveCheckpoints };

    const checkDone = (): void => {
      const caughtUp = runs.every((r) => (!push || r.sender?.isCaughtUp === true) && (!pull || receiver?.isCaughtUp(r.rc.collection) === true)) && resolving.size === 0;
      // The pull has shown everything it will: conflicts still held cannot be retried this time.
      if (caughtUp) for (const r of runs) r.sender?.failHeldConflicts();
      this.updateProgress(runs, receiver, caughtUp ? (this.continuous ? 'idle' : 'busy') : 'busy');
      if (caughtUp && !this.continuous) settle();
    };
    // Progress arrives once per document, often a hundred at a time: one check per burst is enough.
    let checkQueued = false;
    const checkSoon = (): void => {
      if (checkQueued) return;
      checkQueued = true;
      queueMicrotask(() => {
        checkQueued = false;
        checkDone();
      });
    };

    try {
      await this.fetchCheckpoints(conn, runs, collectionsMode);
      if (pull) {
        receiver = new RevReceiver(conn, {
          db,
          role: 'active',
          collectionFor: (index) => {
            const run = index === undefined ? (collectionsMode ? undefined : runs[0]) : runs[index];
            if (!run) throw new BlipError('HTTP', 404, `no collection at index ${String(index)}`);
            return run.rc.collection;
          },
          pullFilter: runs.some((r) => r.rc.config.pullFilter)
            ? (doc, collection) => runs.find((r) => r.rc.collection === collection)?.rc.config.pullFilter?.(doc) ?? true
            : undefined,
          remoteId,
          sinceFor: (c) => runs.find((r) => r.rc.collection === c)?.position.remote ?? undefined,
          onPeerRevision: (collection, docId, revId) => {
            const run = runs.find((r) => r.rc.collection === collection);
            if (!run) return;
            if (run.startedOver) run.confirmed.add(confirmKey(docId, revId));
            const sender = run.sender;
            if (sender?.heldConflictCount) queueMicrotask(() => sender.peerHasRevision(docId, revId));
          },
          onConflict: (collection, docId) => {
            const run = runs.find((r) => r.rc.collection === collection);
            if (!run) return;
            const key = `${collection.id}:${docId}`;
            if (resolving.has(key)) return;
            resolving.add(key);
            void collection
              .resolveWith(docId, run.rc.resolver)
              .catch((e: unknown) => this.emit('documentEnded', { direction: 'pull', collection: collection.fullName, docId, revId: '', deleted: false, error: { code: 409, message: `conflict not resolved: ${(e as Error).message}` } }))
              .finally(() => {
                resolving.delete(key);
                run.sender?.rescan();
                checkDone();
              });
          },
        });
        this.currentRun.receiver = receiver;
        receiver.on('documentEnded', (e) => this.emit('documentEnded', e));
        receiver.on('progress', checkSoon);
        receiver.on('peerCaughtUp', () => checkDone());
        receiver.on('checkpoint', () => scheduleSave());
        for (const run of runs) {
          const props: Record<string, string> = { [Prop.batch]: String(Tuning.changesBatchSize), [Prop.versioning]: 'rev-trees' };
          if (run.position.remote !== null) props[Prop.since] = JSON.stringify(run.position.remote);
          if (this.continuous) props[Prop.continuous] = 'true';
          if (run.index !== undefined) props[Prop.collection] = String(run.index);
          const ids = run.rc.config.documentIDs;
          await conn.request({ profile: Profile.subChanges, properties: props, ...(ids ? { body: JSON.stringify({ docIDs: ids }) } : {}) });
        }
      }
      if (push) {
        // The peer may fetch the blobs of the documents this replicator pushes to it, and no others.
        blobServer = new BlobServer(conn, {
          db,
          collectionFor: (index) => {
            const run = index === undefined ? (collectionsMode ? undefined : runs[0]) : runs[index];
            if (!run) throw new BlipError('HTTP', 404, `no collection at index ${String(index)}`);
            return run.rc.collection;
          },
          mayRead: (collection, docId) => {
            const config = runs.find((r) => r.rc.collection === collection)?.rc.config;
            if (!config || (config.documentIDs && !config.documentIDs.includes(docId))) return false;
            const doc = config.pushFilter ? collection.get(docId) : undefined;
            return !config.pushFilter || (doc !== undefined && config.pushFilter(doc));
          },
        });
        for (const run of runs) {
          const sender = new ChangesSender(conn, run.rc.collection, {
            mode: 'proposeChanges',
            since: run.position.local,
            continuous: this.continuous,
            docIds: run.rc.config.documentIDs,
            filter: run.rc.config.pushFilter,
            collectionIndex: run.index,
            remoteId,
            holdConflicts: pull,
            ...(run.startedOver ? { peerKnows: (docId: string, revId: string) => run.confirmed.has(confirmKey(docId, revId)) } : {}),
          });
          run.sender = sender;
          sender.on('documentEnded', (e) => this.emit('documentEnded', e));
          sender.on('progress', checkSoon);
          sender.on('caughtUp', () => checkDone());
          sender.on('checkpoint', () => scheduleSave());
          sender.on('failed', (e) => settle(toReplicatorError(e)));
          sender.start();
        }
      }
      checkDone();
      await done;
      if (!signal.aborted && !this.continuous) await saveCheckpoints();
    } finally {
      signal.removeEventListener('abort', onAbort);
      offClose();
      offError();
      if (saveTimer) clearTimeout(saveTimer);
      for (const run of runs) run.sender?.stop();
      receiver?.close();
      blobServer?.close();
      this.progressBase = { ...this.statusValue.progress };
      this.currentRun = undefined;
      this.link = undefined;
      if (!conn.isClosed) link.close(1000, 'replication finished');
    }
  }

  private readLocalCheckpoint(rc: ResolvedCollection): CheckpointBody | undefined {
    return this.config.database.getLocal(localCheckpointDocId(rc.checkpointId))?.body as CheckpointBody | undefined;
  }

  private async fetchCheckpoints(conn: BlipConnection, runs: CollectionRun[], collectionsMode: boolean): Promise<void> {
    let remote: (CheckpointBody & { rev?: string } | null | undefined)[];
    if (collectionsMode) {
      const reply = await conn.request({
        profile: Profile.getCollections,
        body: JSON.stringify({ collections: runs.map((r) => r.rc.collection.fullName), checkpoint_ids: runs.map((r) => r.rc.checkpointId) }),
      });
      const list: unknown = reply.json();
      if (!Array.isArray(list) || list.length !== runs.length) throw new ReplicatorError('peer sent an invalid getCollections reply', false, 'protocol');
      remote = list as (CheckpointBody & { rev?: string } | null)[];
      const missing = runs.filter((_, i) => remote[i] === null).map((r) => r.rc.collection.fullName);
      if (missing.length > 0) throw new ReplicatorError(`the peer does not share collection(s) ${missing.join(', ')}`, false, 404);
    } else {
      try {
        const reply = await conn.request({ profile: Profile.getCheckpoint, properties: { [Prop.client]: runs[0]!.rc.checkpointId } });
        remote = [{ ...(reply.json() as CheckpointBody), ...(reply.properties[Prop.rev] ? { rev: reply.properties[Prop.rev] } : {}) }];
      } catch (e) {
        if (e instanceof BlipError && e.code === 404) remote = [undefined];
        else throw e;
      }
    }
    runs.forEach((run, i) => {
      const r = remote[i] ?? undefined;
      run.remoteCheckpointRev = r && typeof r.rev === 'string' ? r.rev : undefined;
      const local = this.readLocalCheckpoint(run.rc);
      const peer = r && Object.keys(r).length > 0 ? r : undefined;
      // The peer's copy is the authority: if it is missing or differs, the peer may not have what we recorded.
      run.startedOver = !checkpointsMatch(local, peer);
      run.position = run.startedOver ? { local: 0, remote: null } : reconcileCheckpoints(local, peer);
    });
  }

  /** Saves a checkpoint on the peer, then locally; only positions already durable on the receiving side. */
  private async saveCheckpoint(conn: BlipConnection, run: CollectionRun, receiver: RevReceiver | undefined): Promise<void> {
    const local = run.sender?.checkpointSequence ?? run.position.local;
    const remote = receiver?.checkpointSequence(run.rc.collection) ?? run.position.remote;
    const key = JSON.stringify([local, remote]);
    if (key === run.lastSaved || conn.isClosed) return;
    const body: CheckpointBody = { time: Date.now(), local, remote };
    const props: Record<string, string> = { [Prop.client]: run.rc.checkpointId };
    if (run.remoteCheckpointRev) props[Prop.rev] = run.remoteCheckpointRev;
    if (run.index !== undefined) props[Prop.collection] = String(run.index);
    const reply = await conn.request({ profile: Profile.setCheckpoint, properties: props, body: JSON.stringify(body) });
    run.remoteCheckpointRev = reply.properties[Prop.rev];
    this.config.database.putLocal(localCheckpointDocId(run.rc.checkpointId), { ...body, remote: body.remote ?? null });
    run.lastSaved = key;
    run.position = { local, remote: remote ?? null };
  }

  private updateProgress(runs: CollectionRun[], receiver: RevReceiver | undefined, activity: ReplicatorActivity): void {
    let completed = this.progressBase.completed;
    let total = this.progressBase.total;
    for (const r of runs) {
      completed += r.sender?.completed ?? 0;
      total += r.sender?.total ?? 0;
    }
    completed += receiver?.completed ?? 0;
    total += receiver?.total ?? 0;
    const prev = this.statusValue;
    if (prev.activity === activity && prev.progress.completed === completed && prev.progress.total === total && !prev.error && prev.failed === this.failures.size) return;
    this.setStatus({ activity, progress: { completed, total } });
  }

  private setStatus(status: Omit<ReplicatorStatus, 'failed'>): void {
    this.statusValue = { ...status, failed: this.failures.size };
    this.emit('change', this.statusValue);
  }
}

function confirmKey(docId: string, revId: string): string {
  return `${docId}\u0000${revId}`;
}
