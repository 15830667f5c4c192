import { BlipError, type BlipConnection, type BlipReply, type IncomingRequest } from '../blip';
import type { Collection, Database, Document, RevId } from '../store';
import { storeToBlip } from '../error-mapping';
import { parseJsonObject } from '../store/canonical-json';
import { asValidDocId } from '../store/doc-id';
import { ValidBody } from '../store/document-body';
import { TypedEmitter } from '../util/typed-emitter';
import { BlobFetcher } from './blob-fetcher';
import type { DocumentEnded } from './document-event';
import {
  Profile,
  Prop,
  ProposeStatus,
  Tuning,
  collectionIndex,
  parseChanges,
  parseProposedChanges,
  parseRev,
  type ChangesReplyEntry,
  type RemoteSequence,
  type RevMessage,
} from './protocol';
import { SequenceTracker } from './sequence-tracker';

/** Decides whether a pulled revision is saved; receives it with its body. */
export type PullFilter = (doc: Document) => boolean;

export interface RevReceiverOptions {
  readonly db: Database;
  /** Maps the message's `collection` index (undefined in legacy mode) to a collection, or throws a BlipError. */
  readonly collectionFor: (index: number | undefined) => Collection;
  /**
   * `passive`: a listener receiving pushes — refuses revisions that would create a conflict (409),
   * like a Couchbase Lite listener. `active`: a puller — accepts them as conflicts to resolve.
   */
  readonly role: 'passive' | 'active';
  /** Refuse every push with 403 (a read-only listener). */
  readonly readOnly?: boolean;
  readonly pullFilter?: ((doc: Document, collection: Collection) => boolean) | undefined;
  /** The peer's key in remote_revs (active side): pulled revisions are what the peer has. */
  readonly remoteId?: number | undefined;
  /** Called after a pulled revision left a document in conflict (active side resolves it). */
  readonly onConflict?: (collection: Collection, docId: string) => void;
  /**
   * The peer has this revision as its current one (active side): announced in `changes` and
   * already here, or just pulled (then called inside the inserting transaction: it must not write).
   * Lets the pusher skip it, or retry a proposal the peer refused as a conflict.
   */
  readonly onPeerRevision?: (collection: Collection, docId: string, revId: string) => void;
  /** Initial remote checkpoint of a collection (active side). */
  readonly sinceFor?: (collection: Collection) => RemoteSequence | null | undefined;
}

/** Per-collection pull state: sequences have a separate space in each collection. */
interface CollectionState {
  readonly tracker: SequenceTracker<RemoteSequence>;
  caughtUpSeen: boolean;
  expected: number;
}

export type RevReceiverEvents = {
  documentEnded: [DocumentEnded];
  /** The peer sent the empty `changes` that marks the end of its existing changes, and every revision asked for is saved. */
  peerCaughtUp: [Collection];
  /** The remote sequence up to which everything announced is durable here advanced. */
  checkpoint: [Collection, RemoteSequence];
  progress: [];
};

interface PendingInsert {
  readonly collection: Collection;
  /** Loses its body and history once inserted (see flush). */
  rev: RevMessage;
  body: ValidBody | undefined;
  readonly resolve: () => void;
  readonly reject: (e: BlipError) => void;
}

/**
 * The receiving half of replication: answers `changes` (which revisions it wants, with known
 * ancestors) and `proposeChanges` (send / have it / conflict), and saves incoming `rev` messages
 * in batches (100 revisions or 20 ms, one store transaction). A `rev` is answered only after its
 * batch is durable, so the sender may checkpoint it.
 */
export class RevReceiver extends TypedEmitter<RevReceiverEvents> {
  private queue: PendingInsert[] = [];
  private flushSoon = false;
  private readonly states = new Map<Collection, CollectionState>();
  /** Revisions asked for in `changes` replies that have not arrived yet. */
  private readonly expected = new Map<string, RemoteSequence>();
  private closed = false;
  private readonly unregister: (() => void)[] = [];
  private readonly blobs: BlobFetcher;
  /** Revisions waiting for their blobs before they can be queued. */
  private fetchingBlobs = 0;
  total = 0;
  completed = 0;

  constructor(
    conn: BlipConnection,
    private readonly options: RevReceiverOptions,
  ) {
    super();
    this.blobs = new BlobFetcher(conn, options.db.blobs);
    this.unregister.push(
      conn.onRequest(Profile.changes, (req) => this.onChanges(req)),
      conn.onRequest(Profile.proposeChanges, (req) => this.onProposeChanges(req)),
      conn.onRequest(Profile.rev, (req) => this.onRev(req)),
      conn.onRequest(Profile.norev, (req) => this.onNoRev(req)),
    );
  }

  private state(collection: Collection): CollectionState {
    let st = this.states.get(collection);
    if (!st) {
      st = { tracker: new SequenceTracker<RemoteSequence>(this.options.sinceFor?.(collection) ?? undefined), caughtUpSeen: false, expected: 0 };
      this.states.set(collection, st);
    }
    return st;
  }

  checkpointSequence(collection: Collection): RemoteSequence | undefined {
    return this.states.get(collection)?.tracker.safe;
  }

  /** The peer has sent all its existing changes of this collection and every wanted revision is saved. */
  isCaughtUp(collection: Collection): boolean {
    const st = this.states.get(collection);
    return st !== undefined && st.caughtUpSeen && st.expected === 0 && !this.queue.some((q) => q.collection === collection);
  }

  /** Nothing asked for is outstanding (in any collection). */
  get isIdle(): boolean {
    return this.expected.size === 0 && this.queue.length === 0 && this.fetchingBlobs === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unregister) off();
    const pending = this.queue;
    this.queue = [];
    for (const p of pending) p.reject(new BlipError('HTTP', 503, 'replication stopped'));
  }

  private refuseIfReadOnly(): void {
    if (this.options.readOnly) throw new BlipError('HTTP', 403, 'this listener is read-only: pushes are refused');
  }

  private onChanges(req: IncomingRequest): BlipReply {
    this.refuseIfReadOnly();
    const collection = this.options.collectionFor(collectionIndex(req));
    const entries = parseChanges(req);
    const st = this.state(collection);
    if (entries.length === 0) {
      st.caughtUpSeen = true;
      this.maybeCaughtUp(collection);
      return { body: '[]' };
    }
    // No prototype: a peer's document ID such as `constructor` must not find Object's members.
    const request: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (const [, docId, revId] of entries) (request[docId] ??= []).push(revId);
    let diff: ReturnType<Collection['revsDiff']>;
    try {
      diff = collection.revsDiff(request);
    } catch (e) {
      throw storeToBlip(e);
    }
    const alreadyHere: [string, string][] = [];
    const reply: ChangesReplyEntry[] = entries.map(([seq, docId, revId]) => {
      st.tracker.add(seq);
      const d = Object.hasOwn(diff, docId) ? diff[docId] : undefined;
      const key = expectKey(collection, docId, revId);
      if (d && d.missing.includes(revId as RevId) && !this.expected.has(key)) {
        this.expected.set(key, seq);
        st.expected++;
        this.total++;
        return d.possibleAncestors;
      }
      if (!d || !d.missing.includes(revId as RevId)) alreadyHere.push([docId, revId]);
      this.complete(collection, seq);
      return 0;
    });
    if (alreadyHere.length > 0) this.notePeerRevisions(collection, alreadyHere);
    this.emit('progress');
    return { properties: { [Prop.maxHistory]: String(Tuning.maxHistory), [Prop.blobs]: 'true' }, body: JSON.stringify(reply) };
  }

  /** Records that the peer has these revisions (a later push names them as parents) and says so. */
  private notePeerRevisions(collection: Collection, entries: [string, string][]): void {
    const remoteId = this.options.remoteId;
    if (remoteId === undefined) return;
    try {
      collection.setRemoteRevs(remoteId, entries);
    } catch {
      // A later push then proposes with an older parent and learns the truth from the peer.
    }
    for (const [docId, revId] of entries) this.options.onPeerRevision?.(collection, docId, revId);
  }

  private onProposeChanges(req: IncomingRequest): BlipReply {
    this.refuseIfReadOnly();
    const collection = this.options.collectionFor(collectionIndex(req));
    const proposals = parseProposedChanges(req);
    const statuses = proposals.map(([docId, revId, serverRevId]) => {
      let current: { revId: RevId; deleted: boolean } | undefined;
      try {
        current = collection.currentRevision(docId);
      } catch {
        return 400; // invalid document ID
      }
      if (!current) return ProposeStatus.send;
      if (current.revId === revId) return ProposeStatus.haveIt;
      if (collection.getAncestry(docId, revId, 1)?.[0] === revId) return ProposeStatus.haveIt;
      if ((serverRevId ?? '') === current.revId) return ProposeStatus.send;
      // As a LiteCore listener does: a peer creating the document afresh over a local deletion is not a conflict.
      if (!serverRevId && current.deleted) return ProposeStatus.send;
      return ProposeStatus.conflict;
    });
    return { properties: { [Prop.blobs]: 'true' }, body: JSON.stringify(statuses) };
  }

  private onRev(req: IncomingRequest): Promise<BlipReply | undefined> | undefined {
    this.refuseIfReadOnly();
    const collection = this.options.collectionFor(collectionIndex(req));
    const rev = parseRev(req);
    // The store's own rules, checked before anything else (the pull filter, fetching blobs) sees the body.
    let valid: ValidBody;
    try {
      asValidDocId(rev.docId);
      valid = ValidBody.received(rev.body, rev.deleted);
    } catch (e) {
      const err = storeToBlip(e);
      this.finishRev(collection, rev, { error: { code: err.code, message: err.message } });
      throw err;
    }
    if (this.options.pullFilter) {
      const body = parseJsonObject(valid.json, 'revision body');
      const doc: Document = { id: rev.docId as Document['id'], revId: rev.revId as RevId, sequence: 0 as Document['sequence'], deleted: rev.deleted, conflicted: false, body };
      let accept: boolean;
      try {
        accept = this.options.pullFilter(doc, collection);
      } catch {
        accept = false;
      }
      if (!accept) {
        this.finishRev(collection, rev, { skipped: true });
        return undefined;
      }
    }
    // Blobs first: a stored revision must never reference content this peer does not have.
    const fetching = valid.hasBlobs ? this.blobs.ensure(rev.docId, valid.json, collectionIndex(req)) : undefined;
    if (!fetching) return this.insertSoon(collection, rev, valid);
    this.fetchingBlobs++;
    return fetching.then(
      () => {
        this.fetchingBlobs--;
        return this.insertSoon(collection, rev, valid);
      },
      (e: unknown) => {
        this.fetchingBlobs--;
        const err = storeToBlip(e);
        this.finishRev(collection, rev, { error: { code: err.code, message: err.message } });
        throw err;
      },
    );
  }

  private insertSoon(collection: Collection, rev: RevMessage, body: ValidBody): Promise<BlipReply | undefined> {
    if (this.closed) return Promise.reject(new BlipError('HTTP', 503, 'replication stopped'));
    return new Promise<BlipReply | undefined>((resolve, reject) => {
      this.queue.push({ collection, rev, body, resolve: () => resolve(undefined), reject });
      // Inserted once the frames already received in this I/O turn have queued too: batches form
      // by themselves under load (and never exceed the 100-revision/20 ms bounds), while a lone
      // revision is not held back. Durability is group-committed, so small batches stay cheap.
      if (this.queue.length >= Tuning.insertionBatchSize) this.flush();
      else if (!this.flushSoon) {
        this.flushSoon = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private onNoRev(req: IncomingRequest): undefined {
    const collection = this.options.collectionFor(collectionIndex(req));
    const docId = req.properties[Prop.id] ?? '';
    const revId = req.properties[Prop.rev] ?? '';
    const key = expectKey(collection, docId, revId);
    const seq = this.expected.get(key);
    if (seq !== undefined) {
      this.expected.delete(key);
      this.state(collection).expected--;
      this.complete(collection, seq);
      this.completed++;
      this.emit('documentEnded', { direction: 'pull', collection: collection.fullName, docId, revId, deleted: false, error: { code: Number(req.properties[Prop.error] ?? 404), message: req.properties[Prop.reason] ?? 'revision not available' } });
      this.emit('progress');
      this.maybeCaughtUp(collection);
    }
    return undefined;
  }

  /** Saves the queued revisions in one transaction, then answers each (after it is durable). */
  private flush(): void {
    this.flushSoon = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: (BlipError | { conflicted: boolean } | undefined)[] = new Array(batch.length);
    const remoteRevs = new Map<Collection, [string, string][]>();
    try {
      // Durability deferred: the next batch can be inserted while the fsync runs, and one fsync
      // covers several batches. Replies wait for it (below).
      this.options.db.inBatch(() => {
        batch.forEach((item, i) => {
          const { rev, collection } = item;
          try {
            // A listener accepts only revisions that extend its current one (or documents it does
            // not have), checked at insert time: another revision of the document may have been
            // saved since this one was announced (several clients pushing the same document at once).
            const out = collection.insertRevisionWithHistory(
              { id: rev.docId, validBody: item.body!, deleted: rev.deleted },
              [rev.revId, ...rev.history.slice(0, Tuning.maxHistory)],
              this.options.role === 'passive' ? { markConflict: true, onlyExtending: true } : { markConflict: true },
            );
            outcomes[i] = { conflicted: out.conflicted };
            // The reply waits for the fsync; meanwhile only the identity is needed. Letting the
            // body go now keeps it out of V8's young-generation copies (thousands are in flight).
            item.rev = { ...rev, body: NO_BODY, history: [] };
            item.body = undefined;
            if (this.options.remoteId !== undefined) {
              let list = remoteRevs.get(collection);
              if (!list) remoteRevs.set(collection, (list = []));
              list.push([rev.docId, rev.revId]);
            }
          } catch (e) {
            outcomes[i] = storeToBlip(e);
          }
        });
        for (const [collection, entries] of remoteRevs) {
          collection.setRemoteRevs(this.options.remoteId!, entries);
          // Inside the transaction: a pusher woken by its commit must already know the peer has these.
          for (const [docId, revId] of entries) this.options.onPeerRevision?.(collection, docId, revId);
        }
      }, { deferDurability: true });
    } catch (e) {
      const err = new BlipError('HTTP', 500, `could not save revisions: ${(e as Error).message}`);
      for (const item of batch) item.reject(err);
      return;
    }
    this.options.db.whenDurable().then(
      () => this.answer(batch, outcomes),
      (e: unknown) => {
        const err = new BlipError('HTTP', 500, `could not save revisions: ${(e as Error).message}`);
        for (const item of batch) item.reject(err);
      },
    );
  }

  /** Replies to a batch once it is durable (so the sender may checkpoint it). */
  private answer(batch: PendingInsert[], outcomes: (BlipError | { conflicted: boolean } | undefined)[]): void {
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof BlipError) {
        item.reject(outcome);
        this.finishRev(item.collection, item.rev, { error: { code: outcome.code, message: outcome.message } });
      } else {
        item.resolve();
        // Before finishRev: the replicator must know about the conflict before it can see "caught up".
        if (outcome?.conflicted) this.options.onConflict?.(item.collection, item.rev.docId);
        this.finishRev(item.collection, item.rev, {});
      }
    });
  }

  private finishRev(collection: Collection, rev: RevMessage, outcome: { skipped?: boolean; error?: { code: number; message: string } }): void {
    const key = expectKey(collection, rev.docId, rev.revId);
    const seq = this.expected.get(key) ?? rev.sequence;
    if (this.expected.delete(key)) {
      this.completed++;
      this.state(collection).expected--;
    }
    if (seq !== undefined && !(outcome.error && outcome.error.code >= 500)) this.complete(collection, seq);
    this.emit('documentEnded', {
      direction: 'pull',
      collection: collection.fullName,
      docId: rev.docId,
      revId: rev.revId,
      deleted: rev.deleted,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.skipped ? { skipped: true } : {}),
    });
    this.emit('progress');
    this.maybeCaughtUp(collection);
  }

  private complete(collection: Collection, seq: RemoteSequence): void {
    const tracker = this.state(collection).tracker;
    const before = tracker.safe;
    tracker.complete(seq);
    const after = tracker.safe;
    if (after !== undefined && after !== before) this.emit('checkpoint', collection, after);
  }

  private maybeCaughtUp(collection: Collection): void {
    if (this.isCaughtUp(collection)) this.emit('peerCaughtUp', collection);
  }
}

const NO_BODY = new Uint8Array(0);

function expectKey(collection: Collection, docId: string, revId: string): string {
  return `${collection.id}\u0000${docId}\u0000${revId}`;
}
