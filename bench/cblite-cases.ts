/**
 * A real Couchbase Lite client against PeerSync's listener: `cblite` (Couchbase's command-line tool
 * over LiteCore, the core of Couchbase Lite) pushes to or pulls from `peersync serve`, two separate
 * processes over loopback.
 *
 *   cblite-{push,pull}-{ws,wss}-20k  20,000 x 1 KB docs, one-shot; timed by cblite's own
 *                                    "Completed N docs in S secs" (the replication, without its
 *                                    process start), with the listener's peak RSS
 *
 * The binary is looked for at $PEERSYNC_CBLITE, else ../shared/tools/cblite/cblite beside the
 * repository; without it the cases report n/a and why. Over wss the listener uses an identity
 * created for the run, whose certificate cblite trusts as its root (`--cacert`); cblite checks DNS
 * names only, so it connects to wss://localhost.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trackChild } from './child';
import { round, type BenchCase, type BenchConfig, type BenchContext, type Measurement } from './harness';
import { lastJson, runCli, type CliProcess } from './procs';
import { SHORT_COMMAND_TIMEOUT_MS, countDocs, jsonLines, startListener, stopCleanly } from './repl-cases';

const N = 20_000;
/** Guards against a hang only (a busy machine can be many times slower than usual). */
const CBLITE_TIMEOUT_MS = 600_000;
const IDENTITY_LABEL = 'bench-localhost';

export function cblitePath(repoRoot: string): string {
  return process.env['PEERSYNC_CBLITE'] ?? resolve(repoRoot, '..', 'shared', 'tools', 'cblite', 'cblite');
}

const availability = new Map<string, string | undefined>();

/** Why cblite cannot run here (missing, or missing a library), or undefined. */
function unavailable(config: BenchConfig): string | undefined {
  const path = cblitePath(config.repoRoot);
  if (!availability.has(path)) {
    let reason: string | undefined;
    if (!existsSync(path)) reason = `no cblite binary at ${path} (set PEERSYNC_CBLITE)`;
    else {
      const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 60_000 });
      if (r.error || r.status !== 0) reason = `${path} does not run: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n')[0]}`;
    }
    availability.set(path, reason);
  }
  return availability.get(path);
}

interface CbliteRun {
  readonly code: number | null;
  readonly output: string;
  readonly wallSeconds: number;
}

/** Runs cblite to completion, killed by the bench's exit handlers if the bench goes first. */
function runCblite(ctx: BenchContext, args: readonly string[], cwd: string): Promise<CbliteRun> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(cblitePath(ctx.config.repoRoot), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const guard = setTimeout(() => child.kill('SIGKILL'), CBLITE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      resolvePromise({ code, output, wallSeconds: (performance.now() - started) / 1000 });
    });
  });
}

async function cblite(ctx: BenchContext, what: string, args: readonly string[], cwd: string): Promise<CbliteRun> {
  const r = await runCblite(ctx, args, cwd);
  if (r.code !== 0) throw new Error(`cblite ${what} failed (exit ${r.code}):\n${r.output.split('\n').slice(-20).join('\n')}`);
  return r;
}

/** cblite's own figure: "Completed 20000 docs in 2.34 secs; 8532 docs/sec". */
function completed(output: string): { docs: number; seconds: number } | undefined {
  const m = /Completed (\d+) docs in ([\d.]+) secs/.exec(output);
  return m ? { docs: Number(m[1]), seconds: Number(m[2]) } : undefined;
}

/** An empty cblite database ready to replicate into. */
async function emptyCbliteDb(ctx: BenchContext, dir: string, name: string): Promise<void> {
  await cblite(ctx, 'create', ['--create', 'ls', name], dir);
  mkdirSync(join(dir, name, 'Attachments'), { recursive: true });
}

async function run(ctx: BenchContext, direction: 'push' | 'pull', tls: boolean): Promise<Measurement> {
  const docs = await jsonLines(ctx, N);
  const dir = ctx.tempDir(`cblite-${direction}-${tls ? 'wss' : 'ws'}`);
  const listenerDir = join(dir, 'listener');
  const cbl = 'client.cblite2';
  // Untimed: the source database, and over wss an identity for the listener whose certificate
  // names localhost.
  if (direction === 'push') {
    await emptyCbliteDb(ctx, dir, cbl);
    // cblite tells JSON from a database by the extension.
    symlinkSync(docs.file, join(dir, 'docs.json'));
    await cblite(ctx, 'cp (import)', ['cp', 'docs.json', cbl], dir);
  } else {
    await emptyCbliteDb(ctx, dir, cbl);
  }
  if (direction === 'pull' || tls) await runCli(ctx, 'db create', ['db', 'create', '--db', listenerDir, '--json'], SHORT_COMMAND_TIMEOUT_MS);
  if (direction === 'pull') {
    const imported = lastJson(await runCli(ctx, 'db import', ['db', 'import', docs.file, '--db', listenerDir, '--batch', '1000', '--json'], SHORT_COMMAND_TIMEOUT_MS));
    if (imported?.['imported'] !== N) throw new Error(`db import reported ${JSON.stringify(imported)}, expected ${N} imported`);
  }
  const certFile = join(dir, 'listener.pem');
  if (tls) {
    await runCli(ctx, 'identity create', ['identity', 'create', IDENTITY_LABEL, '--cn', 'localhost', '--db', listenerDir, '--json'], SHORT_COMMAND_TIMEOUT_MS);
    await runCli(ctx, 'identity export', ['identity', 'export', IDENTITY_LABEL, certFile, '--db', listenerDir, '--json'], SHORT_COMMAND_TIMEOUT_MS);
  }
  ctx.sample();

  let listener: CliProcess | undefined;
  try {
    const started = await startListener(ctx, 'listener', listenerDir, false, tls, tls ? ['--identity', IDENTITY_LABEL] : []);
    listener = started.proc;
    const url = tls ? started.url.replace('://127.0.0.1:', '://localhost:') : started.url;
    const r = await cblite(ctx, direction, [direction, ...(tls ? ['--cacert', certFile] : []), cbl, url], dir);
    const done = completed(r.output);
    if (!done) throw new Error(`cblite ${direction} printed no "Completed N docs" line:\n${r.output.slice(-2000)}`);
    if (done.docs !== N) throw new Error(`cblite ${direction} completed ${done.docs} documents, expected ${N}`);
    await stopCleanly(listener);
    ctx.sample();
    if (direction === 'push') {
      const count = await countDocs(ctx, listenerDir);
      if (count !== N) throw new Error(`the listener's database has ${count} documents, expected ${N}`);
    }
    const rss = listener.maxRssMB();
    return {
      n: N,
      docBytes: docs.docBytes,
      seconds: done.seconds,
      extra: {
        timedBy: `cblite's "Completed N docs in S secs" (the replication, without cblite's process start)`,
        cbliteWallSeconds: round(r.wallSeconds, 3),
        listenerMaxRssMB: rss === undefined ? 'n/a' : round(rss, 1),
      },
    };
  } finally {
    listener?.kill();
  }
}

function cbliteCase(direction: 'push' | 'pull', tls: boolean): BenchCase {
  const scheme = tls ? 'wss' : 'ws';
  return {
    name: `cblite-${direction}-${scheme}-20k`,
    description: `Couchbase Lite client (cblite over LiteCore) one-shot ${direction} of ${N.toLocaleString('en-US')} x 1 KB docs ${direction === 'push' ? 'to' : 'from'} a peersync serve process over loopback ${scheme}`,
    mode: 'full',
    goal: { metric: 'opsPerSec', op: '>=', target: 10_000 },
    uses: [`repl-jsonl-${N}`],
    n: () => N,
    unavailable,
    run: (ctx) => run(ctx, direction, tls),
  };
}

export const cbliteCases: BenchCase[] = [cbliteCase('push', false), cbliteCase('pull', false), cbliteCase('push', true), cbliteCase('pull', true)];
