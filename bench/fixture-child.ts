/**
 * Child process for the open benchmark (see bench/child.ts for why a child is used). Never calls
 * Database.close(): it reports to the parent over IPC and then exits, so the journal it wrote (or
 * found) is left for the next open to replay.
 *
 *   build: fresh database, save `snapshotAfter` docs, db.snapshot(), save the rest, exit.
 *   open:  time loadSqlJs() and Database.open() in a fresh process (cold), count the docs, exit.
 */
import { NO_AUTO_SNAPSHOT, ownPeakRssMB, type BuildReport, type ChildReport, type ChildRequest, type OpenReport } from './child';
import { docId, makeBody } from './docs';
import { Database, type DocumentInput } from '../server/store';
import { loadSqlJs } from '../server/store/sqljs-loader';

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function build(req: Extract<ChildRequest, { mode: 'build' }>): Promise<BuildReport> {
  const db = await Database.open(req.dir, NO_AUTO_SNAPSHOT);
  const coll = db.defaultCollection;
  /** Saves docs [from, to) in batches; returns the seconds spent in inBatch (document generation excluded). */
  const saveRange = (from: number, to: number): number => {
    let total = 0;
    for (let b = from; b < to; b += req.batchSize) {
      const end = Math.min(to, b + req.batchSize);
      const docs: DocumentInput[] = [];
      for (let i = b; i < end; i++) docs.push({ id: docId(i), body: makeBody(i) });
      const t0 = process.hrtime.bigint();
      db.inBatch(() => {
        for (const d of docs) coll.save(d);
      });
      total += seconds(t0);
    }
    return total;
  };
  const savedBeforeSnapshotSeconds = saveRange(0, req.snapshotAfter);
  const t0 = process.hrtime.bigint();
  db.snapshot();
  const snapshotSeconds = seconds(t0);
  const savedAfterSnapshotSeconds = saveRange(req.snapshotAfter, req.n);
  if (coll.count() !== req.n) throw new Error(`expected ${req.n} documents, found ${coll.count()}`);
  return {
    mode: 'build',
    savedBeforeSnapshotSeconds,
    snapshotSeconds,
    savedAfterSnapshotSeconds,
    journalBytes: db.info().journalBytes,
    maxRssMB: ownPeakRssMB(),
  };
}

async function open(req: Extract<ChildRequest, { mode: 'open' }>): Promise<OpenReport> {
  const t0 = process.hrtime.bigint();
  await loadSqlJs();
  const loadSqlJsSeconds = seconds(t0);
  const t1 = process.hrtime.bigint();
  const db = await Database.open(req.dir, { ...NO_AUTO_SNAPSHOT, create: false });
  const openSeconds = seconds(t1);
  return { mode: 'open', loadSqlJsSeconds, openSeconds, count: db.defaultCollection.count(), maxRssMB: ownPeakRssMB() };
}

function send(report: ChildReport, code: number): void {
  if (!process.send) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(code);
  }
  // Exit only once the message is handed over; no close(): the journal must survive.
  process.send(report, () => process.exit(code));
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as ChildRequest;
  try {
    send(req.mode === 'build' ? await build(req) : await open(req), 0);
  } catch (e) {
    send({ mode: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 1);
  }
}

if (require.main === module) void main();
