/** A one-line progress bar for terminals; silent when output is not a TTY. */
export class ProgressBar {
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total?: number, unit = 'docs'): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 80 && (total === undefined || done < total)) return;
    this.lastDraw = now;
    let text: string;
    if (total && total > 0) {
      const frac = Math.min(1, done / total);
      const width = 30;
      const filled = Math.round(frac * width);
      text = `${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(frac * 100).toFixed(0)}%`;
    } else {
      text = `${this.label} ${done} ${unit}`;
    }
    this.stream.write(`\r${text}\x1b[K`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
