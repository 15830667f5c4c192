/**
 * The seeded side of the fuzz suite: a small deterministic PRNG, the iteration/time budget read
 * from the environment, a loop that names the seed of whatever iteration failed, and guards that
 * turn stray unhandled rejections and leftover timers into test failures.
 *
 *   PEERSYNC_FUZZ_SEED=<n>        base seed (default: random, printed on failure)
 *   PEERSYNC_FUZZ_ITERATIONS=<n>  iterations per target (default: each target's small CI budget)
 *   PEERSYNC_FUZZ_TIME_MS=<n>     wall-clock cap per target (default 8 s, or 10 min with ITERATIONS)
 *
 * Iteration i of a target runs with seed base+i, and every target starts again from the base
 * seed, so `PEERSYNC_FUZZ_SEED=<base> PEERSYNC_FUZZ_ITERATIONS=<i+1>` replays a failure exactly.
 */
import type { TestContext } from 'node:test';

/** mulberry32: one 32-bit word of state, fast and reproducible (not cryptographic). */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 0x6d2b79f5;
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let r = this.int(total);
    for (const [w, value] of choices) {
      if (r < w) return value;
      r -= w;
    }
    return (choices[choices.length - 1] as readonly [number, T])[1];
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A size biased towards small values, sometimes large: most bugs hide at the edges. */
  size(max: number): number {
    return this.weighted([
      [6, this.int(Math.min(max, 16) + 1)],
      [3, this.int(Math.min(max, 512) + 1)],
      [1, this.int(max + 1)],
    ]);
  }
}

export interface FuzzBudget {
  readonly baseSeed: number;
  readonly iterations: number;
  readonly timeMs: number;
  /** True when the environment asked for a large run. */
  readonly large: boolean;
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Chosen once per process, so every target in a file shares the seed that gets printed. */
const processSeed = envInt('PEERSYNC_FUZZ_SEED') ?? Math.floor(Math.random() * 0x1_0000_0000) >>> 0;

/** The budget of one target: its small default, or what the environment asks for. */
export function fuzzBudget(defaultIterations: number): FuzzBudget {
  const iterations = envInt('PEERSYNC_FUZZ_ITERATIONS');
  const large = iterations !== undefined;
  return {
    baseSeed: processSeed,
    iterations: iterations ?? defaultIterations,
    timeMs: envInt('PEERSYNC_FUZZ_TIME_MS') ?? (large ? 10 * 60_000 : 8_000),
    large,
  };
}

/** Wraps a failure with what it takes to replay it. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
  constructor(target: string, budget: FuzzBudget, iteration: number, cause: unknown) {
    const why = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
    super(
      `fuzz target "${target}" failed at iteration ${iteration} (seed ${budget.baseSeed + iteration}, base seed ${budget.baseSeed})\n` +
        `replay: PEERSYNC_FUZZ_SEED=${budget.baseSeed} PEERSYNC_FUZZ_ITERATIONS=${iteration + 1}\n${why}`,
      { cause },
    );
  }
}

/**
 * Runs `body` once per iteration with its own Rng until the iteration count or the time cap is
 * reached (whichever first). Returns how many iterations ran.
 */
export async function fuzzLoop(t: TestContext, target: string, defaultIterations: number, body: (rng: Rng, iteration: number) => Promise<void> | void): Promise<number> {
  const budget = fuzzBudget(defaultIterations);
  const deadline = performance.now() + budget.timeMs;
  let i = 0;
  for (; i < budget.iterations && performance.now() < deadline; i++) {
    try {
      await body(new Rng((budget.baseSeed + i) >>> 0), i);
    } catch (err) {
      throw new FuzzFailure(target, budget, i, err);
    }
  }
  t.diagnostic(`${target}: ${i} iterations, base seed ${budget.baseSeed}`);
  return i;
}

/**
 * Records unhandled rejections and uncaught exceptions while a test runs; `check()` throws if
 * any happened. Installed per test and removed after it.
 */
export function guardProcess(t: TestContext): { check(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onRejection);
  t.after(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onRejection);
  });
  return {
    check(): void {
      if (seen.length > 0) {
        const first = seen[0];
        throw new Error(`${seen.length} unhandled rejection(s)/exception(s); first: ${first instanceof Error ? (first.stack ?? first.message) : String(first)}`);
      }
    },
  };
}

/** Pending timers of the process (Node's own resource list). */
export function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** Lets queued microtasks, immediates and I/O callbacks run: a few turns of the event loop, no timer. */
export async function drainEventLoop(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
