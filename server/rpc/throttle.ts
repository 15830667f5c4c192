/**
 * Calls `fn` with the latest value at most once per `intervalMs` per key (the first call goes out
 * at once, later ones are coalesced), so a busy replicator cannot flood the extension.
 */
export class KeyedThrottle<T> {
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, { value: T; timer: NodeJS.Timeout }>();

  constructor(
    private readonly intervalMs: number,
    private readonly fn: (value: T) => void,
  ) {}

  push(key: string, value: T): void {
    const now = Date.now();
    const wait = (this.last.get(key) ?? 0) + this.intervalMs - now;
    const queued = this.pending.get(key);
    if (queued) {
      queued.value = value;
      return;
    }
    if (wait <= 0) {
      this.last.set(key, now);
      this.fn(value);
      return;
    }
    const timer = setTimeout(() => {
      const p = this.pending.get(key)!;
      this.pending.delete(key);
      this.last.set(key, Date.now());
      this.fn(p.value);
    }, wait);
    this.pending.set(key, { value, timer });
  }

  /** Sends what is queued now (e.g. a final "stopped" status). */
  flush(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(key);
    this.last.set(key, Date.now());
    this.fn(p.value);
  }

  dispose(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
