/**
 * The benchmark cases, run in this order. To add one, append an object to `cases`: its run() gets
 * the context (config, temp dirs, shared fixtures, memory sampling) and returns what it timed.
 * The replication cases (bench/repl-cases.ts) come last; some run only in --quick or only in full runs.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NO_AUTO_SNAPSHOT, runChild, type BuildReport, type OpenReport } from './child';
import { makeBody, makeDocs, type DocSet } from './docs';
import { now, round, secondsSince, type BenchCase, type BenchContext } from './harness';
import { cbliteCases } from './cblite-cases';
import { loadCase } from './load-case';
import { replicationCases } from './repl-cases';
import { Database } from '../server/store';
import { runQuery } from '../server/query/run';
import { loadSqlJs } from '../server/store/sqljs-loader';

const MB = 1024 * 1024;
/** Documents written by the untimed warm-up of the write cases. */
const WARMUP_DOCS = 1000;

/** The generated documents, shared by the cases that write them (generation is never timed). */
function docs(ctx: BenchContext): Promise<DocSet> {
  return ctx.fixture('docs', async () => ({ value: makeDocs(ctx.config.n) }));
}

interface SavedDb {
  readonly db: Database;
  readonly n: number;
  readonly docBytes: number;
}

/** Saves every document in batches of `batchSize`, one durable transaction (one fsync) per batch. */
function saveAll(ctx: BenchContext, db: Database, set: DocSet): void {
  const coll = db.defaultCollection;
  const { ids, bodies } = set;
  const n = ids.length;
  const batch = ctx.config.batchSize;
  for (let b = 0; b < n; b += batch) {
    const end = Math.min(n, b + batch);
    db.inBatch(() => {
      for (let i = b; i < end; i++) coll.save({ id: ids[i]!, body: bodies[i]! });
    });
    ctx.sample();
  }
}

/** Store options for the write benchmark: defaults (incl. the 64 MiB auto-snapshot threshold), no timer. */
const WRITE_OPTIONS = { snapshotIntervalMs: 0 } as const;

async function openFilled(ctx: BenchContext): Promise<SavedDb> {
  const set = await docs(ctx);
  const db = await Database.open(ctx.tempDir('saved'), WRITE_OPTIONS);
  saveAll(ctx, db, set);
  return { db, n: set.ids.length, docBytes: set.docBytes };
}

/** Inserts the set into a fresh sql.js database; returns the seconds taken (creation to COMMIT). */
async function rawInsert(ctx: BenchContext, set: DocSet): Promise<number> {
  const SQL = await loadSqlJs();
  const { ids, jsons } = set;
  const n = ids.length;
  const t0 = now();
  const db = new SQL.Database();
  try {
    // The same connection settings the store uses (its durability comes from its own journal).
    db.exec('PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY');
    db.run('CREATE TABLE t(id TEXT PRIMARY KEY, body TEXT)');
    const stmt = db.prepare('INSERT INTO t (id, body) VALUES (?, ?)');
    db.run('BEGIN');
    for (let i = 0; i < n; i++) {
      stmt.run([ids[i]!, jsons[i]!]);
      if (i % 1000 === 999) ctx.sample();
    }
    db.run('COMMIT');
    stmt.free();
    const seconds = secondsSince(t0);
    ctx.sample();
    const count = Number(db.exec('SELECT count(*) FROM t')[0]?.values[0]?.[0]);
    if (count !== n) throw new Error(`expected ${n} rows, found ${count}`);
    return seconds;
  } finally {
    db.close();
  }
}

function fileBytes(dir: string, pattern: RegExp): number {
  let total = 0;
  for (const f of readdirSync(dir)) if (pattern.test(f)) total += statSync(join(dir, f)).size;
  return total;
}

export const cases: BenchCase[] = [
  {
    name: 'sqljs-raw-insert',
    description: 'ceiling: raw sql.js INSERT of N (id, JSON body) rows, prepared statement, one transaction, no durability',
    uses: ['docs'],
    async warmup(ctx) {
      await rawInsert(ctx, makeDocs(Math.min(WARMUP_DOCS, ctx.config.n)));
    },
    async run(ctx) {
      const set = await docs(ctx);
      return { n: set.ids.length, docBytes: set.docBytes, seconds: await rawInsert(ctx, set) };
    },
  },
  {
    name: 'store-save-batched',
    description: `Collection.save of N docs in db.inBatch batches (one journal fsync per batch) into a fresh database`,
    comparator: 'sqljs-raw-insert',
    goal: { metric: 'ratio', op: '>=', target: 0.5 },
    uses: ['docs'],
    async warmup(ctx) {
      const db = await Database.open(ctx.tempDir('store-warmup'), WRITE_OPTIONS);
      try {
        saveAll(ctx, db, makeDocs(Math.min(WARMUP_DOCS, ctx.config.n)));
      } finally {
        db.close();
      }
    },
    async run(ctx) {
      const set = await docs(ctx);
      const dir = ctx.tempDir('store-save');
      const db = await Database.open(dir, WRITE_OPTIONS);
      let provided = false;
      try {
        const t0 = now();
        saveAll(ctx, db, set);
        const seconds = secondsSince(t0);
        const n = set.ids.length;
        const count = db.defaultCollection.count();
        if (count !== n) throw new Error(`expected ${n} documents, found ${count}`);
        const extra = {
          batchSize: ctx.config.batchSize,
          batches: Math.ceil(n / ctx.config.batchSize),
          journalMB: round(db.info().journalBytes / MB, 1),
          // A non-zero snapshot size means the 64 MiB journal threshold triggered automatic snapshots during the run.
          autoSnapshotMB: round(fileBytes(dir, /^snapshot-.*\.sqlite$/) / MB, 1),
        };
        ctx.provide<SavedDb>('savedDb', { db, n, docBytes: set.docBytes }, () => db.close());
        provided = true;
        return { n, docBytes: set.docBytes, seconds, extra };
      } finally {
        if (!provided) db.close();
      }
    },
  },
  {
    name: 'query-filter-sort',
    description: 'SQL++ over the saved database: WHERE on two fields, ORDER BY a third, LIMIT 100 (a full scan: no index)',
    uses: ['savedDb'],
    goal: { metric: 'seconds', op: '<', target: 1 },
    async run(ctx) {
      const saved = await ctx.fixture('savedDb', async () => {
        const s = await openFilled(ctx);
        return { value: s, dispose: () => s.db.close() };
      });
      const query = 'SELECT META().id, name, score FROM _ WHERE active = true AND age BETWEEN 30 AND 40 AND address.country = $country ORDER BY score DESC LIMIT 100';
      runQuery(saved.db, query, { country: 'PT' }); // compiles sql.js's statement paths once, untimed
      const t0 = now();
      const result = runQuery(saved.db, query, { country: 'PT' });
      const seconds = secondsSince(t0);
      ctx.sample();
      if (saved.n >= 10_000 && result.rows.length === 0) throw new Error('the query matched nothing: the fixture changed?');
      // Throughput is documents scanned per second (the whole collection is read).
      return { n: saved.n, docBytes: saved.docBytes, seconds, extra: { rows: result.rows.length } };
    },
  },
  {
    name: 'changes-feed-read',
    description: 'the whole changes feed of the saved database, changesSince(last, { limit: 1000 }) pages',
    uses: ['savedDb'],
    async run(ctx) {
      const saved = await ctx.fixture('savedDb', async () => {
        const s = await openFilled(ctx);
        return { value: s, dispose: () => s.db.close() };
      });
      const coll = saved.db.defaultCollection;
      let last = 0;
      let total = 0;
      let pages = 0;
      let bodyBytes = 0;
      const t0 = now();
      for (;;) {
        const page = coll.changesSince(last, { limit: 1000 });
        if (page.length === 0) break;
        pages++;
        total += page.length;
        for (const c of page) bodyBytes += c.bodySize;
        last = page[page.length - 1]!.sequence;
        ctx.sample();
      }
      const seconds = secondsSince(t0);
      if (total !== saved.n) throw new Error(`changes feed returned ${total} changes, expected ${saved.n}`);
      return { n: total, docBytes: Math.round(bodyBytes / Math.max(1, total)), seconds, extra: { pages } };
    },
  },
  {
    name: 'open-100k',
    description: 'Database.open of N docs: 90% in a snapshot, the last 10% replayed from the journal (sql.js already loaded)',
    goal: { metric: 'seconds', op: '<', target: 1 },
    async run(ctx) {
      const { n, batchSize, repoRoot } = ctx.config;
      const dir = ctx.tempDir('open');
      // Snapshot after 90%, the last 10% only in the journal (as batches of batchSize). Built in a
      // child process that exits without close() — see bench/child.ts.
      const snapshotAfter = Math.floor(n * 0.9);
      const built = await runChild<BuildReport>(repoRoot, { mode: 'build', dir, n, snapshotAfter, batchSize });
      const snapshotBytes = fileBytes(dir, /^snapshot-.*\.sqlite$/);
      const journalBytes = fileBytes(dir, /^journal\.log$/);
      if (snapshotBytes === 0 || (n > snapshotAfter && journalBytes <= 8)) throw new Error('fixture does not have the expected snapshot + journal layout');
      // Cold: a fresh process (includes compiling sql.js's WebAssembly); it too exits without close().
      const cold = await runChild<OpenReport>(repoRoot, { mode: 'open', dir });
      if (cold.count !== n) throw new Error(`cold open found ${cold.count} documents, expected ${n}`);
      await loadSqlJs(); // warm: what Database.open itself costs
      ctx.sample();
      const t0 = now();
      const db = await Database.open(dir, { ...NO_AUTO_SNAPSHOT, create: false });
      const seconds = secondsSince(t0);
      ctx.sample();
      try {
        const count = db.defaultCollection.count();
        if (count !== n) throw new Error(`open found ${count} documents, expected ${n}`);
      } finally {
        db.close(); // untimed
      }
      let sampleBytes = 0;
      const sampleN = Math.min(n, 1000);
      for (let i = 0; i < sampleN; i++) sampleBytes += JSON.stringify(makeBody(i)).length;
      return {
        n,
        docBytes: Math.round(sampleBytes / Math.max(1, sampleN)),
        seconds,
        extra: {
          snapshotDocs: snapshotAfter,
          journalDocs: n - snapshotAfter,
          snapshotMB: round(snapshotBytes / MB, 1),
          journalMB: round(journalBytes / MB, 1),
          coldOpenSeconds: round(cold.openSeconds, 4),
          coldLoadSqlJsSeconds: round(cold.loadSqlJsSeconds, 4),
          fixtureSnapshotSeconds: round(built.snapshotSeconds, 3),
          fixtureBuildSeconds: round(built.savedBeforeSnapshotSeconds + built.savedAfterSnapshotSeconds, 3),
          childMaxRssMB: round(Math.max(built.maxRssMB, cold.maxRssMB), 1),
        },
      };
    },
  },
  ...replicationCases,
  ...cbliteCases,
  loadCase,
];
