/**
 * The bench's run modes and the configuration each one runs with, shared by bench/run.ts and the
 * test suite's smoke run (which reads its expectations from here rather than restating them).
 */
import type { BenchConfig } from './harness';

export type BenchMode = 'full' | 'quick' | 'smoke';

/** N of the storage cases per mode (the replication cases size themselves, see BenchCase.n). */
export const STORAGE_N: Readonly<Record<BenchMode, number>> = { full: 100_000, quick: 2_000, smoke: 100 };
export const BATCH_SIZE = 1_000;

export function benchConfig(mode: BenchMode, repoRoot: string, n?: number): BenchConfig {
  return { n: n ?? STORAGE_N[mode], batchSize: BATCH_SIZE, quick: mode !== 'full', smoke: mode === 'smoke', repoRoot };
}

/** Documents of the --quick replication throughput cases (theirs and PouchDB's) in a smoke run. */
export const SMOKE_THROUGHPUT_N = 50;

/** A throughput case's document count: its fixed size, except in a smoke run of a --quick case. */
export function throughputN(n: number, mode: 'quick' | 'full', config: BenchConfig): number {
  return mode === 'quick' && config.smoke ? SMOKE_THROUGHPUT_N : n;
}
