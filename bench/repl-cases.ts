/**
 * Replication benchmarks over loopback WebSockets.
 *
 *   repl-{push,pull}-{ws,wss}-*  throughput between two CLI processes (`serve` and `replicate`); the
 *                                wss-100k ones also compare with PouchDB (vsPouchDB) and report each
 *                                process's peak RSS against its database's size on disk
 *   repl-scaling                 derived: time(100k) ÷ time(10k) of the wss rows of this run
 *   repl-latency-direct          continuous push, one change at a time: save here → listener process
 *   repl-latency-hub             save here → hub (listener process) → a second replicator here
 *                                (compared with pouchdb-latency-hub)
 *   repl-fanout-20               one listener process, 20 continuous pullers in this process
 *   server-cold-start            spawn `serve` on a new database until its "ready" line
 *
 * The PouchDB comparators (bench/pouch-cases.ts) are placed in the list below, each just before
 * the PeerSync case that compares with it.
 *
 * Processes bind 127.0.0.1 only; every child is stopped in `finally` (and killed by bench/run.ts on
 * Ctrl-C or a crash); every wait has a timeout that fails with the process's recent output.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { docId, makeBody } from './docs';
import { round, sized, type BenchCase, type BenchConfig, type BenchContext, type Goal, type Measurement } from './harness';
import { Arrivals, CHANGE_TIMEOUT_MS, LATENCY_WARMUP, latencyBody, latencyDocId, latencyLoop, latencyN, latencyStats, percentile, withTimeout } from './latency';
import { pouchLatencyHubCase, pouchThroughputCases } from './pouch-cases';
import { SMOKE_THROUGHPUT_N, throughputN } from './modes';
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

// Every wait below guards against a hang and is not a measure: a busy machine can stall a process
// for many seconds, and a slow machine must not make a case fail.
const READY_TIMEOUT_MS = 120_000;
export const SHORT_COMMAND_TIMEOUT_MS = 300_000;
/** Stopping a listener snapshots its database (a 100k-doc one takes a few seconds). */
const STOP_TIMEOUT_MS = 300_000;
const IDLE_TIMEOUT_MS = 120_000;

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
export function jsonLines(ctx: BenchContext, n: number): Promise<JsonLines> {
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
export async function startListener(ctx: BenchContext, label: string, dir: string, events: boolean, tls = false, extraArgs: readonly string[] = []): Promise<{ proc: CliProcess; url: string }> {
  const listen = tls ? LISTEN.filter((a) => a !== '--no-tls') : LISTEN;
  const proc = startCli(ctx, label, ['serve', '--db', dir, ...listen, '--json', ...(events ? ['--events'] : []), ...extraArgs]);
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
export async function stopCleanly(proc: CliProcess): Promise<void> {
  const exit = await proc.stop(STOP_TIMEOUT_MS);
  if (exit.code !== 0) throw new Error(`${proc.label} did not stop cleanly\n${proc.describe()}`);
}

interface DbFigures {
  /** Documents in the default collection. */
  readonly documents: number;
  /** The database image (page count × page size): what a snapshot of it writes. */
  readonly imageMB: number;
}

/** Read by `db info --json` (the database must not be open elsewhere). */
async function dbFigures(ctx: BenchContext, dir: string): Promise<DbFigures> {
  const info = lastJson(await runCli(ctx, 'db info', ['db', 'info', '--db', dir, '--json'], SHORT_COMMAND_TIMEOUT_MS));
  const colls = info?.['collections'];
  const def = Array.isArray(colls) ? (colls as { name?: unknown; documents?: unknown }[]).find((c) => c.name === '_default._default') : undefined;
  if (typeof def?.documents !== 'number') throw new Error(`db info for ${dir} printed no default-collection count: ${JSON.stringify(info)}`);
  const image = info?.['imageBytes'];
  if (typeof image !== 'number') throw new Error(`db info for ${dir} printed no imageBytes: ${JSON.stringify(info)}`);
  return { documents: def.documents, imageMB: image / (1024 * 1024) };
}

/** Document count of the default collection. */
export async function countDocs(ctx: BenchContext, dir: string): Promise<number> {
  return (await dbFigures(ctx, dir)).documents;
}

function mb(x: number | undefined): number | string {
  return x === undefined ? 'n/a' : round(x, 1);
}

// ---- throughput: two processes ----

/**
 * Each process's peak RSS next to the size of the database it held (its image, as `db info` reports
 * it after close), the ratio RSS / database size per process, and the larger of the two (`rssToDbMax`,
 * the goal's figure).
 */
async function rssVersusDbSize(ctx: BenchContext, procs: Record<'listener' | 'replicate', [number | undefined, string]>): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  const ratios: number[] = [];
  for (const [label, [rss, dir]] of Object.entries(procs)) {
    const db = (await dbFigures(ctx, dir)).imageMB;
    out[`${label}DbMB`] = mb(db);
    if (rss !== undefined && db > 0) {
      const ratio = round(rss / db, 2);
      out[`${label}RssToDb`] = ratio;
      ratios.push(ratio);
    } else {
      out[`${label}RssToDb`] = 'n/a';
    }
  }
  out['rssToDbMax'] = ratios.length === 2 ? Math.max(...ratios) : 'n/a';
  return out;
}

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
    const exit = await active.waitForExit(SHORT_COMMAND_TIMEOUT_MS + n * 5, 'finish replicating');
    if (exit.code !== 0) throw new Error(`replicate --${direction} failed\n${active.describe()}`);
    const wallSeconds = (active.exitedAt! - active.startedAt) / 1000;
    const done = lastJson(active.lines, 'done');
    const elapsedMs = done?.['elapsedMs'];
    if (typeof elapsedMs !== 'number' || !(elapsedMs > 0)) throw new Error(`replicate printed no "done" line with elapsedMs (is dist/cli.js current?)\n${active.describe()}`);
    if (done?.['completed'] !== n) throw new Error(`replicate completed ${String(done?.['completed'])}/${String(done?.['total'])} documents, expected ${n}\n${active.describe()}`);
    ctx.sample();
    await stopCleanly(listener);
    ctx.sample();
    // Both databases are closed now: their image sizes, beside each process's peak RSS.
    const memory = await rssVersusDbSize(ctx, { listener: [listener.maxRssMB(), listenerDir], replicate: [active.maxRssMB(), activeDir] });

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
        ...memory,
      },
    };
  } finally {
    active?.kill();
    listener?.kill();
  }
}

/** PeerSync replication at least this many times PouchDB's docs/s (same docs, same N, same direction, same run). */
const VS_POUCHDB_GOAL: Goal = { metric: 'vsPouchDB', op: '>=', target: 5, note: 'PeerSync docs/s ÷ PouchDB docs/s, measured in this run' };
/** PeerSync replication at least this fraction of the raw sql.js insert rate (the storage ceiling), same run. */
const VS_RAW_INSERT_GOAL: Goal = { metric: 'vsRawInsert', op: '>=', target: 0.3, note: 'PeerSync docs/s ÷ sqljs-raw-insert docs/s, measured in this run' };
/** Peak RSS of each process at most this multiple of the database it holds (snapshot size on disk). */
const RSS_TO_DB_GOAL: Goal = { metric: 'rssToDbMax', op: '<=', target: 2.5, optional: true, note: 'max over listener and replicate of peak RSS ÷ database image size' };

function throughputCase(direction: 'push' | 'pull', label: string, n: number, mode: 'quick' | 'full', tls = false, pouchdb?: string): BenchCase {
  const from = direction === 'push' ? 'the replicate process' : 'the listener process';
  const to = direction === 'push' ? 'the listener (serve)' : 'the replicate process';
  const scheme = tls ? 'wss' : 'ws';
  const goals: Goal[] = tls ? [THROUGHPUT_GOAL, { metric: 'ratio', op: '>=', target: 0.85 }] : [THROUGHPUT_GOAL];
  // Against PouchDB (the case `pouchdb`, run just before in the same process): the speed-up and the memory budget.
  if (pouchdb) goals.push(VS_POUCHDB_GOAL, VS_RAW_INSERT_GOAL, RSS_TO_DB_GOAL);
  return {
    name: `repl-${direction}-${scheme}-${label}`,
    description: `one-shot ${direction} of ${n.toLocaleString('en-US')} x 1 KB docs from ${from} to ${to} over loopback ${scheme}; timed by the replicate process's elapsedMs${pouchdb ? `; compared with ${pouchdb}` : ''}`,
    mode,
    // wss is compared with ws in the same run: within 15% is the goal.
    ...(tls ? { comparator: `repl-${direction}-ws-${label}` } : {}),
    goal: goals.length === 1 ? goals[0]! : goals,
    ...(pouchdb
      ? {
          comparisons: [
            { key: 'vsPouchDB', against: pouchdb },
            { key: 'vsRawInsert', against: 'sqljs-raw-insert' },
          ],
        }
      : {}),
    uses: [`repl-jsonl-${n}`, `repl-jsonl-${SMOKE_THROUGHPUT_N}`],
    n: (config) => throughputN(n, mode, config),
    run: (ctx) => throughput(ctx, direction, throughputN(n, mode, ctx.config), tls),
  };
}

// ---- latency: one change at a time ----

/** The latency loop's save function for a PeerSync collection (synchronous). */
function saver(coll: Collection): (id: string, body: JsonObject) => void {
  return (id, body) => {
    coll.save({ id, body });
  };
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
    const { latencies, seconds, docBytes } = await latencyLoop(
      ctx,
      saver(db.defaultCollection),
      n,
      (id) => arrivals.arm(id),
      (i, wall0) => saveWall.set(latencyDocId(i), wall0),
    );
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
    const { latencies, seconds, docBytes } = await latencyLoop(ctx, saver(dbA.defaultCollection), n, (id) => arrivals.arm(id));
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

// ---- fan-out: one listener, many continuous pullers ----

const FANOUT = { full: { pullers: 20, changes: 100 }, quick: { pullers: 5, changes: 20 }, smoke: { pullers: 2, changes: 3 } } as const;
/** Untimed changes before the measured ones (every puller's first deliveries warm up its code paths). */
const FANOUT_WARMUP = 5;

function fanoutSize(config: BenchConfig): { pullers: number; changes: number } {
  return sized<{ pullers: number; changes: number }>(config, FANOUT);
}

/**
 * Per change, a promise that resolves once every puller has emitted it, with the time of the first
 * and of the last emission.
 */
class FanoutArrivals {
  private readonly waiting = new Map<string, { seen: Set<number>; first: number; resolve: (t: { first: number; last: number }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private failure: Error | undefined;

  constructor(
    private readonly pullers: number,
    private readonly describe: () => string,
  ) {}

  arm(id: string): Promise<{ first: number; last: number }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        reject(new Error(`${w?.seen.size ?? 0}/${this.pullers} pullers emitted ${id} within ${CHANGE_TIMEOUT_MS} ms\n${this.describe()}`));
      }, CHANGE_TIMEOUT_MS);
      this.waiting.set(id, { seen: new Set(), first: 0, resolve, reject, timer });
    });
  }

  arrived(id: string, puller: number, at: number): void {
    const w = this.waiting.get(id);
    if (!w || w.seen.has(puller)) return;
    if (w.seen.size === 0) w.first = at;
    w.seen.add(puller);
    if (w.seen.size < this.pullers) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve({ first: w.first, last: at });
  }

  fail(e: Error): void {
    this.failure ??= e;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.reject(e);
    }
  }
}

async function fanout(ctx: BenchContext): Promise<Measurement> {
  const { pullers: count, changes: n } = fanoutSize(ctx.config);
  const caseDir = ctx.tempDir('repl-fanout');
  const listenerDir = join(caseDir, 'listener');
  let listener: CliProcess | undefined;
  let writerDb: Database | undefined;
  let writer: Replicator | undefined;
  const dbs: Database[] = [];
  const pullers: Replicator[] = [];
  const offs: (() => void)[] = [];
  try {
    const started = await startListener(ctx, 'listener', listenerDir, false);
    listener = started.proc;
    const proc = listener;
    const arrivals = new FanoutArrivals(count, () => `${proc.describe()}\n  writer (push): ${writer?.status.activity ?? '-'}\n  pullers: ${pullers.map((p) => p.status.activity).join(', ')}`);
    void proc.exited.then(() => arrivals.fail(new Error(`listener exited\n${proc.describe()}`)));

    // The pullers: continuous pull replicators in this process, each into its own database.
    for (let k = 0; k < count; k++) {
      const db = await openDb(join(caseDir, `puller-${String(k).padStart(2, '0')}`));
      dbs.push(db);
      pullers.push(await startContinuous(db, started.url, 'pull'));
      offs.push(
        db.defaultCollection.on('change', (batch) => {
          const at = performance.now();
          for (const c of batch) arrivals.arrived(c.docId, k, at);
        }),
      );
    }
    ctx.sample();
    // The writer: the listener process holds its database, so changes reach it through one more
    // replicator here, pushing continuously from database A.
    writerDb = await openDb(join(caseDir, 'writer'));
    writer = await startContinuous(writerDb, started.url, 'push');

    const coll = writerDb.defaultCollection;
    const toAll: number[] = [];
    const toFirst: number[] = [];
    let bodyBytes = 0;
    let loopStart = 0;
    for (let i = -FANOUT_WARMUP; i < n; i++) {
      if (i === 0) loopStart = performance.now();
      const id = latencyDocId(i);
      const body = latencyBody(i);
      const arrived = arrivals.arm(id);
      const t0 = performance.now();
      coll.save({ id, body });
      let t: { first: number; last: number };
      try {
        t = await arrived;
      } catch (e) {
        throw new Error(`change ${i} (${id}): ${(e as Error).message}`);
      }
      if (i >= 0) {
        toAll.push(t.last - t0);
        toFirst.push(t.first - t0);
        bodyBytes += JSON.stringify(body).length;
      }
      if (i % 10 === 0) ctx.sample();
    }
    const seconds = (performance.now() - loopStart) / 1000;
    for (let k = 0; k < count; k++) {
      const c = dbs[k]!.defaultCollection.count();
      if (c !== n + FANOUT_WARMUP) throw new Error(`puller ${k} has ${c} documents, expected ${n + FANOUT_WARMUP}`);
    }

    for (const off of offs.splice(0)) off();
    await stopReplicator(writer);
    writer = undefined;
    for (const p of pullers.splice(0)) await stopReplicator(p);
    await stopCleanly(listener);
    const all = latencyStats(toAll);
    const first = latencyStats(toFirst);
    return {
      n,
      docBytes: Math.round(bodyBytes / Math.max(1, n)),
      seconds,
      extra: {
        ...all,
        measuredTo: `all ${count} pullers' collections emitted the change (pullers and writer in this process; listener a child process)`,
        pullers: count,
        firstPullerP50Ms: first['p50Ms']!,
        firstPullerP99Ms: first['p99Ms']!,
        warmupChanges: FANOUT_WARMUP,
        listenerMaxRssMB: mb(listener.maxRssMB()),
      },
    };
  } finally {
    for (const off of offs) off();
    await stopReplicator(writer).catch(() => undefined);
    for (const p of pullers) await stopReplicator(p).catch(() => undefined);
    writerDb?.close();
    for (const db of dbs) db.close();
    listener?.kill();
  }
}

// ---- cold start ----

const COLD_START_RUNS = { full: 5, quick: 2, smoke: 1 } as const;
/** Written by the extension-host suite when it measures activation (optional). */
const EXTHOST_ACTIVATION_FILE = join('bench', 'results', 'exthost-activation.json');

/** The extension host's activation time, if a run of the extension-host suite left it behind. */
function extensionActivation(repoRoot: string): Record<string, number | string> {
  const file = join(repoRoot, EXTHOST_ACTIVATION_FILE);
  if (!existsSync(file)) return { extensionActivationMs: `not measured (${EXTHOST_ACTIVATION_FILE} absent)` };
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    // Written by test/exthost/suite/server-and-conflicts.test.ts: activate() itself, and until the server answers.
    const ms = v['activateMs'];
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return { extensionActivationMs: `not measured (${EXTHOST_ACTIVATION_FILE} has no activateMs)` };
    const ready = v['serverReadyMs'];
    const at = v['measuredAt'];
    return {
      extensionActivationMs: round(ms, 1),
      ...(typeof ready === 'number' ? { extensionServerReadyMs: round(ready, 1) } : {}),
      ...(typeof at === 'string' ? { extensionActivationMeasuredAt: at } : {}),
    };
  } catch (e) {
    return { extensionActivationMs: `not measured (${EXTHOST_ACTIVATION_FILE} unreadable: ${(e as Error).message})` };
  }
}

async function coldStart(ctx: BenchContext): Promise<Measurement> {
  const runs = sized(ctx.config, COLD_START_RUNS);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const dir = join(ctx.tempDir('cold-start'), 'db'); // does not exist yet: serve creates it
    const proc = startCli(ctx, 'serve (cold start)', ['serve', '--db', dir, '--port', '0', '--interface', '127.0.0.1', '--no-tls', '--json']);
    try {
      let readyAt: number | undefined;
      proc.onLine((line, at) => {
        if (readyAt === undefined && parseEvent(line, 'ready')) readyAt = at;
      });
      await proc.waitForLine('serve to print its "ready" line', READY_TIMEOUT_MS, (l) => parseEvent(l, 'ready'));
      if (readyAt === undefined) throw new Error('ready line seen without its receipt time');
      times.push(readyAt - proc.startedAt);
      // `serve` installs its signal handlers before it prints "ready", so SIGTERM can follow at once.
      await stopCleanly(proc);
    } finally {
      proc.kill();
    }
  }
  const s = [...times].sort((a, b) => a - b);
  return {
    n: runs,
    docBytes: 0,
    seconds: times.reduce((a, b) => a + b, 0) / 1000,
    extra: {
      p50Ms: round(percentile(s, 50), 1),
      minMs: round(s[0]!, 1),
      maxMs: round(s[s.length - 1]!, 1),
      runs,
      measuredFrom: 'spawn of `node dist/cli.js serve --db <new dir> --port 0 --interface 127.0.0.1 --no-tls --json` to the bench reading its "ready" line',
      ...extensionActivation(ctx.config.repoRoot),
    },
  };
}

// ---- scaling (derived from the throughput rows of this run) ----

const SCALING_GOAL_MAX = 11;

/** Identities created by tls-identity-create (the median is reported). */
const IDENTITY_RUNS = { full: 15, quick: 3, smoke: 1 } as const;

function scaling(ctx: BenchContext): Measurement {
  const extra: Record<string, number | string> = {};
  for (const direction of ['push', 'pull'] as const) {
    const small = ctx.result(`repl-${direction}-wss-10k`);
    const large = ctx.result(`repl-${direction}-wss-100k`);
    extra[`${direction}Scaling`] = small && large ? round(large.seconds / small.seconds, 3) : `not measured (repl-${direction}-wss-10k and -100k must run first)`;
    if (small && large) extra[`${direction}Seconds10k100k`] = `${small.seconds} / ${large.seconds}`;
  }
  extra['derivedFrom'] = 'seconds of repl-{push,pull}-wss-100k ÷ repl-{push,pull}-wss-10k (10× the documents; 10 = linear)';
  return { n: 0, docBytes: 0, seconds: 0, extra };
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
  // PouchDB side by side: its cases run just before the PeerSync cases that compare with them.
  pouchThroughputCases.push1k,
  pouchThroughputCases.push10k,
  pouchThroughputCases.pull10k,
  pouchThroughputCases.push100k,
  throughputCase('push', '100k', 100_000, 'full', true, pouchThroughputCases.push100k.name),
  pouchThroughputCases.pull100k,
  throughputCase('pull', '100k', 100_000, 'full', true, pouchThroughputCases.pull100k.name),
  {
    name: 'repl-scaling',
    description: 'derived: time(100k) ÷ time(10k) of repl-push-wss and repl-pull-wss in this run (10 would be linear)',
    mode: 'full',
    derived: true,
    goal: [
      { metric: 'pushScaling', op: '<=', target: SCALING_GOAL_MAX, optional: true },
      { metric: 'pullScaling', op: '<=', target: SCALING_GOAL_MAX, optional: true },
    ],
    figure: (r) => `push ${String(r.extra['pushScaling'])}×, pull ${String(r.extra['pullScaling'])}× (time 100k ÷ 10k)`,
    n: () => 0,
    run: async (ctx) => scaling(ctx),
  },
  {
    name: 'tls-identity-create',
    description: 'createIdentity: RSA-2048 key (native) + self-signed certificate (node-forge), median of several',
    goal: { metric: 'p50Ms', op: '<', target: 300 },
    n: (config) => sized(config, IDENTITY_RUNS),
    run: async (ctx) => {
      const n = sized(ctx.config, IDENTITY_RUNS);
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
  pouchLatencyHubCase,
  {
    name: 'repl-latency-hub',
    description: 'one small change at a time through a hub: save on A (push) -> listener process -> B (pull, continuous) emits the change; compared with pouchdb-latency-hub (full runs)',
    // vsPouchDBP50: PouchDB's p50 ÷ PeerSync's (how many times lower PeerSync's is); n/a when the comparator did not run (--quick).
    goal: [
      { metric: 'p50Ms', op: '<', target: 10 },
      { metric: 'vsPouchDBP50', op: '>=', target: 2, note: "PouchDB's p50 ÷ PeerSync's p50, this run" },
    ],
    comparisons: [
      { key: 'vsPouchDBP50', against: pouchLatencyHubCase.name, metric: 'p50Ms', better: 'lower' },
      { key: 'vsPouchDBP99', against: pouchLatencyHubCase.name, metric: 'p99Ms', better: 'lower' },
    ],
    n: latencyN,
    run: latencyHub,
  },
  {
    name: 'repl-fanout-20',
    description: `fan-out: one listener process; ${FANOUT.full.pullers} continuous pull replicators IN THE BENCH PROCESS, each into its own database; ${FANOUT.full.changes} changes one at a time pushed to the listener by a further continuous replicator here; per change, time until every puller's collection emitted it (--quick: ${FANOUT.quick.pullers} pullers, ${FANOUT.quick.changes} changes)`,
    goal: { metric: 'p99Ms', op: '<', target: 250 },
    n: (config) => fanoutSize(config).changes,
    run: fanout,
  },
  {
    name: 'server-cold-start',
    description: `cold start: spawn \`node dist/cli.js serve\` on a new database until its "ready" line, median of ${COLD_START_RUNS.full} (--quick: ${COLD_START_RUNS.quick}); also the extension's activation time if ${EXTHOST_ACTIVATION_FILE} exists`,
    figure: (r) =>
      `median ${String(r.extra['p50Ms'])} ms (${String(r.extra['runs'])} runs); extension activation ${typeof r.extra['extensionActivationMs'] === 'number' ? `${r.extra['extensionActivationMs']} ms` : 'not measured'}`,
    n: (config) => sized(config, COLD_START_RUNS),
    run: coldStart,
  },
];
