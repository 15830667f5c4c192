/**
 * Parent side of the fixture child processes (bench/fixture-child.ts) and the messages they send.
 *
 * A child is needed to leave a database with journal records to replay: Database.close() always
 * snapshots (so the next open is fast), and the public API has no "close without snapshot". A child
 * that saves, waits for each batch to be acknowledged (fsync'd), reports, and then process.exit()s
 * without close leaves exactly what a crash after the last acknowledged write leaves: the last
 * snapshot plus the journal. Its stale lock file (dead PID) is taken over by the next open.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * This process's own peak RSS in MB. In a child, process.resourceUsage().maxRSS is no good: on Linux
 * it starts at the parent's RSS at fork time (carried across exec), so VmHWM is read instead.
 */
export function ownPeakRssMB(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Store options with no automatic snapshot: the only snapshot is the explicit one, the rest stays in the journal. */
export const NO_AUTO_SNAPSHOT = { snapshotThresholdBytes: Number.MAX_SAFE_INTEGER, snapshotIntervalMs: 0 } as const;

export interface BuildRequest {
  readonly mode: 'build';
  readonly dir: string;
  readonly n: number;
  /** Documents saved before the explicit snapshot; the rest go to the journal only. */
  readonly snapshotAfter: number;
  readonly batchSize: number;
}

export interface OpenRequest {
  readonly mode: 'open';
  readonly dir: string;
}

export type ChildRequest = BuildRequest | OpenRequest;

export interface BuildReport {
  readonly mode: 'build';
  readonly savedBeforeSnapshotSeconds: number;
  readonly snapshotSeconds: number;
  readonly savedAfterSnapshotSeconds: number;
  readonly journalBytes: number;
  readonly maxRssMB: number;
}

export interface OpenReport {
  readonly mode: 'open';
  /** sql.js WebAssembly initialisation in a fresh process. */
  readonly loadSqlJsSeconds: number;
  readonly openSeconds: number;
  readonly count: number;
  readonly maxRssMB: number;
}

export type ChildReport = BuildReport | OpenReport | { readonly mode: 'error'; readonly error: string };

const active = new Set<ChildProcess>();

/** Kills every child process still running: fixture children and CLI processes (signal and exit handlers of bench/run.ts). */
export function killChildren(): void {
  for (const c of active) c.kill('SIGKILL');
}

/** Registers a child so killChildren() reaches it; it is forgotten once it has exited. */
export function trackChild(child: ChildProcess): void {
  active.add(child);
  child.once('exit', () => active.delete(child));
  child.once('error', () => active.delete(child));
}

/** Runs bench/fixture-child.ts with `req`, resolves with its report once it has exited. */
export function runChild<R extends ChildReport>(repoRoot: string, req: ChildRequest, timeoutMs = 15 * 60 * 1000): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const child = fork(join(__dirname, 'fixture-child.ts'), [JSON.stringify(req)], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    active.add(child);
    let report: ChildReport | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture child (${req.mode}) timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m) => {
      report = m as ChildReport;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      active.delete(child);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      active.delete(child);
      if (report?.mode === 'error') reject(new Error(`fixture child (${req.mode}) failed: ${report.error}`));
      else if (!report || report.mode !== req.mode) reject(new Error(`fixture child (${req.mode}) exited (code ${code}, signal ${signal}) without a report`));
      else if (code !== 0) reject(new Error(`fixture child (${req.mode}) exited with code ${code}`));
      else resolve(report as R);
    });
  });
}
