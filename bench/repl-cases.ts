/**
 * Replication benchmarks over loopback WebSockets.
 *
 *   repl-push-ws-*, repl-pull-ws-*  throughput between two CLI processes (`serve` and `replicate`)
 *   repl-latency-direct             continuous push, one change at a time: save here → listener process
 *   repl-latency-hub                save here → hub (listener process) → a second replicator here
 *
 * Processes bind 127.0.0.1 only; every child is stopped in `finally` (and killed by bench/run.ts on
 * Ctrl-C or a crash); every wait has a timeout that fails with the process's recent output.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { docId, makeBody } from './docs';
import { round, type BenchCase, type BenchConfig, type BenchContext, type Goal, type Measurement } from './harness';
import { CliProcess, lastJson, runCli, startCli } from './procs';
import { createIdentity } from '../server/tls';
import { Database, type Collection, type JsonObject } from '../server/store';
import { Replicator } from '../server/replication/replicator';

/** Goal of this step for one-shot replication throughput; the product goal is twice that. */
const STEP_GOAL_DOCS_PER_SEC = 15_000;
const PRODUCT_GOAL_DOCS_PER_SEC = 30_000;
const THROUGHPUT_GOAL: Goal = {
  metric: 'opsPerSec',
  op: '>=',
  target: STEP_GOAL_DOCS_PER_SEC,
  note: `goal of this step; product goal ${PRODUCT_GOAL_DOCS_PER_SEC.toLocaleString('en-US')} docs/s`,
};

const QUICK_THROUGHPUT_N = 1_000;
const QUICK_LATENCY_N = 100;
const FULL_LATENCY_N = 1_000;
/** Untimed changes before the measured ones (JIT warm-up of both peers), reported in `extra`. */
const LATENCY_WARMUP = 20;

const READY_TIMEOUT_MS = 30_000;
const SHORT_COMMAND_TIMEOUT_MS = 60_000;
/** Stopping a listener snapshots its database (a 100k-doc one takes a few seconds). */
const STOP_TIMEOUT_MS = 120_000;
const IDLE_TIMEOUT_MS = 30_000;
const CHANGE_TIMEOUT_MS = 10_000;

/** Loopback only, any free port, plain ws:// (`serve` defaults to wss:// with an anonymous certificate). */
const LISTEN = ['--port', '0', '--interface', '127.0.0.1', '--no-tls'] as const;

// ---- helpers ----

interface JsonLines {
  readonly file: string;
  readonly n: number;
  /** Mean body size (JSON bytes, without `_id`). */
  readonly docBytes: number;
}

/** The bench documents 0..n-1 as JSON lines {"_id", ...body} (shared by the push and pull case of one size). */
function jsonLines(ctx: BenchContext, n: number): Promise<JsonLines> {
  return ctx.fixture(`repl-jsonl-${n}`, async () => {
    const dir = ctx.tempDir(`jsonl-${n}`);
    const file = join(dir, 'docs.jsonl');
    const fd = openSync(file, 'w');
    let bodyBytes = 0;
    try {
      for (let b = 0; b < n; b += 1000) {
        let chunk = '';
        for (let i = b; i < Math.min(n, b + 1000); i++) {
          const body = JSON.stringify(makeBody(i));
          bodyBytes += Buffer.byteLength(body);
          chunk += `{"_id":${JSON.stringify(docId(i))},${body.slice(1)}\n`;
        }
        writeSync(fd, chunk);
      }
    } finally {
      closeSync(fd);
    }
    return { value: { file, n, docBytes: Math.round(bodyBytes / Math.max(1, n)) }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  });
}

function parseEvent(line: string, event: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    return v['event'] === event ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `serve` on `dir` (created if missing) and resolves with the process and its ws URL once it is ready. */
async function startListener(ctx: BenchContext, label: string, dir: string, events: boolean, tls = false): Promise<{ proc: CliProcess; url: string }> {
  const listen = tls ? LISTEN.filter((a) => a !== '--no-tls') : LISTEN;
  const proc = startCli(ctx, label, ['serve', '--db', dir, ...listen, '--json', ...(events ? ['--events'] : [])]);
  try {
    const ready = await proc.waitForLine(`${label} to print its "ready" line`, READY_TIMEOUT_MS, (l) => parseEvent(l, 'ready'));
    const port = ready['port'];
    if (typeof port !== 'number' || port <= 0) throw new Error(`${label}: bad "ready" line (no port)\n${proc.describe()}`);
    const url = `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/${basename(dir)}`;
    const urls = ready['urls'];
    if (Array.isArray(urls) && !urls.includes(url)) throw new Error(`${label}: expected ${url} among its URLs ${JSON.stringify(urls)}`);
    return { proc, url };
  } catch (e) {
    proc.kill();
    throw e;
  }
}

/** SIGTERM and require a clean exit (code 0). */
async function stopCleanly(proc: CliProcess): Promise<void> {
  const exit = await proc.stop(STOP_TIMEOUT_MS);
  if (exit.code !== 0) throw new Error(`${proc.label} did not stop cleanly\n${proc.describe()}`);
}

/** Document count of the default collection, read by `db info --json` (the database must not be open elsewhere). */
async function countDocs(ctx: BenchContext, dir: string): Promise<number> {
  const info = lastJson(await runCli(ctx, 'db info', ['db', 'info', '--db', dir, '--json'], SHORT_COMMAND_TIMEOUT_MS));
  const colls = info?.['collections'];
  const def = Array.isArray(colls) ? (colls as { name?: unknown; documents?: unknown }[]).find((c) => c.name === '_default._default') : undefined;
  if (typeof def?.documents !== 'number') throw new Error(`db info for ${dir} printed no default-collection count: ${JSON.stringify(info)}`);
  return def.documents;
}

function mb(x: number | undefined): number | string {
  return x === undefined ? 'n/a' : round(x, 1);
}

/** Rejects after `ms` with `what` in the message. */
async function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
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
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latencyStats(ms: readonly number[]): Record<string, number> {
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

// ---- throughput: two processes ----

async function throughput(ctx: BenchContext, direction: 'push' | 'pull', n: number, tls = false): Promise<Measurement> {
  const docs = await jsonLines(ctx, n);
  const caseDir = ctx.tempDir(`repl-${direction}-${n}`);
  const listenerDir = join(caseDir, 'listener');
  const activeDir = join(caseDir, 'active');
  const [sourceDir, destDir] = direction === 'push' ? [activeDir, listenerDir] : [listenerDir, activeDir];

  // Untimed: the source database (db create + db import), and an empty active database for pull
  // (`replicate` only opens an existing one; `serve` creates its own).
  const importStart = performance.now();
  await runCli(ctx, 'db create', ['db', 'create', '--db', sourceDir, '--json'], SHORT_COMMAND_TIMEOUT_MS);
  const imported = lastJson(await runCli(ctx, 'db import', ['db', 'import', docs.file, '--db', sourceDir, '--batch', '1000', '--json'], SHORT_COMMAND_TIMEOUT_MS + n));
  if (imported?.['imported'] !== n) throw new Error(`db import reported ${JSON.stringify(imported)}, expected ${n} imported`);
  const importSeconds = (performance.now() - importStart) / 1000;
  if (direction === 'pull') await runCli(ctx, 'db create', ['db', 'create', '--db', activeDir, '--json'], SHORT_COMMAND_TIMEOUT_MS);
  ctx.sample();

  let listener: CliProcess | undefined;
  let active: CliProcess | undefined;
  try {
    const started = await startListener(ctx, 'listener', listenerDir, false, tls);
    listener = started.proc;
    const listenerReadyMs = performance.now() - listener.startedAt;
    active = startCli(ctx, 'replicate', ['replicate', '--db', activeDir, '--target', started.url, `--${direction}`, '--json', ...(tls ? ['--self-signed-only'] : [])]);
    const exit = await active.waitForExit(60_000 + n * 2, 'finish replicating');
    if (exit.code !== 0) throw new Error(`replicate --${direction} failed\n${active.describe()}`);
    const wallSeconds = (active.exitedAt! - active.startedAt) / 1000;
    const done = lastJson(active.lines, 'done');
    const elapsedMs = done?.['elapsedMs'];
    if (typeof elapsedMs !== 'number' || !(elapsedMs > 0)) throw new Error(`replicate printed no "done" line with elapsedMs (is dist/cli.js current?)\n${active.describe()}`);
    if (done?.['completed'] !== n) throw new Error(`replicate completed ${String(done?.['completed'])}/${String(done?.['total'])} documents, expected ${n}\n${active.describe()}`);
    ctx.sample();
    await stopCleanly(listener);
    ctx.sample();

    // Verified once both processes are gone (the store holds an exclusive lock while open).
    const destCount = await countDocs(ctx, destDir);
    if (destCount !== n) throw new Error(`destination (${direction === 'push' ? 'listener' : 'replicate'} database) has ${destCount} documents, expected ${n}`);

    return {
      n,
      docBytes: docs.docBytes,
      seconds: elapsedMs / 1000,
      extra: {
        timedBy: 'replicate process elapsedMs (start() to stopped; excludes process start, db open/close)',
        wallSeconds: round(wallSeconds, 3),
        wallDocsPerSec: Math.round(n / wallSeconds),
        startupAndCloseSeconds: round(wallSeconds - elapsedMs / 1000, 3),
        listenerReadySeconds: round(listenerReadyMs / 1000, 3),
        replicateMaxRssMB: mb(active.maxRssMB()),
        listenerMaxRssMB: mb(listener.maxRssMB()),
        importSeconds: round(importSeconds, 3),
        productGoalDocsPerSec: PRODUCT_GOAL_DOCS_PER_SEC,
      },
    };
  } finally {
    active?.kill();
    listener?.kill();
  }
}

function throughputCase(direction: 'push' | 'pull', label: string, n: number, mode: 'quick' | 'full', tls = false): BenchCase {
  const from = direction === 'push' ? 'the replicate process' : 'the listener process';
  const to = direction === 'push' ? 'the listener (serve)' : 'the replicate process';
  const scheme = tls ? 'wss' : 'ws';
  return {
    name: `repl-${direction}-${scheme}-${label}`,
    description: `one-shot ${direction} of ${n.toLocaleString('en-US')} x 1 KB docs from ${from} to ${to} over loopback ${scheme}; timed by the replicate process's elapsedMs`,
    mode,
    // wss is compared with ws in the same run: within 15% is the goal.
    ...(tls ? { comparator: `repl-${direction}-ws-${label}`, goal: [THROUGHPUT_GOAL, { metric: 'ratio', op: '>=', target: 0.85 }] } : { goal: THROUGHPUT_GOAL }),
    uses: [`repl-jsonl-${n}`],
    n: () => n,
    run: (ctx) => throughput(ctx, direction, n, tls),
  };
}

// ---- latency: one change at a time ----

function latencyN(config: BenchConfig): number {
  return config.quick ? QUICK_LATENCY_N : FULL_LATENCY_N;
}

function latencyBody(i: number): JsonObject {
  return { type: 'latency', seq: i, note: 'one small change' };
}

function latencyDocId(i: number): string {
  return i < 0 ? `warmup-${String(-i).padStart(3, '0')}` : `lat-${String(i).padStart(6, '0')}`;
}

async function openDb(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  return Database.open(dir, { snapshotIntervalMs: 0 });
}

/** Starts a continuous replicator and waits until it is idle (connected and caught up). */
async function startContinuous(database: Database, target: string, type: 'push' | 'pull'): Promise<Replicator> {
  const r = new Replicator({ database, target, type, continuous: true });
  r.start();
  try {
    await r.waitFor('idle', IDLE_TIMEOUT_MS);
  } catch (e) {
    await stopReplicator(r);
    throw new Error(`continuous ${type} replicator with ${target} did not become idle: ${(e as Error).message}`);
  }
  return r;
}

async function stopReplicator(r: Replicator | undefined): Promise<void> {
  if (!r) return;
  await withTimeout(r.stop(), IDLE_TIMEOUT_MS, () => `stopping the ${r.type} replicator with ${r.target} (status ${r.status.activity})`);
}

/**
 * Runs the timed loop: for each change, `arrival(id)` is armed, then the document saved on `source`,
 * then the arrival awaited. Returns the latencies (ms) of the non-warm-up changes and the loop time.
 */
async function latencyLoop(
  ctx: BenchContext,
  source: Collection,
  n: number,
  arrival: (id: string) => Promise<number>,
  onSaved?: (i: number, wallMs: number) => void,
): Promise<{ latencies: number[]; seconds: number; docBytes: number }> {
  const latencies: number[] = [];
  let bodyBytes = 0;
  let loopStart = 0;
  for (let i = -LATENCY_WARMUP; i < n; i++) {
    if (i === 0) loopStart = performance.now();
    const id = latencyDocId(i);
    const body = latencyBody(i);
    const arrived = arrival(id);
    const wall0 = Date.now();
    const t0 = performance.now();
    source.save({ id, body });
    let at: number;
    try {
      at = await arrived;
    } catch (e) {
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
class Arrivals {
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

async function latencyDirect(ctx: BenchContext): Promise<Measurement> {
  const n = latencyN(ctx.config);
  const caseDir = ctx.tempDir('repl-latency-direct');
  const listenerDir = join(caseDir, 'listener');
  let listener: CliProcess | undefined;
  let db: Database | undefined;
  let replicator: Replicator | undefined;
  try {
    const started = await startListener(ctx, 'listener (B)', listenerDir, true);
    listener = started.proc;
    const proc = listener;
    const arrivals = new Arrivals(() => `${proc.describe()}\n  replicator A: ${replicator?.status.activity ?? '-'}`);
    /** Listener-side clock (its Date.now() when the document ended), for the pipe-free cross-check. */
    const listenerTimes = new Map<string, number>();
    proc.onLine((line, receivedAt) => {
      const e = parseEvent(line, 'document');
      if (!e || e['direction'] !== 'pull' || typeof e['docId'] !== 'string') return;
      if (e['error']) {
        arrivals.fail(new Error(`listener reported an error for ${e['docId']}: ${JSON.stringify(e['error'])}`));
        return;
      }
      if (typeof e['time'] === 'number') listenerTimes.set(e['docId'], e['time']);
      // Latency ends when the bench process reads the line: it includes the listener's stdout write
      // and the pipe to this process (typically well under a millisecond), not only replication.
      arrivals.arrived(e['docId'], receivedAt);
    });
    void proc.exited.then(() => arrivals.fail(new Error(`listener exited\n${proc.describe()}`)));

    db = await openDb(join(caseDir, 'a'));
    replicator = await startContinuous(db, started.url, 'push');
    const saveWall = new Map<string, number>();
    const { latencies, seconds, docBytes } = await latencyLoop(ctx, db.defaultCollection, n, (id) => arrivals.arm(id), (i, wall0) => saveWall.set(latencyDocId(i), wall0));
    const listenerClock: number[] = [];
    for (const [id, wall0] of saveWall) {
      const t = listenerTimes.get(id);
      if (t !== undefined) listenerClock.push(t - wall0);
    }

    await stopReplicator(replicator);
    replicator = undefined;
    db.close();
    db = undefined;
    await stopCleanly(listener);
    const count = await countDocs(ctx, listenerDir);
    if (count !== n + LATENCY_WARMUP) throw new Error(`listener database has ${count} documents, expected ${n + LATENCY_WARMUP}`);

    const clock = listenerClock.length > 0 ? latencyStats(listenerClock) : undefined;
    return {
      n,
      docBytes,
      seconds,
      extra: {
        ...latencyStats(latencies),
        measuredTo: 'bench process reads the listener --events line (includes the stdout pipe)',
        warmupChanges: LATENCY_WARMUP,
        // Same latency by the listener's own clock (Date.now(), 1 ms resolution), without the pipe.
        ...(clock ? { listenerClockP50Ms: clock['p50Ms']!, listenerClockP99Ms: clock['p99Ms']! } : {}),
        listenerMaxRssMB: mb(listener.maxRssMB()),
      },
    };
  } finally {
    await stopReplicator(replicator).catch(() => undefined);
    db?.close();
    listener?.kill();
  }
}

async function latencyHub(ctx: BenchContext): Promise<Measurement> {
  const n = latencyN(ctx.config);
  const caseDir = ctx.tempDir('repl-latency-hub');
  const hubDir = join(caseDir, 'hub');
  let hub: CliProcess | undefined;
  let dbA: Database | undefined;
  let dbB: Database | undefined;
  let push: Replicator | undefined;
  let pull: Replicator | undefined;
  let offChange: (() => void) | undefined;
  try {
    const started = await startListener(ctx, 'hub', hubDir, false);
    hub = started.proc;
    const proc = hub;
    const arrivals = new Arrivals(() => `${proc.describe()}\n  replicator A (push): ${push?.status.activity ?? '-'}, replicator B (pull): ${pull?.status.activity ?? '-'}`);
    void proc.exited.then(() => arrivals.fail(new Error(`hub exited\n${proc.describe()}`)));

    dbA = await openDb(join(caseDir, 'a'));
    dbB = await openDb(join(caseDir, 'b'));
    push = await startContinuous(dbA, started.url, 'push');
    pull = await startContinuous(dbB, started.url, 'pull');
    offChange = dbB.defaultCollection.on('change', (batch) => {
      const at = performance.now();
      for (const c of batch) arrivals.arrived(c.docId, at);
    });
    const { latencies, seconds, docBytes } = await latencyLoop(ctx, dbA.defaultCollection, n, (id) => arrivals.arm(id));
    const countB = dbB.defaultCollection.count();
    if (countB !== n + LATENCY_WARMUP) throw new Error(`database B has ${countB} documents, expected ${n + LATENCY_WARMUP}`);

    offChange();
    offChange = undefined;
    await stopReplicator(push);
    push = undefined;
    await stopReplicator(pull);
    pull = undefined;
    await stopCleanly(hub);
    const countHub = await countDocs(ctx, hubDir);
    if (countHub !== n + LATENCY_WARMUP) throw new Error(`hub database has ${countHub} documents, expected ${n + LATENCY_WARMUP}`);
    return {
      n,
      docBytes,
      seconds,
      extra: {
        ...latencyStats(latencies),
        measuredTo: "B's collection emits the change (in this process)",
        warmupChanges: LATENCY_WARMUP,
        hubMaxRssMB: mb(hub.maxRssMB()),
      },
    };
  } finally {
    offChange?.();
    await stopReplicator(push).catch(() => undefined);
    await stopReplicator(pull).catch(() => undefined);
    dbA?.close();
    dbB?.close();
    hub?.kill();
  }
}

export const replicationCases: BenchCase[] = [
  throughputCase('push', '1k', QUICK_THROUGHPUT_N, 'quick'),
  throughputCase('pull', '1k', QUICK_THROUGHPUT_N, 'quick'),
  throughputCase('push', '10k', 10_000, 'full'),
  throughputCase('pull', '10k', 10_000, 'full'),
  throughputCase('push', '100k', 100_000, 'full'),
  throughputCase('pull', '100k', 100_000, 'full'),
  throughputCase('push', '1k', QUICK_THROUGHPUT_N, 'quick', true),
  throughputCase('push', '10k', 10_000, 'full', true),
  throughputCase('pull', '10k', 10_000, 'full', true),
  throughputCase('push', '100k', 100_000, 'full', true),
  throughputCase('pull', '100k', 100_000, 'full', true),
  {
    name: 'tls-identity-create',
    description: 'createIdentity: RSA-2048 key (native) + self-signed certificate (node-forge), median of several',
    goal: { metric: 'p50Ms', op: '<', target: 300 },
    n: (config) => (config.quick ? 3 : 15),
    run: async (ctx) => {
      const n = ctx.config.quick ? 3 : 15;
      const times: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await createIdentity({ isServer: true, label: `bench-${i}`, attributes: { commonName: 'bench' } });
        times.push(performance.now() - s);
      }
      // docBytes: the RSA modulus size, the one size that matters here.
      return { n, docBytes: 2048, seconds: (performance.now() - t0) / 1000, extra: latencyStats(times) };
    },
  },
  {
    name: 'repl-latency-direct',
    description: 'continuous push, one small change at a time: save in this process until the listener process prints its `document` event',
    goal: [
      { metric: 'p50Ms', op: '<', target: 5 },
      { metric: 'p99Ms', op: '<', target: 25 },
    ],
    n: latencyN,
    run: latencyDirect,
  },
  {
    name: 'repl-latency-hub',
    description: "one small change at a time through a hub: save on A (push) -> listener process -> B (pull, continuous) emits the change",
    goal: { metric: 'p50Ms', op: '<', target: 10 },
    n: latencyN,
    run: latencyHub,
  },
];
