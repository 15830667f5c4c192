/**
 * Tracks sequences in the order they were announced and which of them are finished, so a
 * checkpoint only ever names a sequence whose every predecessor is done (durable on the other side).
 */
export class SequenceTracker<S> {
  private readonly queue: { seq: S; done: boolean }[] = [];
  private head = 0;
  private readonly byKey = new Map<string, { seq: S; done: boolean }>();
  private safeSeq: S | undefined;

  constructor(
    initial: S | undefined,
    private readonly key: (seq: S) => string = (s) => JSON.stringify(s),
  ) {
    this.safeSeq = initial;
  }

  /** Registers an announced sequence (announce in order). */
  add(seq: S): void {
    const k = this.key(seq);
    if (this.byKey.has(k)) return;
    const entry = { seq, done: false };
    this.queue.push(entry);
    this.byKey.set(k, entry);
  }

  /** Marks a sequence finished; unknown sequences are ignored. */
  complete(seq: S): void {
    const entry = this.byKey.get(this.key(seq));
    if (!entry) return;
    entry.done = true;
    while (this.head < this.queue.length && this.queue[this.head]!.done) {
      const e = this.queue[this.head++]!;
      this.byKey.delete(this.key(e.seq));
      this.safeSeq = e.seq;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  has(seq: S): boolean {
    return this.byKey.has(this.key(seq));
  }

  /** The latest sequence such that it and everything announced before it is finished. */
  get safe(): S | undefined {
    return this.safeSeq;
  }

  /** Announced and not yet finished. */
  get pendingCount(): number {
    return this.byKey.size;
  }
}
