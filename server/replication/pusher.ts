import { BlipError, type BlipConnection, type IncomingReply } from '../blip';
import type { Change, Collection, Document } from '../store';
import { TypedEmitter } from '../util/typed-emitter';
import { documentEnded, type DocumentEnded, type DocumentOutcome } from './document-event';
import { HeldConflicts } from './held-conflicts';
import { Profile, Prop, ProposeStatus, Tuning, type ChangeEntry, type ChangesReplyEntry, type ProposedChange } from './protocol';
import { RemoteRevRecorder } from './remote-rev-recorder';
import { SequenceTracker } from './sequence-tracker';

/** Decides whether a document is pushed; receives the current revision with its body. */
export type PushFilter = (doc: Document) => boolean;

export interface PusherOptions {
  /** `changes` (a passive peer serving subChanges) or `proposeChanges` (an active pusher). */
  readonly mode: 'changes' | 'proposeChanges';
  /** Start after this local sequence. */
  readonly since: number;
  readonly continuous: boolean;
  readonly batchSize?: number;
  readonly docIds?: readonly string[] | undefined;
  readonly activeOnly?: boolean | undefined;
  readonly filter?: PushFilter | undefined;
  /** Index agreed with getCollections, sent on every message (collections mode only). */
  readonly collectionIndex?: number | undefined;
  /** The peer's key in remote_revs, to name its current revision and record what it accepted. */
  readonly remoteId?: number | undefined;
  /**
   * Whether a revision recorded in remote_revs may be skipped as already on the peer. False when
   * the peer's checkpoint did not match ours (it may have lost data): then only what the peer
   * confirmed during this session is skipped, and recorded revisions serve only as parent guesses.
   */
  readonly peerKnows?: ((docId: string, revId: string) => boolean) | undefined;
  /**
   * Keep documents the peer refuses as conflicts (409) waiting for `peerHasRevision` (the pull
   * of a push-and-pull replication may show the peer's current revision is one of ours) instead
   * of failing them at once; `failHeldConflicts` fails the rest.
   */
  readonly holdConflicts?: boolean | undefined;
}

interface QueuedRev {
  readonly change: Change;
  /** Revisions the peer has that may be ancestors; history is cut at the first of them. */
  readonly known: readonly string[];
}

export type PusherEvents = {
  documentEnded: [DocumentEnded];
  /** Every change read so far has been announced and every wanted revision acknowledged. */
  caughtUp: [];
  /** The checkpointable sequence advanced. */
  checkpoint: [number];
  progress: [];
  /** The connection failed; the pusher has stopped. */
  failed: [Error];
};

/**
 * The sending half of replication (LiteCore's Pusher; a passive peer runs one to serve a
 * client's subChanges): reads a collection's changes feed, announces changes in
 * batches (`changes` or `proposeChanges`, at most 5 lists in flight), then sends the revisions the
 * peer wants as `rev` messages (at most 10 and 2 MiB awaiting replies). A sequence is checkpointable
 * only once the peer has acknowledged it, i.e. made it durable.
 */
export class Pusher extends TypedEmitter<PusherEvents> {
  private lastRead: number;
  private feedExhausted = false;
  private reading = false;
  private listsInFlight = 0;
  private readonly revQueue: QueuedRev[] = [];
  private revsInFlight = 0;
  private bytesInFlight = 0;
  /** Revs sent or being sent whose reply has not arrived. */
  private awaitingReplies = 0;
  private stopped = false;
  private sentCaughtUp = false;
  private wasCaughtUp = false;
  private unsubscribe: (() => void) | undefined;
  private readonly tracker: SequenceTracker<number>;
  private readonly remoteRevs: RemoteRevRecorder;
  private readonly held: HeldConflicts;
  /** Held changes to propose again, with the peer revision now known to be their parent. */
  private reproposals: { change: Change; serverRev: string }[] = [];
  /** Changes announced (after filtering) and finished, for progress reporting. */
  total = 0;
  completed = 0;

  constructor(
    private readonly conn: BlipConnection,
    private readonly collection: Collection,
    private readonly options: PusherOptions,
  ) {
    super();
    this.lastRead = options.since;
    this.tracker = new SequenceTracker<number>(options.since, String);
    this.remoteRevs = new RemoteRevRecorder(collection, options.remoteId);
    this.held = new HeldConflicts(collection);
  }

  get checkpointSequence(): number {
    return this.tracker.safe ?? this.options.since;
  }

  get isCaughtUp(): boolean {
    return this.feedExhausted && !this.reading && this.listsInFlight === 0 && this.reproposals.length === 0 && this.revQueue.length === 0 && this.revsInFlight === 0 && this.awaitingReplies === 0;
  }

  /** Documents changed locally and not yet pushed by this pusher (read from the feed, not yet acknowledged). */
  get lastReadSequence(): number {
    return this.lastRead;
  }

  start(): void {
    if (this.options.continuous) {
      this.unsubscribe = this.collection.on('change', () => {
        this.feedExhausted = false;
        this.pump();
      });
    }
    this.pump();
  }

  /** Reads the feed again (e.g. after a conflict was resolved locally during a one-shot push). */
  rescan(): void {
    this.feedExhausted = false;
    this.pump();
  }

  /** Conflicts held for a retry (see `holdConflicts`). */
  get heldConflictCount(): number {
    return this.held.size;
  }

  /**
   * The peer is known to have `revId` of a document (the pull saw it). A change held after a 409
   * is proposed again when that revision is an ancestor of ours; if the peer already has ours it is done.
   */
  peerHasRevision(docId: string, revId: string): void {
    if (this.stopped) return;
    const verdict = this.held.verdict(docId, revId);
    // Superseded: the newer revision has its own sequence and is (or will be) announced.
    if (verdict === 'superseded') this.release(docId, { skipped: true });
    else if (verdict === 'peerHasIt') {
      this.remoteRevs.note(docId, revId);
      this.release(docId, { skipped: true });
    } else if (verdict === 'retry') {
      const held = this.held.take(docId)!;
      // Back in flight: a failure reported earlier no longer counts as finished.
      if (held.reported) this.completed--;
      this.reproposals.push({ change: held.change, serverRev: revId });
      this.pump();
    }
  }

  /** Fails every held conflict not yet reported (the run learned nothing that lets it retry them). */
  failHeldConflicts(): void {
    for (const change of this.held.takeUnreported()) {
      this.finish(change, { error: { code: ProposeStatus.conflict, message: CONFLICT_MESSAGE } }, false);
    }
  }

  private release(docId: string, outcome: { skipped?: boolean }): void {
    const h = this.held.take(docId);
    if (!h) return;
    // A reported failure was counted already; only its sequence remains to complete.
    this.finish(h.change, outcome, true, !h.reported);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.remoteRevs.flush();
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.reproposals.length > 0 && this.listsInFlight < Tuning.maxChangeListsInFlight) this.repropose();
    while (!this.feedExhausted && !this.reading && this.listsInFlight < Tuning.maxChangeListsInFlight && this.revQueue.length < 600) {
      this.readBatch();
    }
    this.pumpRevs();
    this.checkCaughtUp();
  }

  private readBatch(): void {
    const batchSize = this.options.batchSize ?? Tuning.changesBatchSize;
    const changes = this.collection.changesSince(this.lastRead, {
      limit: batchSize,
      ...(this.options.docIds ? { docIds: this.options.docIds } : {}),
      ...(this.options.activeOnly ? { activeOnly: true } : {}),
    });
    if (changes.length === 0) {
      this.feedExhausted = true;
      if (this.options.mode === 'changes' && !this.sentCaughtUp) {
        // An empty `changes` tells the puller it has caught up with the existing changes.
        this.sentCaughtUp = true;
        this.send({ profile: Profile.changes, properties: this.collProps(), body: '[]', noReply: true });
      }
      return;
    }
    this.lastRead = changes[changes.length - 1]!.sequence;
    // Revisions the peer is known to have (e.g. just pulled from it) are not offered back.
    const onPeer =
      this.options.remoteId === undefined
        ? undefined
        : this.collection.getRemoteRevs(
            this.options.remoteId,
            changes.map((c) => c.docId),
          );
    const announced: Change[] = [];
    for (const ch of changes) {
      this.tracker.add(ch.sequence);
      // A newer local revision supersedes one held after a conflict.
      if (this.held.size > 0) this.release(ch.docId, { skipped: true });
      if (onPeer?.get(ch.docId) === ch.revId && (this.options.peerKnows?.(ch.docId, ch.revId) ?? true)) {
        this.finish(ch, { skipped: true }, true, false);
        continue;
      }
      if (this.options.filter && !this.passesFilter(ch)) {
        this.finish(ch, { skipped: true }, true, false);
        continue;
      }
      announced.push(ch);
    }
    if (announced.length === 0) return;
    this.total += announced.length;
    this.emit('progress');
    this.listsInFlight++;
    this.reading = true;
    const sent = this.options.mode === 'changes' ? this.sendChanges(announced) : this.sendProposals(announced, this.parentGuesses(announced, onPeer));
    this.reading = false;
    sent.then(
      () => {
        this.listsInFlight--;
        this.pump();
      },
      (e: unknown) => this.fail(e),
    );
  }

  /**
   * The revision to name as the peer's current one in each proposal. What the peer was recorded
   * to have is the guess; when that record is not trusted and names the very revision proposed,
   * its parent is the better guess (the peer may have lost the newest revision).
   */
  private parentGuesses(announced: readonly Change[], onPeer: ReadonlyMap<string, string> | undefined): Map<string, string> {
    const guesses = new Map<string, string>();
    if (!onPeer) return guesses;
    for (const ch of announced) {
      const recorded = onPeer.get(ch.docId);
      if (recorded === undefined) continue;
      if (recorded !== ch.revId) guesses.set(ch.docId, recorded);
      else {
        const parent = this.collection.getAncestry(ch.docId, ch.revId, 2)?.[1];
        if (parent) guesses.set(ch.docId, parent);
      }
    }
    return guesses;
  }

  private passesFilter(ch: Change): boolean {
    const doc = this.collection.get(ch.docId, { includeDeleted: true });
    if (!doc) return false;
    try {
      return this.options.filter!(doc);
    } catch {
      return false;
    }
  }

  private async sendChanges(changes: Change[]): Promise<void> {
    const body: ChangeEntry[] = changes.map((c) => (c.deleted ? [c.sequence, c.docId, c.revId, 1, c.bodySize] : [c.sequence, c.docId, c.revId, 0, c.bodySize]));
    const reply = await this.request(Profile.changes, body);
    if (!reply) return;
    const wanted = parseArrayReply(reply) as ChangesReplyEntry[];
    changes.forEach((c, i) => {
      const w = wanted[i];
      if (Array.isArray(w)) this.revQueue.push({ change: c, known: w.filter((x): x is string => typeof x === 'string') });
      else this.finish(c, { skipped: true });
    });
  }

  private repropose(): void {
    const batch = this.reproposals.splice(0, this.options.batchSize ?? Tuning.changesBatchSize);
    this.listsInFlight++;
    this.sendProposals(
      batch.map((r) => r.change),
      new Map(batch.map((r) => [r.change.docId, r.serverRev])),
    ).then(
      () => {
        this.listsInFlight--;
        this.pump();
      },
      (e: unknown) => this.fail(e),
    );
  }

  /** `serverRevs`: the peer's current revision of each document, as far as we know (read with the batch). */
  private async sendProposals(changes: Change[], serverRevs: ReadonlyMap<string, string>): Promise<void> {
    const body: ProposedChange[] = changes.map((c) => [c.docId, c.revId, serverRevs.get(c.docId) ?? '', c.bodySize]);
    const reply = await this.request(Profile.proposeChanges, body);
    if (!reply) return;
    const statuses = parseArrayReply(reply);
    changes.forEach((c, i) => {
      const status = statuses[i] ?? 0;
      if (status === ProposeStatus.send || status === null) {
        const server = serverRevs.get(c.docId);
        this.revQueue.push({ change: c, known: server ? [server] : [] });
      } else if (status === ProposeStatus.haveIt) {
        this.remoteRevs.note(c.docId, c.revId);
        this.finish(c, { skipped: true });
      } else if (status === ProposeStatus.conflict && serverRevs.get(c.docId)) {
        // The peer no longer has the revision we named (it purged the document, or lost it):
        // forget it and propose once more as a new document, which a peer without it accepts.
        this.remoteRevs.forget(c.docId);
        this.reproposals.push({ change: c, serverRev: '' });
      } else if (status === ProposeStatus.conflict && this.options.holdConflicts) {
        this.held.hold(c);
      } else {
        const code = typeof status === 'number' ? status : 500;
        // Never checkpointed: the next run proposes it again.
        this.finish(c, { error: { code, message: code === ProposeStatus.conflict ? CONFLICT_MESSAGE : `refused by the peer (${code})` } }, false);
      }
    });
  }

  private pumpRevs(): void {
    while (!this.stopped && this.revQueue.length > 0 && this.revsInFlight < Tuning.maxRevsInFlight && this.bytesInFlight < Tuning.maxRevBytesAwaitingReply) {
      const item = this.revQueue.shift()!;
      this.sendRev(item);
    }
  }

  private sendRev({ change, known }: QueuedRev): void {
    const current = this.collection.readForSending(change.docId, Tuning.maxHistory);
    if (!current || current.revId !== change.revId) {
      // Superseded (or purged) since it was announced: the newer revision has a later sequence
      // and will be announced in its turn. Tell the peer not to wait for this one.
      this.send({
        profile: Profile.norev,
        properties: { ...this.collProps(), [Prop.id]: change.docId, [Prop.rev]: change.revId, [Prop.sequence]: JSON.stringify(change.sequence), [Prop.error]: '404', [Prop.reason]: 'superseded' },
        noReply: true,
      });
      this.finish(change, { skipped: true });
      return;
    }
    // History stops at the first revision the peer is known to have: it can attach from there.
    const history: string[] = [];
    for (const rev of current.history) {
      history.push(rev);
      if (known.includes(rev)) break;
    }
    const props: Record<string, string> = { ...this.collProps(), [Prop.id]: change.docId, [Prop.rev]: change.revId, [Prop.sequence]: JSON.stringify(change.sequence) };
    if (history.length > 0) props[Prop.history] = history.join(',');
    if (current.deleted) props[Prop.deleted] = 'true';
    // As in LiteCore: at most 10 revs being transmitted; once sent, a rev counts against the 2 MiB
    // of bytes awaiting replies (the receiver replies only after a batched, durable insert).
    const size = current.bytes;
    this.revsInFlight++;
    this.awaitingReplies++;
    let sent = false;
    const onSent = (): void => {
      sent = true;
      this.revsInFlight--;
      this.bytesInFlight += size;
      this.pump();
    };
    const settle = (): void => {
      this.awaitingReplies--;
      if (sent) this.bytesInFlight -= size;
      else this.revsInFlight--;
    };
    this.conn.request({ profile: Profile.rev, properties: props, body: current.json, onSent, compressed: false }).then(
      () => {
        settle();
        this.remoteRevs.note(change.docId, change.revId);
        this.finish(change, {});
        this.pump();
      },
      (e: unknown) => {
        settle();
        if (e instanceof BlipError && e.code === ProposeStatus.conflict && this.options.holdConflicts) {
          // The peer's document moved on after it accepted the proposal: wait for the pull, as above.
          this.held.hold(change);
          this.pump();
        } else if (e instanceof BlipError) {
          // Refused or failed on the peer: not checkpointed, so the next run sends it again.
          this.finish(change, { error: { code: e.code, message: e.message } }, false);
          this.pump();
        } else {
          this.fail(e);
        }
      },
    );
  }

  /**
   * Ends one change. `counted` = it was announced (part of `total`); a change that did not reach
   * the peer is not `checkpointable`, so the checkpoint never moves past it and the next run retries it.
   */
  private finish(change: Change, outcome: DocumentOutcome, checkpointable = true, counted = true): void {
    if (checkpointable) {
      const before = this.tracker.safe;
      this.tracker.complete(change.sequence);
      if (this.tracker.safe !== before && this.tracker.safe !== undefined) this.emit('checkpoint', this.tracker.safe);
    }
    if (counted) this.completed++;
    this.emit('documentEnded', documentEnded('push', this.collection.fullName, change, outcome));
    this.emit('progress');
  }

  private checkCaughtUp(): void {
    const now = this.isCaughtUp;
    if (now && !this.wasCaughtUp) {
      this.remoteRevs.flush();
      this.emit('caughtUp');
    }
    this.wasCaughtUp = now;
  }

  private collProps(): Record<string, string> {
    return this.options.collectionIndex === undefined ? {} : { [Prop.collection]: String(this.options.collectionIndex) };
  }

  private async request(profile: string, body: unknown): Promise<IncomingReply | undefined> {
    if (this.stopped) return undefined;
    return this.conn.request({ profile, properties: this.collProps(), body: JSON.stringify(body), urgent: true, compressed: false });
  }

  private send(msg: Parameters<BlipConnection['sendNoReply']>[0]): void {
    try {
      this.conn.sendNoReply(msg);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.emit('failed', e instanceof Error ? e : new Error(String(e)));
  }
}

const CONFLICT_MESSAGE = 'conflict: the peer has a different current revision';

function parseArrayReply(reply: IncomingReply): (ChangesReplyEntry | number)[] {
  if (reply.body.length === 0) return [];
  const v: unknown = reply.json();
  if (!Array.isArray(v)) throw new BlipError('BLIP', 400, 'reply body must be a JSON array');
  return v as (ChangesReplyEntry | number)[];
}
