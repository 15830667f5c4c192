/**
 * load-50: one listener process and 50 continuous push-and-pull replicators (5 worker processes ×
 * 10, each replicator with its own database) writing for 60 s at a bounded rate, plus writes on the
 * listener's own database; then everything must converge (every document everywhere), with no
 * replication error. Reports the listener's RSS (sampled: peak and at the end) and the time from a
 * write in a worker to the listener having saved it (p50/p99). Full runs only (or `--only load-50`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild } from './child';
import { round, type BenchCase, type BenchContext, type Measurement } from './harness';
import { latencyStats, withTimeout } from './latency';
import type { LoadCommand, LoadReport } from './load-roles';

const WORKERS = 5;
const REPLICATORS_PER_WORKER = 10;
const WRITE_SECONDS = 60;
/** Writes per second into each replicator's database, and into the listener's. */
const RATE_PER_REPLICATOR = 1;
const RATE_ON_LISTENER = 5;
const READY_TIMEOUT_MS = 120_000;
const CONVERGE_TIMEOUT_MS = 300_000;
const RSS_SAMPLE_MS = 500;

type Reply<E extends LoadReport['event']> = Extract<LoadReport, { event: E }>;

/** One child process (bench/load-roles.ts) and its report queue. */
class Role {
  readonly child: ChildProcess;
  private readonly queue: LoadReport[] = [];
  private waiter: ((r: LoadReport) => void) | undefined;
  private exitNote = '';

  constructor(
    readonly label: string,
    repoRoot: string,
    args: readonly string[],
  ) {
    this.child = fork(join(__dirname, 'load-roles.ts'), args, { cwd: repoRoot, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    trackChild(this.child);
    this.child.on('message', (m: LoadReport) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(m);
      } else this.queue.push(m);
    });
    this.child.once('exit', (code, signal) => {
      this.exitNote = ` (exited: code ${code}, signal ${signal})`;
      this.waiter?.({ event: 'failed', error: `${label} exited (code ${code}, signal ${signal})` });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(cmd: LoadCommand): void {
    this.child.send(cmd);
  }

  /** The next report, which must be `event` (a `failed` report or an exit fails the case). */
  async next<E extends LoadReport['event']>(event: E, timeoutMs: number): Promise<Reply<E>> {
    const r = await withTimeout(
      new Promise<LoadReport>((resolve) => {
        const queued = this.queue.shift();
        if (queued) resolve(queued);
        else this.waiter = resolve;
      }),
      timeoutMs,
      () => `${this.label} to report ${event}${this.exitNote}`,
    );
    if (r.event !== event) throw new Error(`${this.label}: expected ${event}, got ${JSON.stringify(r).slice(0, 2000)}`);
    return r as Reply<E>;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** VmRSS of a process in MB (Linux), undefined elsewhere or once it is gone. */
function rssMB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function load50(ctx: BenchContext): Promise<Measurement> {
  const caseDir = ctx.tempDir('load-50');
  const roles: Role[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const listener = new Role('listener', ctx.config.repoRoot, ['listener', join(caseDir, 'listener')]);
    roles.push(listener);
    const { port } = await listener.next('ready', READY_TIMEOUT_MS);
    const url = `ws://127.0.0.1:${String(port)}/listener`;
    const workers = Array.from({ length: WORKERS }, (_, w) => new Role(`worker ${w}`, ctx.config.repoRoot, ['worker', url, join(caseDir, `w${w}`), String(REPLICATORS_PER_WORKER), `w${w}`]));
    roles.push(...workers);
    await Promise.all(workers.map((w) => w.next('ready', READY_TIMEOUT_MS)));

    let peakRss = rssMB(listener.pid) ?? 0;
    sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMB(listener.pid) ?? 0);
    }, RSS_SAMPLE_MS);

    const t0 = performance.now();
    for (const w of workers) w.send({ cmd: 'write', seconds: WRITE_SECONDS, ratePerDb: RATE_PER_REPLICATOR });
    listener.send({ cmd: 'write', seconds: WRITE_SECONDS, ratePerDb: RATE_ON_LISTENER });
    const wrote = await Promise.all(roles.map((r) => r.next('wrote', WRITE_SECONDS * 1000 + 60_000)));
    const total = wrote.reduce((sum, r) => sum + r.documents, 0);
    const writeEnd = performance.now();

    // Every document written anywhere must reach every database: the listener's and all 50 others.
    for (const r of roles) r.send({ cmd: 'converge', expected: total, timeoutMs: CONVERGE_TIMEOUT_MS });
    const converged = await Promise.all(roles.map((r) => r.next('converged', CONVERGE_TIMEOUT_MS + 30_000)));
    const convergeSeconds = (performance.now() - writeEnd) / 1000;
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    sampler = undefined;
    const endRss = rssMB(listener.pid);
    peakRss = Math.max(peakRss, endRss ?? 0);
    const missing = converged.flatMap((c, i) => c.counts.map((n, k) => ({ where: `${roles[i]!.label}/${k}`, n })).filter((x) => x.n !== total));
    const latencies = converged[0]!.latenciesMs ?? [];

    // Replicators first: a listener stopping under them would close their connections (1001).
    for (const w of workers) w.send({ cmd: 'stop' });
    const stopped = await Promise.all(workers.map((w) => w.next('stopped', 60_000)));
    listener.send({ cmd: 'stop' });
    stopped.push(await listener.next('stopped', 60_000));
    const errors = stopped.reduce((sum, s) => sum + s.errors, 0);
    if (missing.length > 0 || converged.some((c) => !c.ok)) {
      throw new Error(`did not converge within ${CONVERGE_TIMEOUT_MS} ms: expected ${total} documents in each database; ${missing.length} differ, e.g. ${JSON.stringify(missing.slice(0, 5))}`);
    }
    if (errors > 0) throw new Error(`${errors} replication errors, e.g. ${JSON.stringify(stopped.flatMap((s) => s.errorSamples).slice(0, 5))}`);
    if (latencies.length === 0) throw new Error('the listener measured no write latency');
    const stats = latencyStats(latencies);

    return {
      n: total,
      docBytes: 80,
      seconds,
      extra: {
        ...stats,
        measuredTo: 'worker save (its Date.now() in the document) to the listener process having saved the pushed revision (its Date.now()), per document',
        replicators: WORKERS * REPLICATORS_PER_WORKER,
        workerProcesses: WORKERS,
        writeSeconds: WRITE_SECONDS,
        ratePerReplicator: RATE_PER_REPLICATOR,
        rateOnListener: RATE_ON_LISTENER,
        documentsPerDatabase: total,
        latencySamples: latencies.length,
        convergeSeconds: round(convergeSeconds, 2),
        replicationErrors: errors,
        listenerPeakRssMB: round(peakRss, 1),
        listenerEndRssMB: endRss === undefined ? 'n/a' : round(endRss, 1),
      },
    };
  } finally {
    if (sampler) clearInterval(sampler);
    for (const r of roles) r.kill();
  }
}

export const loadCase: BenchCase = {
  name: 'load-50',
  description: `${WORKERS * REPLICATORS_PER_WORKER} continuous push-and-pull replicators (${WORKERS} processes × ${REPLICATORS_PER_WORKER}, one database each) against one listener process for ${WRITE_SECONDS} s, ${RATE_PER_REPLICATOR} write/s per replicator and ${RATE_ON_LISTENER}/s on the listener; then convergence (every document everywhere), 0 replication errors; listener RSS peak/end; write-to-listener latency`,
  mode: 'full',
  figure: (r) =>
    `${String(r.extra['replicators'])} replicators, ${String(r.extra['documentsPerDatabase'])} docs in each of 51 databases, 0 errors; write→listener p50 ${String(r.extra['p50Ms'])} ms, p99 ${String(r.extra['p99Ms'])} ms; converged ${String(r.extra['convergeSeconds'])} s after the last write; listener RSS peak ${String(r.extra['listenerPeakRssMB'])} MB, end ${String(r.extra['listenerEndRssMB'])} MB`,
  run: load50,
};
