import { BlipError, type BlipConnection, type BlipReply, type IncomingRequest } from '../blip';
import type { Collection, Database, Document, RevId } from '../store';
import { storeToBlip } from '../error-mapping';
import { parseJsonObject } from '../store/canonical-json';
import { asValidDocId } from '../store/doc-id';
import { ValidBody } from '../store/document-body';
import { TypedEmitter } from '../util/typed-emitter';
import { BlobFetcher } from './blob-fetcher';
import { documentEnded, type DocumentEnded, type DocumentOutcome } from './document-event';
import { Inserter, type InsertOutcome } from './inserter';
import { Profile, Prop, Tuning, collectionIndex, parseChanges, parseProposedChanges, parseRev, type RemoteSequence, type RevMessage } from './protocol';
import { RevFinder, type ChangesTracking } from './rev-finder';
import { SequenceTracker } from './sequence-tracker';

/** Decides whether a pulled revision is saved; receives it with its body. */
export type PullFilter = (doc: Document) => boolean;

export interface PullerOptions {
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

/** What a `subChanges` request asks the peer for. */
export interface ChangesSubscription {
  /** The peer's sequence to start after (null: from the beginning). */
  readonly since: RemoteSequence | null;
  readonly continuous: boolean;
  /** Index agreed with getCollections (collections mode only). */
  readonly collectionIndex: number | undefined;
  readonly docIds: readonly string[] | undefined;
}

/** Per-collection pull state: sequences have a separate space in each collection. */
interface CollectionState {
  readonly tracker: SequenceTracker<RemoteSequence>;
  caughtUpSeen: boolean;
  expected: number;
}

export type PullerEvents = {
  documentEnded: [DocumentEnded];
  /** The peer sent the empty `changes` that marks the end of its existing changes, and every revision asked for is saved. */
  peerCaughtUp: [Collection];
  /** The remote sequence up to which everything announced is durable here advanced. */
  checkpoint: [Collection, RemoteSequence];
  progress: [];
};

/**
 * The receiving half of replication, as LiteCore's Puller (which a passive peer runs too, to take
 * pushes): its RevFinder answers `changes` and `proposeChanges`; incoming `rev` messages are
 * checked, filtered and have their blobs fetched, then the Inserter saves them in durable batches.
 * It tracks what was asked for, so the checkpoint advances only past what is saved here.
 */
export class Puller extends TypedEmitter<PullerEvents> {
  private readonly finder: RevFinder;
  private readonly inserter: Inserter;
  private readonly states = new Map<Collection, CollectionState>();
  /** Revisions asked for in `changes` replies that have not arrived yet. */
  private readonly expected = new Map<string, RemoteSequence>();
  /** How the RevFinder's decisions enter the pull's bookkeeping. */
  private readonly tracking: ChangesTracking = {
    announced: (collection, seq) => this.state(collection).tracker.add(seq),
    expect: (collection, docId, revId, seq) => {
      const key = expectKey(collection, docId, revId);
      if (this.expected.has(key)) return false;
      this.expected.set(key, seq);
      this.state(collection).expected++;
      this.total++;
      return true;
    },
    done: (collection, seq) => this.complete(collection, seq),
  };
  private closed = false;
  private readonly unregister: (() => void)[] = [];
  private readonly blobs: BlobFetcher;
  /** Revisions waiting for their blobs before they can be queued. */
  private fetchingBlobs = 0;
  total = 0;
  completed = 0;

  constructor(
    private readonly conn: BlipConnection,
    private readonly options: PullerOptions,
  ) {
    super();
    const { remoteId, onPeerRevision } = options;
    this.finder = new RevFinder({ remoteId, onPeerRevision });
    this.inserter = new Inserter({
      db: options.db,
      onlyExtending: options.role === 'passive',
      remoteId,
      onPeerRevision,
      onInserted: (collection, rev, outcome) => this.onInserted(collection, rev, outcome),
    });
    this.blobs = new BlobFetcher(conn, options.db.blobs);
    this.unregister.push(
      conn.onRequest(Profile.changes, (req) => this.onChanges(req)),
      conn.onRequest(Profile.proposeChanges, (req) => this.onProposeChanges(req)),
      conn.onRequest(Profile.rev, (req) => this.onRev(req)),
      conn.onRequest(Profile.norev, (req) => this.onNoRev(req)),
    );
  }

  /** Asks the peer for its changes of one collection, from where the checkpoint left off (the active side starts so). */
  async subscribe(request: ChangesSubscription): Promise<void> {
    const props: Record<string, string> = { [Prop.batch]: String(Tuning.changesBatchSize), [Prop.versioning]: 'rev-trees' };
    if (request.since !== null) props[Prop.since] = JSON.stringify(request.since);
    if (request.continuous) props[Prop.continuous] = 'true';
    if (request.collectionIndex !== undefined) props[Prop.collection] = String(request.collectionIndex);
    const ids = request.docIds;
    await this.conn.request({ profile: Profile.subChanges, properties: props, ...(ids ? { body: JSON.stringify({ docIDs: ids }) } : {}) });
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
    return st !== undefined && st.caughtUpSeen && st.expected === 0 && !this.inserter.hasPending(collection);
  }

  /** Nothing asked for is outstanding (in any collection). */
  get isIdle(): boolean {
    return this.expected.size === 0 && this.inserter.pending === 0 && this.fetchingBlobs === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unregister) off();
    this.inserter.close();
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
    const reply = this.finder.answerChanges(collection, entries, this.tracking);
    this.emit('progress');
    return { properties: { [Prop.maxHistory]: String(Tuning.maxHistory), [Prop.blobs]: 'true' }, body: JSON.stringify(reply) };
  }

  private onProposeChanges(req: IncomingRequest): BlipReply {
    this.refuseIfReadOnly();
    const collection = this.options.collectionFor(collectionIndex(req));
    const statuses = this.finder.answerProposals(collection, parseProposedChanges(req));
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
    if (!fetching) return this.inserter.insert(collection, rev, valid);
    this.fetchingBlobs++;
    return fetching.then(
      () => {
        this.fetchingBlobs--;
        return this.inserter.insert(collection, rev, valid);
      },
      (e: unknown) => {
        this.fetchingBlobs--;
        const err = storeToBlip(e);
        this.finishRev(collection, rev, { error: { code: err.code, message: err.message } });
        throw err;
      },
    );
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
      this.emit('documentEnded', {
        direction: 'pull',
        collection: collection.fullName,
        docId,
        revId,
        deleted: false,
        error: { code: Number(req.properties[Prop.error] ?? 404), message: req.properties[Prop.reason] ?? 'revision not available' },
      });
      this.emit('progress');
      this.maybeCaughtUp(collection);
    }
    return undefined;
  }

  /** A saved revision (or one the store refused) is done; a conflict is reported before the pull can look caught up. */
  private onInserted(collection: Collection, rev: RevMessage, outcome: InsertOutcome): void {
    if (outcome instanceof BlipError) {
      this.finishRev(collection, rev, { error: { code: outcome.code, message: outcome.message } });
      return;
    }
    if (outcome.conflicted) this.options.onConflict?.(collection, rev.docId);
    this.finishRev(collection, rev, {});
  }

  private finishRev(collection: Collection, rev: RevMessage, outcome: DocumentOutcome): void {
    const key = expectKey(collection, rev.docId, rev.revId);
    const seq = this.expected.get(key) ?? rev.sequence;
    if (this.expected.delete(key)) {
      this.completed++;
      this.state(collection).expected--;
    }
    if (seq !== undefined && !(outcome.error && outcome.error.code >= 500)) this.complete(collection, seq);
    this.emit('documentEnded', documentEnded('pull', collection.fullName, rev, outcome));
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

function expectKey(collection: Collection, docId: string, revId: string): string {
  return `${collection.id}\u0000${docId}\u0000${revId}`;
}
