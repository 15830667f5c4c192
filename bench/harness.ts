/**
 * The benchmark runner: a case registry run in sequence, timing/memory helpers, fixtures shared
 * between cases, temp directories that are always removed, and the table/JSON output.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface BenchConfig {
  /** Documents per case. */
  readonly n: number;
  /** Documents per durable transaction (db.inBatch). */
  readonly batchSize: number;
  readonly quick: boolean;
  /**
   * The --quick selection at the smallest sizes that still exercise every code path (the test
   * suite's run): it checks that each case works and reports well-formed results, not its speed.
   */
  readonly smoke: boolean;
  /** Repository root (cwd for child processes so `--import tsx` resolves). */
  readonly repoRoot: string;
}

/** What a case measures; the harness derives docs/s, ratio, memory and the goal verdict. */
export interface Measurement {
  readonly n: number;
  /** Mean document body size (JSON bytes). */
  readonly docBytes: number;
  /** Timed section only (setup and verification are excluded). */
  readonly seconds: number;
  /** Case-specific details (phase timings, file sizes, child-process memory...). */
  readonly extra?: Record<string, number | string | boolean>;
}

export interface Goal {
  /** Which figure is checked: a derived one, or the name of a numeric field of the case's `extra` (e.g. `p50Ms`). */
  readonly metric: 'ratio' | 'seconds' | 'opsPerSec' | (string & {});
  readonly op: '>=' | '<' | '<=';
  readonly target: number;
  /** Printed beside the verdict (e.g. a longer-term target). */
  readonly note?: string;
  /**
   * The figure may be unavailable (an `extra` field that is not a number, e.g. "not measured"): the
   * verdict is then n/a instead of the case failing. Goals on a comparison's key are always optional.
   */
  readonly optional?: boolean;
}

/**
 * A second comparison with another case of the same run (besides `comparator`): the harness writes
 * the ratio into the result's `extra[key]`, or a "not measured" note when `against` has not run
 * (earlier) in this process.
 */
export interface Comparison {
  readonly key: string;
  /** Name of the case compared with; it must run before this one. */
  readonly against: string;
  /** Figure compared: 'opsPerSec' (default) or a numeric field of both cases' `extra` (e.g. 'p50Ms'). */
  readonly metric?: string;
  /** 'higher' (default, throughput): ratio = this / other; 'lower' (latency): ratio = other / this, i.e. how many times lower. */
  readonly better?: 'higher' | 'lower';
}

export interface BenchCase {
  readonly name: string;
  readonly description: string;
  /** Name of the case whose docs/s this one is divided by (`ratio`). */
  readonly comparator?: string;
  /** Further comparisons with earlier cases of the run, reported in `extra` (see Comparison). */
  readonly comparisons?: readonly Comparison[];
  /**
   * A row computed from earlier results (ctx.results) rather than timed: its Measurement may have
   * seconds 0, and docs/s is not reported (0 in the JSON, '-' in the table).
   */
  readonly derived?: boolean;
  /** The figure the README summary shows for this case (default: p50/p99 when reported, else docs/s). */
  figure?(r: CaseResult): string;
  /** One goal, or several (the case passes when all do). */
  readonly goal?: Goal | readonly Goal[];
  /** Run only in this mode (default: both); `--only NAME` runs a case whatever its mode. */
  readonly mode?: 'quick' | 'full';
  /** The N this case runs with when it does not use config.n (fixed-size cases); lets callers know it up front. */
  n?(config: BenchConfig): number;
  /** Fixture keys this case may read; a fixture is disposed once no remaining case uses it. */
  readonly uses?: readonly string[];
  /**
   * Why this case cannot run here (e.g. an external program is not installed), or undefined when it
   * can: the run then reports the case as n/a with that reason instead of failing.
   */
  unavailable?(config: BenchConfig): string | undefined;
  /** Untimed run-up before run() (JIT warm-up), so small --quick runs are not dominated by cold code. */
  warmup?(ctx: BenchContext): Promise<void>;
  run(ctx: BenchContext): Promise<Measurement>;
}

export interface GoalResult {
  readonly description: string;
  /** null when the figure is unavailable, or for the combination of several goals (see `goals`). */
  readonly actual: number | null;
  /** null when the figure is unavailable (e.g. the comparator case was not run). */
  readonly pass: boolean | null;
  readonly note?: string;
}

export interface CaseResult {
  readonly name: string;
  readonly n: number;
  readonly docBytes: number;
  readonly seconds: number;
  /** Documents per second over the timed section. */
  readonly opsPerSec: number;
  /** Highest RSS sampled while the case ran (process.memoryUsage.rss at batch boundaries). */
  readonly peakRssMB: number;
  /** The process's lifetime peak RSS (resourceUsage().maxRSS) when the case ended: monotonic across cases. */
  readonly processMaxRssMB: number;
  readonly comparator: string | null;
  readonly ratio: number | null;
  /** The case's goal; for a case with several, their conjunction (pass only if every one passes). */
  readonly goal: GoalResult | null;
  /** Every goal separately (empty without goals). */
  readonly goals: GoalResult[];
  readonly extra: Record<string, number | string | boolean>;
  /** Present (true) on rows computed from other results instead of timed (BenchCase.derived). */
  readonly derived?: true;
}

/** A case that did not run because it is unavailable on this machine (BenchCase.unavailable). */
export interface CaseSkip {
  readonly name: string;
  readonly skipped: string;
}

export interface CaseFailure {
  readonly name: string;
  readonly error: string;
}

interface Fixture {
  value: unknown;
  dispose: (() => void | Promise<void>) | undefined;
}

export class BenchContext {
  private readonly fixtures = new Map<string, Fixture>();
  private readonly cleanups: (() => void | Promise<void>)[] = [];
  private peakRss = 0;
  private dirCount = 0;
  readonly tmpRoot: string;
  /** The results of the cases run so far in this process, in order (filled by runCases). */
  readonly results: CaseResult[] = [];

  constructor(readonly config: BenchConfig) {
    this.tmpRoot = mkdtempSync(join(tmpdir(), 'peersync-bench-'));
  }

  /** A fresh, empty directory under the run's temp root (removed at the end of the run). */
  tempDir(label: string): string {
    const dir = join(this.tmpRoot, `${String(++this.dirCount).padStart(2, '0')}-${label}`);
    mkdirSync(dir);
    return dir;
  }

  /** Records the current RSS; cases call this at batch boundaries (synchronous work starves timers). */
  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
  }

  /** Starts a new per-case peak. */
  resetPeak(): void {
    this.peakRss = 0;
    this.sample();
  }

  get peakRssMB(): number {
    return this.peakRss / (1024 * 1024);
  }

  /** The result of an earlier case of this run, if it ran (and did not fail). */
  result(name: string): CaseResult | undefined {
    return this.results.find((r) => r.name === name);
  }

  /** A shared value built on first use (untimed by whoever asks for it) and reused by later cases. */
  async fixture<T>(key: string, build: () => Promise<{ value: T; dispose?: () => void | Promise<void> }>): Promise<T> {
    const existing = this.fixtures.get(key);
    if (existing) return existing.value as T;
    const built = await build();
    this.fixtures.set(key, { value: built.value, dispose: built.dispose });
    return built.value;
  }

  /** Registers a value a case produced as a side effect (e.g. the database it filled). */
  provide<T>(key: string, value: T, dispose?: () => void | Promise<void>): void {
    if (this.fixtures.has(key)) throw new Error(`fixture ${key} already exists`);
    this.fixtures.set(key, { value, dispose });
  }

  /** Disposes fixtures whose key is not in `keep`. */
  async releaseFixtures(keep: ReadonlySet<string>): Promise<void> {
    for (const [key, f] of [...this.fixtures]) {
      if (keep.has(key)) continue;
      this.fixtures.delete(key);
      await f.dispose?.();
    }
  }

  /** Work to do at the end of the run, before the temp root is removed (runs last-in first-out). */
  onCleanup(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** Disposes everything and removes the temp root; never throws (reports problems on stderr). */
  async dispose(): Promise<void> {
    try {
      await this.releaseFixtures(new Set());
    } catch (e) {
      process.stderr.write(`bench: disposing fixtures failed: ${(e as Error).message}\n`);
    }
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        process.stderr.write(`bench: cleanup failed: ${(e as Error).message}\n`);
      }
    }
    this.removeTmpRoot();
  }

  /** Synchronous last resort (signal handlers, process 'exit'). */
  removeTmpRoot(): void {
    try {
      rmSync(this.tmpRoot, { recursive: true, force: true });
    } catch (e) {
      process.stderr.write(`bench: could not remove ${this.tmpRoot}: ${(e as Error).message}\n`);
    }
  }
}

/** A case's size for the run's mode: full, --quick, or the test suite's smoke run. */
export function sized<T>(config: BenchConfig, sizes: { readonly full: T; readonly quick: T; readonly smoke: T }): T {
  return config.smoke ? sizes.smoke : config.quick ? sizes.quick : sizes.full;
}

/** Seconds elapsed since `start` (a process.hrtime.bigint() reading). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export function now(): bigint {
  return process.hrtime.bigint();
}

export function maxRssMB(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in kilobytes
}

function goalText(g: Goal): string {
  return `${g.metric} ${g.op} ${g.target}`;
}

function checkGoal(g: Goal, actual: number | null): GoalResult {
  const note = g.note === undefined ? {} : { note: g.note };
  if (actual === null) return { description: goalText(g), actual, pass: null, ...note };
  const pass = g.op === '>=' ? actual >= g.target : g.op === '<=' ? actual <= g.target : actual < g.target;
  return { description: goalText(g), actual: round(actual, 4), pass, ...note };
}

/** A figure of a result: docs/s, seconds, or a numeric `extra` field (undefined if absent). */
function figureOf(r: CaseResult, metric: string): number | undefined {
  if (metric === 'opsPerSec') return r.opsPerSec;
  if (metric === 'seconds') return r.seconds;
  const v = r.extra[metric];
  return typeof v === 'number' ? v : undefined;
}

/** The comparisons of a case, as `extra` fields: the ratio, or why it is missing. */
function compare(c: BenchCase, mine: CaseResult, earlier: readonly CaseResult[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const cmp of c.comparisons ?? []) {
    const metric = cmp.metric ?? 'opsPerSec';
    const other = earlier.find((r) => r.name === cmp.against);
    const a = figureOf(mine, metric);
    const b = other ? figureOf(other, metric) : undefined;
    if (!other) out[cmp.key] = `not measured (${cmp.against} did not run before this case)`;
    else if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) out[cmp.key] = `not measured (no ${metric} to compare)`;
    else out[cmp.key] = round(cmp.better === 'lower' ? b / a : a / b, 3);
  }
  return out;
}

/** All goals as one: pass only if each passes (null if any is unknown). */
function combineGoals(goals: readonly GoalResult[]): GoalResult | null {
  if (goals.length === 0) return null;
  if (goals.length === 1) return goals[0]!;
  const pass = goals.some((g) => g.pass === false) ? false : goals.some((g) => g.pass === null) ? null : true;
  return { description: goals.map((g) => g.description).join(' and '), actual: null, pass };
}

/** The cases a run executes: those of its mode (quick or full), or exactly the ones named with --only. */
export function selectCases(all: readonly BenchCase[], quick: boolean, only: readonly string[] = []): BenchCase[] {
  if (only.length > 0) return all.filter((c) => only.includes(c.name));
  return all.filter((c) => c.mode === undefined || c.mode === (quick ? 'quick' : 'full'));
}

export interface RunHooks {
  onStart?(c: BenchCase): void;
  onResult?(r: CaseResult): void;
  onFailure?(f: CaseFailure): void;
  onSkip?(s: CaseSkip): void;
}

/** Runs the cases in order; a failing case is reported and the run continues. */
export async function runCases(ctx: BenchContext, cases: readonly BenchCase[], hooks: RunHooks = {}): Promise<{ results: CaseResult[]; failures: CaseFailure[]; skipped: CaseSkip[] }> {
  const results: CaseResult[] = [];
  const failures: CaseFailure[] = [];
  const skipped: CaseSkip[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const reason = c.unavailable?.(ctx.config);
    if (reason !== undefined) {
      const s: CaseSkip = { name: c.name, skipped: reason };
      skipped.push(s);
      hooks.onSkip?.(s);
      continue;
    }
    hooks.onStart?.(c);
    try {
      await c.warmup?.(ctx);
      ctx.resetPeak();
      const m = await c.run(ctx);
      ctx.sample();
      const derived = c.derived === true;
      if (!derived && (!(m.seconds > 0) || !Number.isFinite(m.seconds))) throw new Error(`case measured a non-positive time (${m.seconds} s)`);
      const opsPerSec = derived || !(m.seconds > 0) ? 0 : m.n / m.seconds;
      const comp = c.comparator === undefined ? undefined : results.find((r) => r.name === c.comparator);
      const ratio = comp && !derived && comp.opsPerSec > 0 ? opsPerSec / comp.opsPerSec : null;
      const base: CaseResult = {
        name: c.name,
        n: m.n,
        docBytes: m.docBytes,
        seconds: round(m.seconds, 4),
        opsPerSec: Math.round(opsPerSec),
        peakRssMB: round(ctx.peakRssMB, 1),
        processMaxRssMB: round(maxRssMB(), 1),
        comparator: c.comparator ?? null,
        ratio: ratio === null ? null : round(ratio, 3),
        goal: null,
        goals: [],
        extra: m.extra ?? {},
        ...(derived ? { derived: true as const } : {}),
      };
      const extra = { ...base.extra, ...compare(c, base, results) };
      const comparisonKeys = new Set((c.comparisons ?? []).map((x) => x.key));
      const goals: GoalResult[] = [];
      for (const g of c.goal === undefined ? [] : Array.isArray(c.goal) ? (c.goal as readonly Goal[]) : [c.goal as Goal]) {
        let actual: number | null;
        if (g.metric === 'ratio') actual = ratio;
        else if (g.metric === 'seconds') actual = m.seconds;
        else if (g.metric === 'opsPerSec') actual = opsPerSec;
        else {
          const v = extra[g.metric];
          if (typeof v === 'number') actual = v;
          else if (g.optional || comparisonKeys.has(g.metric)) actual = null;
          else throw new Error(`goal metric ${g.metric} is not a number in the case's extra (${JSON.stringify(v)})`);
        }
        goals.push(checkGoal(g, actual));
      }
      const r: CaseResult = { ...base, goal: combineGoals(goals), goals, extra };
      results.push(r);
      ctx.results.push(r);
      hooks.onResult?.(r);
    } catch (e) {
      const f: CaseFailure = { name: c.name, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      failures.push(f);
      hooks.onFailure?.(f);
    }
    const stillNeeded = new Set(cases.slice(i + 1).flatMap((later) => later.uses ?? []));
    await ctx.releaseFixtures(stillNeeded);
  }
  return { results, failures, skipped };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---- output ----

const COLUMNS: { title: string; right: boolean; cell: (r: CaseResult) => string }[] = [
  { title: 'case', right: false, cell: (r) => r.name },
  { title: 'n', right: true, cell: (r) => r.n.toLocaleString('en-US') },
  { title: 'doc B', right: true, cell: (r) => String(r.docBytes) },
  { title: 'seconds', right: true, cell: (r) => (r.derived ? '-' : r.seconds.toFixed(3)) },
  { title: 'docs/s', right: true, cell: (r) => (r.derived ? '-' : r.opsPerSec.toLocaleString('en-US')) },
  { title: 'peak RSS MB', right: true, cell: (r) => r.peakRssMB.toFixed(1) },
  { title: 'ratio', right: true, cell: (r) => (r.ratio === null ? '-' : r.ratio.toFixed(3)) },
  { title: 'goal', right: false, cell: (r) => r.goal?.description ?? '-' },
  { title: 'result', right: false, cell: (r) => (r.goal ? (r.goal.pass === null ? 'n/a' : r.goal.pass ? 'PASS' : 'FAIL') : '-') },
];

const WIDTHS = [20, 9, 6, 9, 11, 12, 7, 24, 6];

function pad(s: string, w: number, right: boolean): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

export function tableHeader(): string {
  const head = COLUMNS.map((c, i) => pad(c.title, WIDTHS[i]!, c.right)).join(' | ');
  return `${head}\n${WIDTHS.map((w) => '-'.repeat(w)).join('-+-')}`;
}

export function tableRow(r: CaseResult): string {
  return COLUMNS.map((c, i) => pad(c.cell(r), WIDTHS[i]!, c.right)).join(' | ');
}

/** One grep-able line per case: `BENCH {json}`. */
export const JSON_PREFIX = 'BENCH ';
/** Machine description line: `BENCH-MACHINE {json}`. */
export const MACHINE_PREFIX = 'BENCH-MACHINE ';

// ---- the compact summary (a Markdown table the README can quote) ----

function num(x: number, digits = 1): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** The default figure of a row: p50/p99 for latency cases, docs/s for the others. */
function defaultFigure(r: CaseResult): string {
  const p50 = r.extra['p50Ms'];
  const p99 = r.extra['p99Ms'];
  if (typeof p50 === 'number' && typeof p99 === 'number') return `p50 ${num(p50, 2)} ms, p99 ${num(p99, 2)} ms`;
  if (r.derived) return '-';
  return `${num(r.opsPerSec, 0)} docs/s`;
}

function comparisonsText(c: BenchCase | undefined, r: CaseResult): string {
  const parts: string[] = [];
  if (r.comparator !== null) parts.push(r.ratio === null ? `vs ${r.comparator}: n/a` : `${num(r.ratio, 2)}× ${r.comparator}`);
  for (const cmp of c?.comparisons ?? []) {
    const v = r.extra[cmp.key];
    parts.push(typeof v === 'number' ? `${cmp.key} ${num(v, 2)}×` : `${cmp.key} n/a`);
  }
  return parts.length > 0 ? parts.join('; ') : '-';
}

function verdictText(r: CaseResult): string {
  if (r.goals.length === 0) return '-';
  const failed = r.goals.filter((g) => g.pass === false).length;
  const unknown = r.goals.filter((g) => g.pass === null).length;
  const na = unknown > 0 ? `, ${unknown} n/a` : '';
  if (failed > 0) return `FAIL (${failed} of ${r.goals.length} failed${na})`;
  if (unknown === r.goals.length) return 'n/a';
  return unknown > 0 ? `PASS (${na.slice(2)})` : 'PASS';
}

function goalsText(r: CaseResult): string {
  if (r.goals.length === 0) return '-';
  return r.goals.map((g) => `${g.description.replace('>=', '≥').replace('<=', '≤')} (${g.actual === null || g.pass === null ? 'n/a' : `${num(g.actual, 2)} ${g.pass ? '✓' : '✗'}`})`).join('; ');
}

/**
 * One Markdown row per result: case, its figure (docs/s, or p50/p99), its comparisons (ratio to
 * the comparator, vsPouchDB...), each goal with its actual figure, and the verdict.
 */
export function readmeSummary(all: readonly BenchCase[], results: readonly CaseResult[], skipped: readonly CaseSkip[] = []): string {
  const rows = [...results, ...skipped].map((r) => {
    if ('skipped' in r) return { name: r.name, row: `| ${r.name} | n/a (${r.skipped}) | - | - | n/a |` };
    const c = all.find((x) => x.name === r.name);
    const figure = c?.figure ? c.figure(r) : defaultFigure(r);
    return { name: r.name, row: `| ${r.name} | ${figure} | ${comparisonsText(c, r)} | ${goalsText(r)} | ${verdictText(r)} |` };
  });
  // In the order the cases run, skipped ones included.
  const order = (name: string): number => all.findIndex((c) => c.name === name);
  rows.sort((a, b) => order(a.name) - order(b.name));
  return ['| case | result | comparison | goals (actual) | verdict |', '| --- | --- | --- | --- | --- |', ...rows.map((r) => r.row)].join('\n');
}
