/**
 * The queue of outgoing messages that have frames ready to send. Each turn the head message sends
 * one frame and, if it has more, goes back into the queue, which gives round-robin multiplexing.
 * Urgent messages jump ahead (BLIP spec §3.2) without starving normal ones and without letting a
 * new message start before an older one that has not started yet (the receiver insists that
 * requests begin in number order).
 */

export interface Schedulable {
  readonly urgent: boolean;
  /**
   * Whether this item may be placed ahead of messages that have not sent a frame yet. True once
   * a message has sent its first frame; also true for items (ACKs) that do not begin a message.
   */
  readonly started: boolean;
}

export class Outbox<T extends Schedulable> {
  private readonly items: T[] = [];
  /** Kept as a count: hasUrgent() is asked before every frame. */
  private urgentItems = 0;

  get length(): number {
    return this.items.length;
  }

  hasUrgent(): boolean {
    return this.urgentItems > 0;
  }

  shift(): T | undefined {
    const item = this.items.shift();
    if (item?.urgent) this.urgentItems--;
    return item;
  }

  includes(item: T): boolean {
    return this.items.includes(item);
  }

  clear(): void {
    this.items.length = 0;
    this.urgentItems = 0;
  }

  toArray(): readonly T[] {
    return [...this.items];
  }

  enqueue(item: T): void {
    const at = this.insertionIndex(item);
    if (at === this.items.length) this.items.push(item);
    else this.items.splice(at, 0, item);
    if (item.urgent) this.urgentItems++;
  }

  private insertionIndex(item: T): number {
    const items = this.items;
    // Normal messages queue at the tail; with zero or one message queued there is no choice.
    if (!item.urgent || items.length <= 1) return items.length;
    for (let i = items.length - 1; i >= 0; i--) {
      const other = items[i] as T;
      if (other.urgent) {
        // Behind the last urgent message, but let one normal message (if any) go in between so
        // a stream of urgent traffic cannot starve normal traffic.
        return i + 1 < items.length ? i + 2 : i + 1;
      }
      if (!item.started && !other.started) {
        // A new message may not overtake a message that has not begun sending.
        return i + 1;
      }
    }
    // No urgent message queued: go right after the head.
    return 1;
  }
}
