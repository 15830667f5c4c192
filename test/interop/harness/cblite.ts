import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from '../../helpers/cli';
import { waitForCondition } from '../../helpers/wait';

/** Couchbase's own LiteCore CLI, kept beside the project rather than inside it. */
export const CBLITE = join(ROOT, '..', 'shared', 'tools', 'cblite', 'cblite');

/** Why the interop tier cannot run here, or undefined when it can. */
export function interopSkipReason(): string | undefined {
  return existsSync(CBLITE) ? undefined : `cblite not found at ${CBLITE}: interop tier skipped`;
}

/** Generous: known listener bugs make cblite wait forever, and a hang must fail with what it printed. */
export const CBLITE_TIMEOUT_MS = 60_000;

export interface CbliteResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Both streams, for assertions on messages that cblite prints on either one. */
  output: string;
  elapsedMs: number;
}

export class CbliteTimeout extends Error {}

function spawnCblite(args: readonly string[], cwd: string | undefined): ChildProcessWithoutNullStreams {
  return spawn(CBLITE, [...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs one cblite command to completion; rejects with its output when it outlives `timeoutMs`. */
export function runCblite(args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<CbliteResult> {
  const timeoutMs = options.timeoutMs ?? CBLITE_TIMEOUT_MS;
  const started = Date.now();
  const child = spawnCblite(args, options.cwd);
  // cblite prompts for a missing password on stdin; a closed stdin makes that fail instead of wait.
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CbliteTimeout(`cblite ${args.join(' ')} still running after ${timeoutMs} ms; it printed:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output: `${stdout}\n${stderr}`, elapsedMs: Date.now() - started });
    });
  });
}

/** Runs cblite and fails with its output unless it exits 0. */
export async function cbliteOk(args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<CbliteResult> {
  const r = await runCblite(args, options);
  if (r.code !== 0) throw new Error(`cblite ${args.join(' ')} exited with ${r.code ?? r.signal}:\n${r.output}`);
  return r;
}

/** A long-running cblite (continuous replication), killed when the test ends. */
export interface CbliteProcess {
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: () => boolean;
  /** Sends `signal` and waits (bounded) for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the output (both streams) matches `pattern`; fails loudly at `ms` or if cblite exits first. */
  waitForOutput(pattern: RegExp, ms: number): Promise<void>;
}

export function startCblite(t: TestContext, args: readonly string[], options: { cwd?: string; maxLifetimeMs?: number } = {}): CbliteProcess {
  const child = spawnCblite(args, options.cwd);
  child.stdin.end();
  let out = '';
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  child.stdout.on('data', (d: Buffer) => ((out += d.toString()), notify()));
  child.stderr.on('data', (d: Buffer) => ((out += d.toString()), notify()));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      done = true;
      notify();
      resolve({ code, signal });
    }),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), options.maxLifetimeMs ?? 3 * CBLITE_TIMEOUT_MS);
  t.after(() => {
    clearTimeout(killer);
    if (!done) child.kill('SIGKILL');
  });
  return {
    output: () => out,
    exited,
    hasExited: () => done,
    async stop(signal = 'SIGINT') {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async waitForOutput(pattern, ms) {
      const subscribe = (check: () => void): (() => void) => (listeners.add(check), () => listeners.delete(check));
      await waitForCondition(() => pattern.test(out) || done, subscribe, ms, `cblite to print ${pattern}`).catch((e: Error) => {
        throw new Error(`${e.message}; it printed:\n${out}`);
      });
      if (!pattern.test(out)) throw new Error(`cblite exited before printing ${pattern}; it printed:\n${out}`);
    },
  };
}

/**
 * Creates `<dir>/<name>.cblite2`, optionally with documents, ready to replicate into: LiteCore
 * does not create the Attachments folder itself, and a pull with blobs fails without it.
 */
export async function makeCbliteDb(dir: string, name: string, docs: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, `${name}.cblite2`);
  const ids = Object.keys(docs);
  if (ids.length === 0) await cbliteOk(['--create', 'ls', path]);
  for (const id of ids) await cbliteOk(['--create', 'put', path, id, JSON.stringify(docs[id])]);
  mkdirSync(join(path, 'Attachments'), { recursive: true });
  return path;
}

/** A document's current body, or undefined when cblite says it is not there (cblite exits 0 either way). */
export async function cbliteGet(db: string, docId: string): Promise<Record<string, unknown> | undefined> {
  const r = await cbliteOk(['cat', '--raw', db, docId]);
  if (/not found/i.test(r.stderr) || r.stdout.trim() === '') return undefined;
  const body = JSON.parse(r.stdout) as Record<string, unknown>;
  delete body._id;
  return body;
}

/** The current revision ID of a document in a cblite database (undefined when missing). */
export async function cbliteRev(db: string, docId: string): Promise<string | undefined> {
  const r = await cbliteOk(['cat', '--raw', '--rev', db, docId]);
  if (/not found/i.test(r.stderr) || r.stdout.trim() === '') return undefined;
  return (JSON.parse(r.stdout) as { _rev: string })._rev;
}

/** Document IDs by state, from `cblite ls -l --del` (flags column: d = deleted, c = conflicted). */
export async function cbliteList(db: string): Promise<Map<string, { deleted: boolean; conflicted: boolean; rev: string }>> {
  const r = await cbliteOk(['ls', '-l', '--del', db]);
  const docs = new Map<string, { deleted: boolean; conflicted: boolean; rev: string }>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+)\s+(\d+-[0-9a-f]+)\s+([-\w]{3})\s/.exec(line);
    if (m) docs.set(m[1]!, { rev: m[2]!, deleted: m[3]!.includes('d'), conflicted: m[3]!.includes('c') });
  }
  return docs;
}

/** The live document count of the default collection, from `cblite info`. */
export async function cbliteCount(db: string): Promise<number> {
  const r = await runCblite(['info', db]);
  const m = /"_default":\s*(\d+) documents/.exec(r.output);
  if (!m) throw new Error(`no document count in cblite info output:\n${r.output}`);
  return Number(m[1]);
}
