import { BlipError, type BlipReply } from '../blip';
import type { Collection, Database } from '../store';
import { storeToBlip } from '../error-mapping';
import type { ValidBody } from '../store/document-body';
import { Tuning, type RevMessage } from './protocol';

/** How one revision of a durable batch fared: refused (alone), or saved, possibly as a conflict. */
export type InsertOutcome = BlipError | { readonly conflicted: boolean };

export interface InserterOptions {
  readonly db: Database;
  /**
   * Accept only revisions that extend the current one (or new documents): a listener refuses
   * conflicts, while a puller keeps them for resolution.
   */
  readonly onlyExtending: boolean;
  /** The peer's key in remote_revs (active side): what is saved from the peer, the peer has. */
  readonly remoteId?: number | undefined;
  /** The peer has this revision as its current one; called inside the inserting transaction (it must not write). */
  readonly onPeerRevision?: ((collection: Collection, docId: string, revId: string) => void) | undefined;
  /**
   * Each revision's outcome, in the order received, once its batch is durable and its reply
   * settled. Not called when the whole batch could not be saved, nor after `close`.
   */
  readonly onInserted: (collection: Collection, rev: RevMessage, outcome: InsertOutcome) => void;
}

interface PendingInsert {
  readonly collection: Collection;
  /** Loses its body and history once inserted (see flush). */
  rev: RevMessage;
  body: ValidBody | undefined;
  readonly resolve: () => void;
  readonly reject: (e: BlipError) => void;
}

/**
 * Saves received revisions in batches, as LiteCore's Inserter: 100 revisions or what arrived in
 * one I/O turn, one store transaction per batch. A revision's `rev` is answered only after its
 * batch is durable, so the sender may checkpoint it.
 */
export class Inserter {
  private queue: PendingInsert[] = [];
  private flushSoon = false;
  private closed = false;

  constructor(private readonly options: InserterOptions) {}

  /** Revisions waiting for their batch. */
  get pending(): number {
    return this.queue.length;
  }

  hasPending(collection: Collection): boolean {
    return this.queue.some((q) => q.collection === collection);
  }

  /** Queues a validated revision; the promise settles as the `rev` reply, once it is durable. */
  insert(collection: Collection, rev: RevMessage, body: ValidBody): Promise<BlipReply | undefined> {
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

  /** Refuses what is still queued (503): the peer sends it again on its next run. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const pending = this.queue;
    this.queue = [];
    for (const p of pending) p.reject(new BlipError('HTTP', 503, 'replication stopped'));
  }

  /** Saves the queued revisions in one transaction, then answers each (after it is durable). */
  private flush(): void {
    this.flushSoon = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: (InsertOutcome | undefined)[] = new Array(batch.length);
    const remoteRevs = new Map<Collection, [string, string][]>();
    try {
      // Durability deferred: the next batch can be inserted while the fsync runs, and one fsync
      // covers several batches. Replies wait for it (below).
      this.options.db.inBatch(
        () => {
          batch.forEach((item, i) => {
            const { rev, collection } = item;
            try {
              // A listener accepts only revisions that extend its current one (or documents it does
              // not have), checked at insert time: another revision of the document may have been
              // saved since this one was announced (several clients pushing the same document at once).
              const out = collection.insertRevisionWithHistory(
                { id: rev.docId, validBody: item.body!, deleted: rev.deleted },
                [rev.revId, ...rev.history.slice(0, Tuning.maxHistory)],
                this.options.onlyExtending ? { markConflict: true, onlyExtending: true } : { markConflict: true },
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
        },
        { deferDurability: true },
      );
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

  /** Replies to a batch once it is durable (so the sender may checkpoint it), then reports each outcome. */
  private answer(batch: PendingInsert[], outcomes: (InsertOutcome | undefined)[]): void {
    batch.forEach((item, i) => {
      const outcome = outcomes[i] ?? { conflicted: false };
      if (outcome instanceof BlipError) item.reject(outcome);
      else item.resolve();
      this.options.onInserted(item.collection, item.rev, outcome);
    });
  }
}

const NO_BODY = new Uint8Array(0);
