/**
 * PouchDB comparators, run side by side with PeerSync's replication cases in the same process:
 *
 *   pouchdb-{push,pull}-{1k,10k,100k}  one-shot replication of the bench's 1 KB docs between a
 *                                      pouchdb-node client database (LevelDB) in this process and a
 *                                      `pouchdb-server --in-memory` child process on 127.0.0.1
 *   pouchdb-latency-hub                live replication A -> pouchdb-server -> B (A and B in this
 *                                      process), one small change at a time
 *
 * Setup (pouchSetup, once per run): both packages are devDependencies. pouchdb-node's LevelDB
 * binding (leveldown) ships prebuilt N-API binaries (prebuilds/linux-x64 …) that node-gyp-build
 * loads at require time, so npm's install script is not needed — and npm 11 skips dependencies'
 * install scripts unless `allowScripts` approves them. If the binding does not load anyway (another
 * platform, a damaged install), the setup builds it explicitly: npm's bundled node-gyp `rebuild` in
 * leveldown's directory, against the headers beside the running node (`npm_config_nodedir`, e.g.
 * /usr for /usr/bin/node; about 20 s on 2 cores). If that fails too, the client falls back to
 * pouchdb-adapter-memory (pouchdb-server's own dependency) and every PouchDB result says so in
 * `extra.clientAdapter`. The server uses memdown (`--in-memory`), which is pure JavaScript.
 *
 * PouchDB's replication runs with its defaults (batch_size 100, batches_limit 10), as an
 * application would use it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { docId, makeBody } from './docs';
import { round, type BenchCase, type BenchContext, type Measurement } from './harness';
import { Arrivals, FULL_LATENCY_N, LATENCY_WARMUP, latencyLoop, latencyStats, withTimeout } from './latency';
import { throughputN } from './modes';
import { CliProcess, rssDirFor } from './procs';

// ---- the slice of PouchDB's API used here (the packages ship no types) ----

interface PouchDoc {
  readonly _id: string;
  readonly [field: string]: unknown;
}

interface ReplicationResult {
  readonly ok?: boolean;
  readonly status?: string;
  readonly docs_read?: number;
  readonly docs_written?: number;
  readonly doc_write_failures?: number;
  readonly errors?: unknown[];
}

/** A replication: awaitable (one-shot), an event emitter, cancellable. */
interface Replication extends PromiseLike<ReplicationResult> {
  on(event: 'change' | 'paused' | 'active' | 'complete' | 'error' | 'denied', cb: (info: unknown) => void): Replication;
  once(event: 'paused' | 'complete' | 'error', cb: (info: unknown) => void): Replication;
  cancel(): void;
}

interface ChangesFeed {
  on(event: 'change', cb: (change: { id: string }) => void): ChangesFeed;
  on(event: 'error', cb: (e: unknown) => void): ChangesFeed;
  cancel(): void;
}

interface PouchDatabase {
  put(doc: PouchDoc): Promise<{ ok: boolean }>;
  bulkDocs(docs: PouchDoc[]): Promise<{ ok?: boolean; error?: unknown; id?: string; reason?: string }[]>;
  info(): Promise<{ doc_count: number }>;
  changes(opts: { since: 'now'; live: true }): ChangesFeed;
  close(): Promise<void>;
}

interface PouchStatic {
  new (name: string, opts?: { adapter?: string }): PouchDatabase;
  replicate(source: PouchDatabase, target: PouchDatabase, opts?: { live?: boolean; retry?: boolean }): Replication;
  plugin(plugin: unknown): PouchStatic;
  readonly version: string;
}

// ---- setup ----

export interface PouchSetup {
  readonly PouchDB: PouchStatic;
  /** The client databases' adapter: LevelDB (pouchdb-node's default) or the in-memory fallback. */
  readonly clientAdapter: 'leveldb' | 'memory';
  /** How the LevelDB binding was obtained (or why the fallback was used). */
  readonly adapterNote: string;
  readonly serverBin: string;
  readonly clientVersion: string;
  readonly serverVersion: string;
  /** Opens a client database stored under `dir` (LevelDB) or named after it (memory). */
  open(dir: string): PouchDatabase;
}

/** Guards against a hang only: a busy machine can take many seconds to start a process. */
const SERVER_READY_TIMEOUT_MS = 120_000;
const BUILD_TIMEOUT_MS = 10 * 60_000;
const FILL_BATCH = 1000;

let setupMemo: Promise<PouchSetup> | undefined;

/** Resolves pouchdb-node, pouchdb-server and a working LevelDB binding, once per process. */
export function pouchSetup(repoRoot: string): Promise<PouchSetup> {
  setupMemo ??= setup(repoRoot);
  return setupMemo;
}

function packageDir(name: string, from: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
  } catch {
    throw new Error(`${name} is not installed (it is a devDependency of this repository: run \`npm ci\`)`);
  }
}

function version(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Loads `dir` (leveldown) in a throw-away process: null if it loads, else why not. */
function loadProblem(dir: string): string | null {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(dir)})`], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return null;
  return (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(0, 6).join(' | ');
}

/** npm's bundled node-gyp (the one `npm install` would run), if it can be found. */
function nodeGypScript(): string | undefined {
  const candidates = [process.env['npm_config_node_gyp'], join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  return candidates.find((c): c is string => typeof c === 'string' && c !== '' && existsSync(c));
}

/** Node's headers for native builds: $npm_config_nodedir, or the ones beside the running node (/usr/include/node for /usr/bin/node). */
function nodeHeadersDir(): string | undefined {
  const configured = process.env['npm_config_nodedir'];
  if (configured && existsSync(join(configured, 'include', 'node', 'node.h'))) return configured;
  const beside = join(dirname(process.execPath), '..');
  return existsSync(join(beside, 'include', 'node', 'node.h')) ? beside : undefined;
}

/** Builds leveldown's binding in place (build/Release, which node-gyp-build prefers over prebuilds). */
function buildLeveldown(dir: string): string | null {
  const gyp = nodeGypScript();
  if (!gyp) return "node-gyp not found (neither $npm_config_node_gyp nor npm's bundled copy)";
  const headers = nodeHeadersDir();
  const env: NodeJS.ProcessEnv = { ...process.env, ...(headers ? { npm_config_nodedir: headers } : {}) };
  process.stderr.write(`bench: building leveldown in ${dir} (node ${gyp} rebuild${headers ? `, npm_config_nodedir=${headers}` : ''})…\n`);
  const r = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: dir, env, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  if (r.status === 0) return null;
  return `node-gyp rebuild failed (exit ${r.status}): ${(r.stderr || r.stdout || r.error?.message || '').trim().split('\n').slice(-4).join(' | ')}`;
}

async function setup(repoRoot: string): Promise<PouchSetup> {
  const clientDir = packageDir('pouchdb-node', repoRoot);
  const serverDir = packageDir('pouchdb-server', repoRoot);
  const serverBin = join(serverDir, 'bin', 'pouchdb-server');
  if (!existsSync(serverBin)) throw new Error(`${serverBin} is missing (reinstall: npm ci)`);
  const leveldownDir = packageDir('leveldown', clientDir);

  let clientAdapter: 'leveldb' | 'memory' = 'leveldb';
  let adapterNote: string;
  const problem = loadProblem(leveldownDir);
  if (problem === null) {
    adapterNote = `leveldown ${version(leveldownDir)} loaded (${existsSync(join(leveldownDir, 'build', 'Release')) ? 'built binding' : 'prebuilt binding shipped in the package'})`;
  } else {
    process.stderr.write(`bench: leveldown's native binding does not load: ${problem}\n`);
    const buildProblem = buildLeveldown(leveldownDir);
    const after = buildProblem ?? loadProblem(leveldownDir);
    if (after === null) {
      adapterNote = `leveldown ${version(leveldownDir)} built by the bench (node-gyp rebuild)`;
    } else {
      clientAdapter = 'memory';
      adapterNote = `pouchdb-adapter-memory: leveldown could not be loaded or built (${after})`;
      process.stderr.write(`bench: PouchDB client falls back to the in-memory adapter: ${after}\n`);
    }
  }

  // The client is whichever install the checks above settled on, so it is loaded by path, synchronously.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  let PouchDB = require(clientDir) as PouchStatic;
  if (clientAdapter === 'memory') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    PouchDB = PouchDB.plugin(require(packageDir('pouchdb-adapter-memory', serverDir)));
  }
  const open = (dir: string): PouchDatabase => (clientAdapter === 'memory' ? new PouchDB(dir, { adapter: 'memory' }) : new PouchDB(dir));
  return { PouchDB, clientAdapter, adapterNote, serverBin, clientVersion: version(clientDir), serverVersion: version(serverDir), open };
}

// ---- pouchdb-server ----

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A process's own peak RSS (VmHWM) while it runs; undefined where /proc is not available. */
function procPeakRssMB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface PouchServer {
  readonly proc: CliProcess;
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** Peak RSS so far (read from /proc while it runs). */
  peakRssMB(): number | undefined;
  /** Stops it (SIGTERM; it has no clean-shutdown path, so its exit code is not checked). */
  stop(): Promise<void>;
}

/** Polls GET / until pouchdb-server answers with its welcome document. */
async function waitUntilAnswers(proc: CliProcess, url: string): Promise<void> {
  const deadline = performance.now() + SERVER_READY_TIMEOUT_MS;
  let last = '';
  while (performance.now() < deadline) {
    if (!proc.running) throw new Error(`pouchdb-server exited before answering\n${proc.describe()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.ok && body.includes('express-pouchdb')) return;
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pouchdb-server did not answer ${url} within ${SERVER_READY_TIMEOUT_MS} ms (last: ${last})\n${proc.describe()}`);
}

/**
 * Starts `pouchdb-server --in-memory` on 127.0.0.1 and a free port, its config and (warning-level)
 * log in `dir`, and waits until it answers. Retries with another port if the chosen one was taken.
 */
export async function startPouchServer(ctx: BenchContext, setup: PouchSetup, dir: string): Promise<PouchServer> {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.json');
  // Quiet: warnings and errors only, to a file in the case's directory (never to stdout: -n).
  writeFileSync(config, `${JSON.stringify({ log: { file: join(dir, 'log.txt'), level: 'warning' } }, null, 2)}\n`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = new CliProcess(
      'pouchdb-server',
      setup.serverBin,
      ['--in-memory', '--host', '127.0.0.1', '--port', String(port), '-n', '--no-color', '--config', config, '--dir', dir],
      rssDirFor(ctx),
      { cwd: dir },
    );
    const url = `http://127.0.0.1:${port}/`;
    try {
      await waitUntilAnswers(proc, url);
      let peak = 0;
      const peakRssMB = (): number | undefined => {
        const now = procPeakRssMB(proc.pid);
        if (now !== undefined) peak = Math.max(peak, now);
        return peak > 0 ? peak : undefined;
      };
      return {
        proc,
        url,
        peakRssMB,
        async stop() {
          peakRssMB();
          await proc.stop(10_000).catch(() => proc.kill());
        },
      };
    } catch (e) {
      proc.kill();
      lastError = e;
      if (!/already in use/.test(proc.describe())) break;
    }
  }
  throw lastError;
}

// ---- throughput ----

/** Writes docs 0..n-1 into `db` with bulkDocs of 1,000 (untimed); returns the mean body size. */
async function fill(ctx: BenchContext, db: PouchDatabase, n: number): Promise<number> {
  let bytes = 0;
  for (let b = 0; b < n; b += FILL_BATCH) {
    const docs: PouchDoc[] = [];
    for (let i = b; i < Math.min(n, b + FILL_BATCH); i++) {
      const body = makeBody(i);
      bytes += Buffer.byteLength(JSON.stringify(body));
      docs.push({ _id: docId(i), ...body });
    }
    const res = await db.bulkDocs(docs);
    const bad = res.find((r) => r.error !== undefined && r.error !== false);
    if (bad) throw new Error(`bulkDocs failed for ${bad.id}: ${String(bad.error)} ${bad.reason ?? ''}`);
    ctx.sample();
  }
  return Math.round(bytes / Math.max(1, n));
}

function mb(x: number | undefined): number | string {
  return x === undefined ? 'n/a' : round(x, 1);
}

async function pouchThroughput(ctx: BenchContext, direction: 'push' | 'pull', n: number): Promise<Measurement> {
  const setup = await pouchSetup(ctx.config.repoRoot);
  const caseDir = ctx.tempDir(`pouchdb-${direction}-${n}`);
  let server: PouchServer | undefined;
  let local: PouchDatabase | undefined;
  let remote: PouchDatabase | undefined;
  let replication: Replication | undefined;
  try {
    server = await startPouchServer(ctx, setup, join(caseDir, 'server'));
    remote = new setup.PouchDB(`${server.url}bench`);
    local = setup.open(join(caseDir, 'client'));
    const [source, target] = direction === 'push' ? [local, remote] : [remote, local];

    // Untimed: the source database (in this process for push, in the server over HTTP for pull).
    const fillStart = performance.now();
    const docBytes = await fill(ctx, source, n);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const sourceCount = (await source.info()).doc_count;
    if (sourceCount !== n) throw new Error(`source has ${sourceCount} documents after the fill, expected ${n}`);
    ctx.sample();

    // Timed: from PouchDB.replicate() to its completion.
    const t0 = performance.now();
    const rep = setup.PouchDB.replicate(source, target);
    replication = rep;
    rep.on('change', () => ctx.sample());
    const res = await withTimeout(Promise.resolve(rep), 60_000 + n * 5, () => `PouchDB ${direction} of ${n} docs`);
    const seconds = (performance.now() - t0) / 1000;
    replication = undefined;
    ctx.sample();
    if (res.status !== 'complete' || res.docs_written !== n) {
      throw new Error(`PouchDB replication ended with status ${String(res.status)}, ${String(res.docs_written)}/${n} docs written, ${String(res.doc_write_failures)} failures`);
    }
    const targetCount = (await target.info()).doc_count;
    if (targetCount !== n) throw new Error(`target has ${targetCount} documents, expected ${n}`);

    return {
      n,
      docBytes,
      seconds,
      extra: {
        timedBy: 'PouchDB.replicate() to completion, in this process',
        clientAdapter: setup.clientAdapter,
        adapterNote: setup.adapterNote,
        server: 'pouchdb-server --in-memory (child process, 127.0.0.1, HTTP)',
        batchSize: 100,
        batchesLimit: 10,
        pouchdbVersion: setup.clientVersion,
        pouchdbServerVersion: setup.serverVersion,
        serverMaxRssMB: mb(server.peakRssMB()),
        fillSeconds: round(fillSeconds, 3),
      },
    };
  } finally {
    replication?.cancel();
    await local?.close().catch(() => undefined);
    await remote?.close().catch(() => undefined);
    await server?.stop();
    rmSync(caseDir, { recursive: true, force: true });
  }
}

function pouchThroughputCase(direction: 'push' | 'pull', label: string, n: number, mode: 'quick' | 'full'): BenchCase {
  const what =
    direction === 'push'
      ? 'from a pouchdb-node client database (LevelDB) in this process to pouchdb-server --in-memory'
      : 'from pouchdb-server --in-memory to a pouchdb-node client database (LevelDB) in this process';
  return {
    name: `pouchdb-${direction}-${label}`,
    description: `comparator: PouchDB one-shot ${direction} of ${n.toLocaleString('en-US')} x 1 KB docs (the same as repl-*) ${what} over loopback HTTP; PouchDB's default batch sizes`,
    mode,
    n: (config) => throughputN(n, mode, config),
    run: (ctx) => pouchThroughput(ctx, direction, throughputN(n, mode, ctx.config)),
  };
}

// ---- latency through a hub ----

/** Resolves on the replication's next `paused` (caught up, waiting for changes); rejects on error or timeout. */
function firstPaused(rep: Replication, what: string): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      rep.once('paused', (err) => (err ? reject(new Error(`${what} paused with an error: ${String(err)}`)) : resolve()));
      rep.once('error', (e) => reject(new Error(`${what} failed: ${String(e)}`)));
    }),
    SERVER_READY_TIMEOUT_MS,
    () => `${what} to catch up`,
  );
}

async function cancelReplication(rep: Replication | undefined): Promise<void> {
  if (!rep) return;
  const done = new Promise<void>((resolve) => {
    rep.once('complete', () => resolve());
  });
  rep.cancel();
  await withTimeout(done, 10_000, () => 'cancelling a live PouchDB replication').catch(() => undefined);
}

async function pouchLatencyHub(ctx: BenchContext): Promise<Measurement> {
  const n = FULL_LATENCY_N;
  const setup = await pouchSetup(ctx.config.repoRoot);
  const caseDir = ctx.tempDir('pouchdb-latency-hub');
  let server: PouchServer | undefined;
  let a: PouchDatabase | undefined;
  let b: PouchDatabase | undefined;
  let hub: PouchDatabase | undefined;
  let push: Replication | undefined;
  let pull: Replication | undefined;
  let feed: ChangesFeed | undefined;
  try {
    server = await startPouchServer(ctx, setup, join(caseDir, 'server'));
    const srv = server;
    hub = new setup.PouchDB(`${server.url}hub`);
    await hub.info(); // creates the database on the server
    a = setup.open(join(caseDir, 'a'));
    b = setup.open(join(caseDir, 'b'));
    const arrivals = new Arrivals(() => `${srv.proc.describe()}`);
    void srv.proc.exited.then(() => arrivals.fail(new Error(`pouchdb-server exited\n${srv.proc.describe()}`)));

    // Live replication A -> hub and hub -> B, as an application syncing two clients through a server.
    push = setup.PouchDB.replicate(a, hub, { live: true, retry: false });
    pull = setup.PouchDB.replicate(hub, b, { live: true, retry: false });
    const pushPaused = firstPaused(push, 'live push A -> hub');
    const pullPaused = firstPaused(pull, 'live pull hub -> B');
    for (const [rep, label] of [
      [push, 'push A -> hub'],
      [pull, 'pull hub -> B'],
    ] as const) {
      rep.on('error', (e) => arrivals.fail(new Error(`live ${label} failed: ${String(e)}`)));
      rep.on('denied', (e) => arrivals.fail(new Error(`live ${label}: a document was denied: ${JSON.stringify(e)}`)));
    }
    await Promise.all([pushPaused, pullPaused]);
    feed = b.changes({ since: 'now', live: true });
    feed.on('change', (c) => arrivals.arrived(c.id, performance.now()));
    feed.on('error', (e) => arrivals.fail(new Error(`B's changes feed failed: ${String(e)}`)));

    const dbA = a;
    const { latencies, seconds, docBytes } = await latencyLoop(
      ctx,
      (id, body) => dbA.put({ _id: id, ...body }),
      n,
      (id) => arrivals.arm(id),
    );
    const countB = (await b.info()).doc_count;
    if (countB !== n + LATENCY_WARMUP) throw new Error(`database B has ${countB} documents, expected ${n + LATENCY_WARMUP}`);
    return {
      n,
      docBytes,
      seconds,
      extra: {
        ...latencyStats(latencies),
        measuredTo: "B's live changes feed emits the change (in this process)",
        warmupChanges: LATENCY_WARMUP,
        clientAdapter: setup.clientAdapter,
        pouchdbVersion: setup.clientVersion,
        pouchdbServerVersion: setup.serverVersion,
        serverMaxRssMB: mb(server.peakRssMB()),
      },
    };
  } finally {
    feed?.cancel();
    await cancelReplication(push);
    await cancelReplication(pull);
    for (const db of [a, b, hub]) await db?.close().catch(() => undefined);
    await server?.stop();
    rmSync(caseDir, { recursive: true, force: true });
  }
}

export const pouchThroughputCases = {
  push1k: pouchThroughputCase('push', '1k', 1_000, 'quick'),
  push10k: pouchThroughputCase('push', '10k', 10_000, 'full'),
  pull10k: pouchThroughputCase('pull', '10k', 10_000, 'full'),
  push100k: pouchThroughputCase('push', '100k', 100_000, 'full'),
  pull100k: pouchThroughputCase('pull', '100k', 100_000, 'full'),
} as const;

export const pouchLatencyHubCase: BenchCase = {
  name: 'pouchdb-latency-hub',
  description:
    "comparator: PouchDB live replication A -> pouchdb-server --in-memory -> B (A and B: pouchdb-node LevelDB databases in this process), one small change at a time, until B's live changes feed emits it",
  mode: 'full',
  n: () => FULL_LATENCY_N,
  run: pouchLatencyHub,
};
