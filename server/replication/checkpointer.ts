import { BlipError, type BlipConnection } from '../blip';
import type { Collection, Database } from '../store';
import { logger } from '../util/log';
import { checkpointsMatch, localCheckpointDocId, reconcileCheckpoints } from './checkpoint';
import { Profile, Prop, Tuning, type CheckpointBody, type RemoteSequence } from './protocol';
import { ReplicatorError } from './replicator-types';

const log = logger('replicator');

/** A collection whose replication position is checkpointed. */
export interface CheckpointedCollection {
  readonly collection: Collection;
  readonly checkpointId: string;
}

/** Where a replication resumes: the local sequence pushed up to, the peer's sequence pulled up to. */
export interface CheckpointPosition {
  readonly local: number;
  readonly remote: RemoteSequence | null;
}

/** What the other side has made durable by now, for the collection at `index` (undefined: nothing new). */
export type DurablePositions = (index: number) => { local?: number | undefined; remote?: RemoteSequence | undefined };

export interface CheckpointerOptions {
  readonly db: Database;
  readonly collections: readonly CheckpointedCollection[];
  /** Checkpoints travel with getCollections and a collection index (false: the default collection alone). */
  readonly collectionsMode: boolean;
  /** How long progress may go unsaved while running (default Tuning.checkpointSaveDelayMs). */
  readonly saveIntervalMs?: number | undefined;
}

interface CheckpointState {
  readonly target: CheckpointedCollection;
  readonly index: number | undefined;
  position: CheckpointPosition;
  startedOver: boolean;
  readonly confirmed: Set<string>;
  remoteRev: string | undefined;
  lastSaved: string | undefined;
}

/** The copy of a replication's checkpoint kept in the local database, if any. */
export function readLocalCheckpoint(db: Database, checkpointId: string): CheckpointBody | undefined {
  return db.getLocal(localCheckpointDocId(checkpointId))?.body as CheckpointBody | undefined;
}

/**
 * Keeps one connection's checkpoints: fetches the peer's and the local copies and decides where
 * the run resumes, then saves progress on the peer and here — only positions the other side has
 * made durable, at most every few seconds, and once more at the end of a one-shot run.
 *
 * The peer's copy is the authority. When it is missing or differs from ours (a new database at
 * that address, or one restored from an older copy), the run starts over and does not trust what
 * the peer was recorded to have, except what the peer confirms during this connection.
 */
export class Checkpointer {
  private readonly states: CheckpointState[];
  private fetched = false;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly conn: BlipConnection,
    private readonly options: CheckpointerOptions,
    private readonly durable: DurablePositions = () => ({}),
  ) {
    this.states = options.collections.map((target, i) => ({
      target,
      index: options.collectionsMode ? i : undefined,
      position: { local: 0, remote: null },
      startedOver: false,
      confirmed: new Set<string>(),
      remoteRev: undefined,
      lastSaved: undefined,
    }));
  }

  /** Reads both copies of every checkpoint and decides where each collection resumes. */
  async fetch(): Promise<void> {
    const remote = this.options.collectionsMode ? await this.fetchWithCollections() : [await this.fetchDefault()];
    this.states.forEach((st, i) => {
      const r = remote[i] ?? undefined;
      st.remoteRev = r && typeof r.rev === 'string' ? r.rev : undefined;
      const local = readLocalCheckpoint(this.options.db, st.target.checkpointId);
      const peer = r && Object.keys(r).length > 0 ? r : undefined;
      st.startedOver = !checkpointsMatch(local, peer);
      st.position = st.startedOver ? { local: 0, remote: null } : reconcileCheckpoints(local, peer);
      log.info(st.startedOver ? 'checkpoint fetched: starting over' : 'checkpoint fetched: resuming', {
        collection: st.target.collection.fullName,
        local: st.position.local,
        remote: st.position.remote,
        peerHasCopy: peer !== undefined,
      });
    });
    this.fetched = true;
  }

  /** Where the collection at `index` resumes (before fetch: the beginning). */
  position(index: number): CheckpointPosition {
    return this.state(index).position;
  }

  /** The run of the collection at `index` started over (its checkpoints were missing or disagreed). */
  startedOver(index: number): boolean {
    return this.state(index).startedOver;
  }

  /** The peer showed during this connection that it has `revId` of `docId`. */
  confirm(index: number, docId: string, revId: string): void {
    const st = this.state(index);
    if (st.startedOver) st.confirmed.add(confirmKey(docId, revId));
  }

  /**
   * Whether a revision the peer was recorded to have may be skipped as already there; undefined
   * when every record is trusted (the checkpoints agreed).
   */
  peerKnows(index: number): ((docId: string, revId: string) => boolean) | undefined {
    const st = this.state(index);
    if (!st.startedOver) return undefined;
    return (docId, revId) => st.confirmed.has(confirmKey(docId, revId));
  }

  /** Saves soon (within the save interval), unless a save is already due. */
  scheduleSave(): void {
    if (this.closed) return;
    this.timer ??= setTimeout(() => void this.save().catch((e: unknown) => log.warn('checkpoint not saved', { error: String(e) })), this.options.saveIntervalMs ?? Tuning.checkpointSaveDelayMs);
  }

  /** Saves every checkpoint that moved: on the peer first, then here, so ours is never ahead of the peer's. */
  async save(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.saving) await this.saving;
    this.saving = (async () => {
      for (const st of this.states) await this.saveOne(st);
    })();
    try {
      await this.saving;
    } finally {
      this.saving = undefined;
    }
  }

  /** Stops the save timer; a save already under way finishes. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private state(index: number): CheckpointState {
    const st = this.states[index];
    if (!st) throw new RangeError(`no checkpointed collection at index ${index}`);
    return st;
  }

  private async fetchWithCollections(): Promise<(RemoteCheckpoint | null)[]> {
    const targets = this.options.collections;
    const reply = await this.conn.request({
      profile: Profile.getCollections,
      body: JSON.stringify({ collections: targets.map((t) => t.collection.fullName), checkpoint_ids: targets.map((t) => t.checkpointId) }),
    });
    const list: unknown = reply.json();
    if (!Array.isArray(list) || list.length !== targets.length) throw new ReplicatorError('peer sent an invalid getCollections reply', false, 'protocol');
    const remote = list as (RemoteCheckpoint | null)[];
    const missing = targets.filter((_, i) => remote[i] === null).map((t) => t.collection.fullName);
    if (missing.length > 0) throw new ReplicatorError(`the peer does not share collection(s) ${missing.join(', ')}`, false, 404);
    return remote;
  }

  private async fetchDefault(): Promise<RemoteCheckpoint | undefined> {
    try {
      const reply = await this.conn.request({ profile: Profile.getCheckpoint, properties: { [Prop.client]: this.options.collections[0]!.checkpointId } });
      return { ...(reply.json() as CheckpointBody), ...(reply.properties[Prop.rev] ? { rev: reply.properties[Prop.rev] } : {}) };
    } catch (e) {
      if (e instanceof BlipError && e.code === 404) return undefined;
      throw e;
    }
  }

  private async saveOne(st: CheckpointState): Promise<void> {
    // Before the fetch nothing is known about the peer's copy: saving would overwrite it blindly.
    if (!this.fetched) return;
    const index = this.states.indexOf(st);
    const now = this.durable(index);
    const local = now.local ?? st.position.local;
    const remote = now.remote ?? st.position.remote;
    const key = JSON.stringify([local, remote]);
    if (key === st.lastSaved || this.conn.isClosed) return;
    const body: CheckpointBody = { time: Date.now(), local, remote };
    const props: Record<string, string> = { [Prop.client]: st.target.checkpointId };
    if (st.remoteRev) props[Prop.rev] = st.remoteRev;
    if (st.index !== undefined) props[Prop.collection] = String(st.index);
    const reply = await this.conn.request({ profile: Profile.setCheckpoint, properties: props, body: JSON.stringify(body) });
    st.remoteRev = reply.properties[Prop.rev];
    this.options.db.putLocal(localCheckpointDocId(st.target.checkpointId), { ...body, remote: body.remote ?? null });
    st.lastSaved = key;
    st.position = { local, remote: remote ?? null };
    log.debug('checkpoint saved', { collection: st.target.collection.fullName, local, remote });
  }
}

type RemoteCheckpoint = CheckpointBody & { rev?: string };

function confirmKey(docId: string, revId: string): string {
  return `${docId}\u0000${revId}`;
}
