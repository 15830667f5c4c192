/**
 * How often the client may restart a crashed server: at most `maxRestarts` crashes within
 * `windowMs`; one more and it stays down until the user restarts it. No vscode import (unit-tested).
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    readonly maxRestarts = 3,
    readonly windowMs = 3 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash; true when the server may be restarted once more. */
  onCrash(): boolean {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => c > t - this.windowMs);
    this.crashes.push(t);
    return this.crashes.length <= this.maxRestarts;
  }

  get recentCrashes(): number {
    const t = this.now();
    return this.crashes.filter((c) => c > t - this.windowMs).length;
  }

  /** A deliberate restart (the user's) starts counting afresh. */
  reset(): void {
    this.crashes = [];
  }
}
