/**
 * Documents per second over a sliding window (the dashboard's sparkline), and the sparkline's SVG
 * path. Pure functions: no DOM.
 */

export class RateWindow {
  /** count per whole second, keyed by the second (ms / 1000, floored). */
  private readonly buckets = new Map<number, number>();

  constructor(readonly seconds = 60) {}

  add(timeMs: number, count = 1): void {
    const s = Math.floor(timeMs / 1000);
    this.buckets.set(s, (this.buckets.get(s) ?? 0) + count);
  }

  /** Counts per second for the last `seconds` whole seconds up to `nowMs`, oldest first. */
  series(nowMs: number): number[] {
    const end = Math.floor(nowMs / 1000);
    const start = end - this.seconds + 1;
    for (const s of this.buckets.keys()) if (s < start) this.buckets.delete(s);
    const out: number[] = [];
    for (let s = start; s <= end; s++) out.push(this.buckets.get(s) ?? 0);
    return out;
  }

  /** Average documents per second over the last `window` seconds (the current second excluded, it is still filling). */
  perSecond(nowMs: number, window = 10): number {
    const series = this.series(nowMs);
    const done = series.slice(Math.max(0, series.length - 1 - window), series.length - 1);
    if (done.length === 0) return 0;
    return done.reduce((a, b) => a + b, 0) / done.length;
  }
}

/** An SVG path drawing `values` as a line across width × height (max at the top; all zeros on the baseline). */
export function sparklinePath(values: readonly number[], width: number, height: number): string {
  if (values.length === 0) return '';
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const pad = 1;
  const y = (v: number): number => pad + (height - 2 * pad) * (1 - v / max);
  return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)} ${y(v).toFixed(1)}`).join(' ');
}

/** "in 12 s", "in 3 min 5 s", "now" — time until `atMs`. */
export function formatCountdown(atMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((atMs - nowMs) / 1000));
  if (s === 0) return 'now';
  if (s < 60) return `in ${s} s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return r === 0 ? `in ${m} min` : `in ${m} min ${r} s`;
}
