/**
 * The child processes of the load benchmark (bench/load-case.ts), driven over IPC:
 *
 *   listener  one database served by a Listener (what `peersync serve` runs), written to at a
 *             bounded rate; measures, per document pushed to it, the time from the write in the
 *             worker (its `t`, a Date.now()) to the listener having it saved
 *   worker    several databases, each with one continuous push-and-pull replicator to the listener,
 *             each written to at a bounded rate; counts replication errors
 *
 * Both: `write` for a while, then `converge` (wait, bounded, until every database holds the
 * expected documents), then `stop` (close everything, report, exit).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Listener } from '../server/listener/listener';
import { Replicator } from '../server/replication/replicator';
import { Database, type Collection } from '../server/store';

export type LoadCommand =
  { readonly cmd: 'write'; readonly seconds: number; readonly ratePerDb: number } | { readonly cmd: 'converge'; readonly expected: number; readonly timeoutMs: number } | { readonly cmd: 'stop' };

export type LoadReport =
  | { readonly event: 'ready'; readonly port?: number }
  | { readonly event: 'wrote'; readonly documents: number }
  | { readonly event: 'converged'; readonly ok: boolean; readonly counts: number[]; readonly latenciesMs?: number[] }
  | { readonly event: 'stopped'; readonly errors: number; readonly errorSamples: string[] }
  | { readonly event: 'failed'; readonly error: string };

function report(r: LoadReport): void {
  process.send?.(r);
}

async function openDb(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  return Database.open(dir, { snapshotIntervalMs: 0 });
}

/** Writes `ratePerDb` documents per second into each collection for `seconds`, spread evenly in time. */
async function writeFor(colls: readonly Collection[], prefix: string, seconds: number, ratePerDb: number): Promise<number> {
  const tickMs = 50;
  const start = performance.now();
  let written = 0;
  const owed = colls.map((_, k) => k / colls.length); // staggered, so the databases do not write in lockstep
  let last = start;
  while (performance.now() - start < seconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, tickMs));
    // By the time that passed, not by ticks: a loaded machine runs timers late, and the rate must hold.
    const now = performance.now();
    const elapsedMs = now - last;
    last = now;
    colls.forEach((coll, k) => {
      owed[k]! += (ratePerDb * elapsedMs) / 1000;
      for (; owed[k]! >= 1; owed[k]! -= 1) {
        coll.save({ id: `${prefix}${k}-${String(written++).padStart(6, '0')}`, body: { t: Date.now(), from: `${prefix}${k}`, text: 'load test document' } });
      }
    });
  }
  return written;
}

/** Resolves true once every collection holds `expected` documents, false after `timeoutMs`. */
function converge(colls: readonly Collection[], expected: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const offs: (() => void)[] = [];
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      for (const off of offs) off();
      resolve(ok);
    };
    const check = (): void => {
      if (colls.every((c) => c.count() >= expected)) finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    for (const c of colls) offs.push(c.on('change', check));
    check();
  });
}

async function runListener(dir: string): Promise<void> {
  const db = await openDb(dir);
  // Every replicator connects from loopback: the per-address cap would otherwise stop at 25.
  const listener = new Listener({ database: db, port: 0, networkInterface: '127.0.0.1', disableTLS: true, limits: { maxConnectionsPerAddress: 100 } });
  const coll = db.defaultCollection;
  const latencies: number[] = [];
  let errors = 0;
  const errorSamples: string[] = [];
  listener.on('documentEnded', (e) => {
    if (e.error) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(`${e.direction} ${e.docId}: ${e.error.code} ${e.error.message}`);
      return;
    }
    if (e.direction !== 'pull') return;
    const t = coll.get(e.docId)?.body?.['t'];
    if (typeof t === 'number') latencies.push(Date.now() - t);
  });
  await listener.start();
  report({ event: 'ready', port: listener.port });
  await serve(
    [coll],
    'L',
    async () => {
      await listener.stop();
      db.close();
      return { errors, errorSamples };
    },
    () => latencies,
  );
}

async function runWorker(url: string, dir: string, count: number, name: string): Promise<void> {
  const dbs: Database[] = [];
  const replicators: Replicator[] = [];
  let errors = 0;
  const errorSamples: string[] = [];
  const note = (what: string): void => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(what);
  };
  for (let k = 0; k < count; k++) {
    const db = await openDb(join(dir, `r${k}`));
    dbs.push(db);
    const r = new Replicator({ database: db, target: url, type: 'pushAndPull', continuous: true });
    r.on('change', (s) => {
      if (s.error) note(`${name}/r${k}: ${s.activity}: ${s.error.message}`);
    });
    r.on('documentEnded', (e) => {
      if (e.error) note(`${name}/r${k} ${e.direction} ${e.docId}: ${e.error.code} ${e.error.message}`);
    });
    r.start();
    replicators.push(r);
  }
  await Promise.all(replicators.map((r) => r.waitFor('idle', 60_000)));
  report({ event: 'ready' });
  await serve(
    dbs.map((d) => d.defaultCollection),
    `${name}-`,
    async () => {
      await Promise.all(replicators.map((r) => r.stop()));
      for (const db of dbs) db.close();
      return { errors, errorSamples };
    },
  );
}

/** Answers the parent's commands in order until `stop`. */
function serve(colls: readonly Collection[], prefix: string, stop: () => Promise<{ errors: number; errorSamples: string[] }>, latencies?: () => number[]): Promise<void> {
  return new Promise((resolve) => {
    process.on('message', (m: LoadCommand) => {
      void (async () => {
        try {
          if (m.cmd === 'write') report({ event: 'wrote', documents: await writeFor(colls, prefix, m.seconds, m.ratePerDb) });
          else if (m.cmd === 'converge') {
            const ok = await converge(colls, m.expected, m.timeoutMs);
            report({ event: 'converged', ok, counts: colls.map((c) => c.count()), ...(latencies ? { latenciesMs: latencies() } : {}) });
          } else {
            report({ event: 'stopped', ...(await stop()) });
            resolve();
          }
        } catch (e) {
          report({ event: 'failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        }
      })();
    });
  });
}

async function main(): Promise<void> {
  const [role, ...args] = process.argv.slice(2);
  try {
    if (role === 'listener') await runListener(args[0]!);
    else if (role === 'worker') await runWorker(args[0]!, args[1]!, Number(args[2]), args[3]!);
    else throw new Error(`unknown role ${String(role)}`);
  } catch (e) {
    report({ event: 'failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  process.disconnect?.();
}

if (require.main === module) void main();
