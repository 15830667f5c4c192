import { defaultResolver, toResolver } from '../store';
import { TypedEmitter } from '../util/typed-emitter';
import { logger } from '../util/log';
import { retryDelayMs, sleep } from './backoff';
import { checkpointId } from './checkpoint';
import { readLocalCheckpoint } from './checkpointer';
import type { DocumentEnded } from './document-event';
import type { CheckpointBody } from './protocol';
import { ReplicationSession, type ReplicatedCollection } from './replication-session';
import { ReplicatorError, type ReplicatorActivity, type ReplicatorConfig, type ReplicatorConnector, type ReplicatorLink, type ReplicatorStatus } from './replicator-types';
import { createWebSocketConnector } from './websocket-connector';
import { toReplicatorError } from '../error-mapping';

export { toReplicatorError };

const log = logger('replicator');

export type ReplicatorEvents = {
  /** Status changed (activity, progress or error). */
  change: [ReplicatorStatus];
  documentEnded: [DocumentEnded];
};

/**
 * The active peer: connects to a target, pushes and/or pulls, once or continuously, retrying
 * transient failures with exponential backoff. Await `whenStopped()`, or listen for `change`.
 */
export class Replicator extends TypedEmitter<ReplicatorEvents> {
  private readonly connector: ReplicatorConnector;
  private readonly collectionsToSync: ReplicatedCollection[];
  private statusValue: ReplicatorStatus = { activity: 'stopped', progress: { completed: 0, total: 0 }, failed: 0 };
  /** Last failure of each document that has not replicated since (by direction, collection and ID). */
  private readonly failures = new Map<string, DocumentEnded>();
  private running: Promise<void> | undefined;
  private stopController: AbortController | undefined;
  private link: ReplicatorLink | undefined;
  private session: ReplicationSession | undefined;
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
          ...((spec.pushFilter ?? config.pushFilter ?? spec.pullFilter ?? config.pullFilter) ? { filter: 'custom' } : {}),
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
    if (this.session) await this.session.saveCheckpoints().catch(() => undefined);
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
        reject(
          new Error(`replicator did not reach the expected state within ${timeoutMs} ms (now ${this.statusValue.activity}${this.statusValue.error ? `: ${this.statusValue.error.message}` : ''})`),
        );
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
    const since = this.session?.pushCheckpointSequence(rc.collection) ?? this.readLocalCheckpoint(rc)?.local ?? 0;
    const remoteId = this.config.database.remoteId(this.connector.address);
    const out = new Set<string>();
    let after = since;
    for (;;) {
      const page = rc.collection.changesSince(after, { limit: 1000, ...(rc.config.documentIDs ? { docIds: rc.config.documentIDs } : {}) });
      if (page.length === 0) break;
      const known = rc.collection.getRemoteRevs(
        remoteId,
        page.map((c) => c.docId),
      );
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
          log.warn('stopped by a permanent error', { target: this.connector.address, error: err.message, code: err.code });
          this.setStatus({ activity: 'stopped', progress: this.statusValue.progress, error: err });
          return;
        }
        if (!connected) failures++;
        else failures = 1;
        if (maxAttempts > 0 && failures >= maxAttempts) {
          this.setStatus({
            activity: 'stopped',
            progress: this.statusValue.progress,
            error: new ReplicatorError(`gave up after ${failures} attempts: ${err.message}`, true, err.code, { cause: err }),
          });
          return;
        }
        const delay = retryDelayMs(failures, maxWait);
        log.info('retrying', { target: this.connector.address, attempt: failures, delayMs: delay, error: err.message, code: err.code });
        this.setStatus({ activity: 'offline', progress: this.statusValue.progress, error: err, nextAttemptAt: Date.now() + delay });
        if (!(await sleep(delay, signal))) break;
      }
    }
    this.setStatus({ activity: 'stopped', progress: this.statusValue.progress });
  }

  /** One connection: connects, then hands it to a ReplicationSession until it ends. */
  private async runConnection(signal: AbortSignal, onConnected: () => void): Promise<void> {
    const link = await this.connector.connect(signal, this.config.heartbeat ?? 300);
    if (signal.aborted) {
      link.close(1000, 'replicator stopped');
      return;
    }
    this.link = link;
    onConnected();
    log.info('connected', { target: this.connector.address, type: this.type, continuous: this.continuous });
    const db = this.config.database;
    const session = new ReplicationSession(link.connection, {
      db,
      remoteId: db.remoteId(this.connector.address),
      collections: this.collectionsToSync,
      push: this.type !== 'pull',
      pull: this.type !== 'push',
      continuous: this.continuous,
      checkpointIntervalMs: this.config.checkpointIntervalMs,
    });
    this.session = session;
    session.on('documentEnded', (e) => this.emit('documentEnded', e));
    session.on('progress', (caughtUp) => this.updateProgress(session, caughtUp && this.continuous ? 'idle' : 'busy'));
    try {
      await session.run(signal);
    } finally {
      this.progressBase = { ...this.statusValue.progress };
      this.session = undefined;
      this.link = undefined;
      if (!link.connection.isClosed) link.close(1000, 'replication finished');
    }
  }

  private readLocalCheckpoint(rc: ReplicatedCollection): CheckpointBody | undefined {
    return readLocalCheckpoint(this.config.database, rc.checkpointId);
  }

  private updateProgress(session: ReplicationSession, activity: ReplicatorActivity): void {
    const now = session.progress;
    const completed = this.progressBase.completed + now.completed;
    const total = this.progressBase.total + now.total;
    const prev = this.statusValue;
    if (prev.activity === activity && prev.progress.completed === completed && prev.progress.total === total && !prev.error && prev.failed === this.failures.size) return;
    this.setStatus({ activity, progress: { completed, total } });
  }

  private setStatus(status: Omit<ReplicatorStatus, 'failed'>): void {
    this.statusValue = { ...status, failed: this.failures.size };
    this.emit('change', this.statusValue);
  }
}
