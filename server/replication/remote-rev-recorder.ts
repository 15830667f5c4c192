import type { Collection } from '../store';

/**
 * Keeps a collection's remote_revs in step with what the peer accepted from a push, so a later
 * push can skip what the peer has and send history only down to the revision it holds.
 */
export class RemoteRevRecorder {
  private buffer: [string, string][] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  /** `remoteId` undefined: nothing is recorded (a passive peer does not track its clients). */
  constructor(
    private readonly collection: Collection,
    private readonly remoteId: number | undefined,
  ) {}

  /** The peer now has `revId` as its current revision of the document. */
  note(docId: string, revId: string): void {
    if (this.remoteId === undefined) return;
    this.buffer.push([docId, revId]);
    // Written in bulk (each write is a journal fsync); losing the last second of these in a crash
    // only means the next push sends a little more history.
    if (this.buffer.length >= 2000) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), 1000);
  }

  /** Records what the peer accepted in one transaction per burst (one journal fsync, not one per document). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const entries = this.buffer;
    this.buffer = [];
    if (entries.length === 0 || this.remoteId === undefined) return;
    try {
      this.collection.setRemoteRevs(this.remoteId, entries);
    } catch {
      // Only an optimisation for the next push (it would otherwise send more history); never fatal.
    }
  }

  /** The peer's current revision is not the one recorded: forget it, so no later run trusts it. */
  forget(docId: string): void {
    if (this.remoteId === undefined) return;
    try {
      this.collection.forgetRemoteRev(this.remoteId, docId);
    } catch {
      // The next proposal is refused again and forgets it then.
    }
  }
}
