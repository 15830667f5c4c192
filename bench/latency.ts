/**
 * Shared by the latency cases (PeerSync's in bench/repl-cases.ts, PouchDB's in bench/pouch-cases.ts):
 * percentiles, timeouts, per-document arrival promises and the one-change-at-a-time loop.
 */
import { round, sized, type BenchConfig, type BenchContext } from './harness';
import type { JsonObject } from '../server/store';

export const QUICK_LATENCY_N = 100;
export const FULL_LATENCY_N = 1_000;
const SMOKE_LATENCY_N = 10;
/** Untimed changes before the measured ones (JIT warm-up of both peers), reported in `extra`. */
export const LATENCY_WARMUP = 20;
/**
 * How long one change may take to arrive before the case fails: a guard against a hang, not a
 * measure (a busy machine can stall a process for seconds).
 */
export const CHANGE_TIMEOUT_MS = 120_000;

export function latencyN(config: BenchConfig): number {
  return sized(config, { full: FULL_LATENCY_N, quick: QUICK_LATENCY_N, smoke: SMOKE_LATENCY_N });
}

export function latencyBody(i: number): JsonObject {
  return { type: 'latency', seq: i, note: 'one small change' };
}

export function latencyDocId(i: number): string {
  return i < 0 ? `warmup-${String(-i).padStart(3, '0')}` : `lat-${String(i).padStart(6, '0')}`;
}

/** Rejects after `ms` with `what` in the message. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function latencyStats(ms: readonly number[]): Record<string, number> {
  const s = [...ms].sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(s, 50), 3),
    p90Ms: round(percentile(s, 90), 3),
    p99Ms: round(percentile(s, 99), 3),
    maxMs: round(s[s.length - 1]!, 3),
    minMs: round(s[0]!, 3),
    meanMs: round(s.reduce((a, b) => a + b, 0) / s.length, 3),
  };
}

/**
 * Runs the timed loop: for each change, `arrival(id)` is armed, then the document saved (`save`,
 * synchronous or a promise), then the arrival (and the save) awaited. Returns the latencies (ms,
 * save call to arrival) of the non-warm-up changes and the loop time.
 */
export async function latencyLoop(
  ctx: BenchContext,
  save: (id: string, body: JsonObject) => unknown,
  n: number,
  arrival: (id: string) => Promise<number>,
  onSaved?: (i: number, wallMs: number) => void,
  warmup = LATENCY_WARMUP,
): Promise<{ latencies: number[]; seconds: number; docBytes: number }> {
  const latencies: number[] = [];
  let bodyBytes = 0;
  let loopStart = 0;
  for (let i = -warmup; i < n; i++) {
    if (i === 0) loopStart = performance.now();
    const id = latencyDocId(i);
    const body = latencyBody(i);
    const arrived = arrival(id);
    const wall0 = Date.now();
    const t0 = performance.now();
    let at: number;
    try {
      const saved = save(id, body);
      if (saved instanceof Promise) [at] = await Promise.all([arrived, saved]);
      else at = await arrived;
    } catch (e) {
      // A failed save leaves its arrival pending: keep it from surfacing as an unhandled rejection.
      arrived.catch(() => undefined);
      throw new Error(`change ${i} (${id}): ${(e as Error).message}`);
    }
    if (i >= 0) {
      latencies.push(at - t0);
      bodyBytes += JSON.stringify(body).length;
      onSaved?.(i, wall0);
    }
    if (i % 50 === 0) ctx.sample();
  }
  return { latencies, seconds: (performance.now() - loopStart) / 1000, docBytes: Math.round(bodyBytes / Math.max(1, n)) };
}

/** Per-document arrival promises, armed before the save, resolved by whoever observes the document. */
export class Arrivals {
  private readonly waiting = new Map<string, { resolve: (at: number) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private failure: Error | undefined;

  constructor(private readonly describe: () => string) {}

  arm(id: string): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`not observed at the destination within ${CHANGE_TIMEOUT_MS} ms\n${this.describe()}`));
      }, CHANGE_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  /** Documents nobody waits for (e.g. seen twice) are ignored. */
  arrived(id: string, at: number): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(at);
  }

  /** Fails every pending and future wait (e.g. the destination process exited). */
  fail(e: Error): void {
    this.failure ??= e;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.reject(e);
    }
  }
}
