/**
 * CLI processes for the replication benchmarks: `node dist/cli.js …` children whose stdout is read
 * line by line as it streams, that are always killed (per case in `finally`, and by bench/run.ts's
 * signal/exit handlers through trackChild), and that report their peak RSS on exit (rss-preload.cjs).
 * Every wait has a timeout and fails loudly, naming the process and showing the end of its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { trackChild } from './child';
import type { BenchContext } from './harness';

const PRELOAD = join(__dirname, 'rss-preload.cjs');
const RSS_ENV = 'PEERSYNC_BENCH_RSS_FILE';
const TAIL_LINES = 200;
const STDERR_TAIL_CHARS = 4000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

let staleWarned = false;

/** dist/cli.js, which must have been built (`npm run bench` builds first); warns once if older than server/. */
export function cliPath(repoRoot: string): string {
  const cli = join(repoRoot, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (or \`npm run bench\`, which builds first)`);
  if (!staleWarned) {
    staleWarned = true;
    const built = statSync(cli).mtimeMs;
    const newer = newestSource(join(repoRoot, 'server'));
    if (newer && newer.mtimeMs > built) {
      process.stderr.write(`bench: warning: dist/cli.js is older than ${newer.path}; the replication cases measure the last build (run \`npm run build\`)\n`);
    }
  }
  return cli;
}

function newestSource(dir: string): { path: string; mtimeMs: number } | undefined {
  let best: { path: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(p) : entry.name.endsWith('.ts') ? { path: p, mtimeMs: statSync(p).mtimeMs } : undefined;
    if (candidate && (!best || candidate.mtimeMs > best.mtimeMs)) best = candidate;
  }
  return best;
}

export class CliProcess {
  readonly child: ChildProcess;
  /** performance.now() at spawn and at exit. */
  readonly startedAt: number;
  exitedAt: number | undefined;
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly tail: string[] = [];
  private stderrTail = '';
  private partial = '';
  private readonly lineListeners = new Set<(line: string, receivedAt: number) => void>();
  private readonly rssFile: string;
  /** The script run (dist/cli.js, or another Node program such as pouchdb-server's bin). */
  readonly script: string;

  /**
   * Starts `node [--require rss-preload] cli args…`. `nodeArgs` go before the script (e.g. --cpu-prof).
   * `rssDir` is where the peak-RSS report is written (a temp dir of the run).
   */
  constructor(
    readonly label: string,
    cli: string,
    readonly args: readonly string[],
    rssDir: string,
    options: { cwd: string; nodeArgs?: readonly string[] },
  ) {
    this.script = cli;
    this.rssFile = join(rssDir, `rss-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    this.startedAt = performance.now();
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--require', PRELOAD, cli, ...args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [RSS_ENV]: this.rssFile },
    });
    trackChild(this.child);
    // `exit` marks the time; `exited` resolves on `close`, once stdout has been read to the end too.
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitedAt = performance.now();
        this.exit = { code, signal };
      });
      this.child.once('close', (code, signal) => {
        this.exitedAt ??= performance.now();
        this.exit ??= { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', (e) => {
        this.exitedAt ??= performance.now();
        this.stderrTail += `\n(spawn error: ${e.message})`;
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      // The receipt time of every line in this chunk: when the bench process read it from the pipe.
      const at = performance.now();
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) this.line(line, at);
    });
    this.child.stdout!.on('end', () => {
      if (this.partial) this.line(this.partial, performance.now());
      this.partial = '';
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
  }

  private line(line: string, at: number): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    for (const l of this.lineListeners) l(line, at);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last stdout lines (up to 200). */
  get lines(): readonly string[] {
    return this.tail;
  }

  /** Calls `cb` for every stdout line from now on (with the time the bench read it); returns an unsubscribe function. */
  onLine(cb: (line: string, receivedAt: number) => void): () => void {
    this.lineListeners.add(cb);
    return () => this.lineListeners.delete(cb);
  }

  /** What to show when something about this process went wrong. */
  describe(): string {
    const status = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : `running (pid ${this.pid})`;
    return [
      `${this.label}: ${status}`,
      `  command: node ${[relative(process.cwd(), this.script) || this.script, ...this.args].join(' ')}`,
      `  stdout (last lines):`,
      ...this.tail.slice(-10).map((l) => `    ${l.slice(0, 300)}`),
      `  stderr (end):`,
      ...this.stderrTail
        .trimEnd()
        .split('\n')
        .slice(-15)
        .map((l) => `    ${l}`),
    ].join('\n');
  }

  /** Resolves with the first stdout line `match` maps to a value; rejects if the process exits first or on timeout. */
  waitForLine<T>(what: string, timeoutMs: number, match: (line: string) => T | undefined): Promise<T> {
    for (const l of this.tail) {
      const v = match(l);
      if (v !== undefined) return Promise.resolve(v);
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        fn();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`))), timeoutMs);
      const off = this.onLine((line) => {
        const v = match(line);
        if (v !== undefined) finish(() => resolve(v));
      });
      void this.exited.then(() => finish(() => reject(new Error(`process exited while waiting for ${what}\n${this.describe()}`))));
    });
  }

  /** Waits for the process to exit; on timeout kills it (SIGKILL) and rejects. */
  async waitForExit(timeoutMs: number, what = 'exit'): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const r = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.kill();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.label} to ${what}; killed it\n${this.describe()}`);
    }
    return r;
  }

  /** SIGTERM (a clean shutdown for serve/replicate) and wait; SIGKILL and reject if it takes longer than `timeoutMs`. */
  async stop(timeoutMs: number): Promise<Exit> {
    if (this.running) this.child.kill('SIGTERM');
    return this.waitForExit(timeoutMs, 'stop after SIGTERM');
  }

  /** SIGKILL if still running (cleanup path; never throws). */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** Lifetime peak RSS in MB (VmHWM), reported by the process on a normal exit; undefined if it did not report. */
  maxRssMB(): number | undefined {
    try {
      const r = JSON.parse(readFileSync(this.rssFile, 'utf8')) as { peakRssKB?: unknown };
      return typeof r.peakRssKB === 'number' ? r.peakRssKB / 1024 : undefined;
    } catch {
      return undefined;
    }
  }
}

let sharedRssDir: { ctx: BenchContext; dir: string } | undefined;

/** The run's directory for RSS reports (one per context, created on first use). */
export function rssDirFor(ctx: BenchContext): string {
  if (sharedRssDir?.ctx !== ctx) sharedRssDir = { ctx, dir: ctx.tempDir('proc') };
  return sharedRssDir.dir;
}

/** Starts a CLI process; the caller must stop or kill it (and should in `finally`). */
export function startCli(ctx: BenchContext, label: string, args: readonly string[], nodeArgs?: readonly string[]): CliProcess {
  return new CliProcess(label, cliPath(ctx.config.repoRoot), args, rssDirFor(ctx), { cwd: ctx.config.repoRoot, ...(nodeArgs ? { nodeArgs } : {}) });
}

/** Runs a short CLI command to completion (exit 0 required) and returns its stdout lines. */
export async function runCli(ctx: BenchContext, label: string, args: readonly string[], timeoutMs: number): Promise<readonly string[]> {
  const p = startCli(ctx, label, args);
  try {
    const exit = await p.waitForExit(timeoutMs);
    if (exit.code !== 0) throw new Error(`${label} failed\n${p.describe()}`);
    return p.lines;
  } finally {
    p.kill();
  }
}

/** The last stdout line that is a JSON object (with `event` equal to `event`, if given). */
export function lastJson(lines: readonly string[], event?: string): Record<string, unknown> | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      const v = JSON.parse(l) as Record<string, unknown>;
      if (event === undefined || v['event'] === event) return v;
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}
