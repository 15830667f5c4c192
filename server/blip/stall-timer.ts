/**
 * Fires once when something has made no progress for `ms`. Each `touch()` restarts the wait; the
 * timer never keeps the process alive. A non-positive or infinite `ms` disables it.
 */
export class StallTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(ms: number, onStall: () => void) {
    if (ms > 0 && Number.isFinite(ms)) {
      this.timer = setTimeout(onStall, ms);
      this.timer.unref();
    }
  }

  touch(): void {
    this.timer?.refresh();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
