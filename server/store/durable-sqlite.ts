import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Database as SqlJsDatabase, SqlValue, Statement } from 'sql.js';
import { StoreError } from './errors';
import { Journal } from './journal';
import { decodeJournalRecord, encodeJournalRecord, type JournalRecord, type SqlParam } from './journal-record';
import { LockFile } from './lock-file';
import { loadSqlJsEngine, type SqlJsEngine } from './sqljs-loader';

export type { SqlParam } from './journal-record';

export interface DurableSqliteOptions {
  /** Create the directory and an empty database when none exists (default true). */
  readonly create?: boolean;
  /** Write a snapshot once the journal grows past this many bytes (default 64 MiB). */
  readonly snapshotThresholdBytes?: number;
  /** Also snapshot a non-empty journal this often (default 5 minutes; 0 = never on a timer). */
  readonly snapshotIntervalMs?: number;
  /** Reports problems that do not fail an operation (e.g. a periodic snapshot that could not be written). */
  readonly onWarning?: (message: string) => void;
}

interface Txn {
  ops: [string, SqlParam[]][];
  rollbackHooks: (() => void)[];
  afterCommit: (() => void)[];
  beforeCommit: (() => void)[];
}

const SNAPSHOT_PATTERN = /^snapshot-(\d{16})-([0-9a-f]{8})\.sqlite$/;
const SNAPSHOT_TMP = 'snapshot.tmp';
const JOURNAL_FILE = 'journal.log';
const LOCK_FILE = 'LOCK';

/**
 * sql.js (an in-memory SQLite) made durable: every write transaction is appended to a checksummed
 * journal and fsync'd before it commits in memory, and the whole image is periodically written as
 * an atomic snapshot after which the journal is emptied. Opening = load the newest snapshot, then
 * replay the journal records it does not contain.
 *
 * Replication and storage layers above only see run/query/transaction; they never touch files.
 */
export class DurableSqlite {
  private readonly statements = new Map<string, Statement>();
  private txn: Txn | undefined;
  private closed = false;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private readonly threshold: number;
  private readonly warn: (message: string) => void;

  private constructor(
    readonly dir: string,
    private db: SqlJsDatabase,
    private readonly journal: Journal,
    private readonly lock: LockFile,
    private lsn: number,
    private snapshotLsn: number,
    options: DurableSqliteOptions,
  ) {
    this.threshold = options.snapshotThresholdBytes ?? 64 * 1024 * 1024;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, 'PeerSyncStorage'));
    const interval = options.snapshotIntervalMs ?? 5 * 60 * 1000;
    if (interval > 0) {
      this.snapshotTimer = setInterval(() => this.snapshotIfDirty(), interval);
      this.snapshotTimer.unref();
    }
  }

  static async open(dir: string, options: DurableSqliteOptions = {}): Promise<DurableSqlite> {
    if (!existsSync(dir)) {
      if (options.create === false) throw new StoreError('NOT_FOUND', `no database at ${dir}`);
      mkdirSync(dir, { recursive: true });
    }
    const engine = await loadSqlJsEngine();
    const lock = LockFile.acquire(join(dir, LOCK_FILE));
    let journal: Journal | undefined;
    try {
      const tmp = join(dir, SNAPSHOT_TMP);
      if (existsSync(tmp)) unlinkSync(tmp); // an interrupted snapshot; the previous one is intact
      const snap = newestSnapshot(dir);
      let db: SqlJsDatabase;
      let snapshotLsn = 0;
      if (snap) {
        db = loadSnapshot(engine, join(dir, snap.file), snap.crc);
        snapshotLsn = snap.lsn;
      } else {
        db = engine.openInMemory();
      }
      applyPragmas(db);
      const opened = Journal.open(join(dir, JOURNAL_FILE));
      journal = opened.journal;
      if (opened.tornBytes > 0) options.onWarning?.(`discarded ${opened.tornBytes} bytes of an unfinished journal write (never acknowledged)`);
      const lsn = replay(db, opened.records, snapshotLsn, dir);
      return new DurableSqlite(dir, db, journal, lock, lsn, snapshotLsn, options);
    } catch (e) {
      journal?.close();
      lock.release();
      throw e;
    }
  }

  /** Runs a read-only statement and returns all rows as arrays. */
  all(sql: string, params: SqlParam[] = []): SqlValue[][] {
    const stmt = this.prepare(sql);
    try {
      stmt.bind(params);
      const rows: SqlValue[][] = [];
      while (stmt.step()) rows.push(stmt.get());
      return rows;
    } finally {
      stmt.reset();
    }
  }

  one(sql: string, params: SqlParam[] = []): SqlValue[] | undefined {
    const stmt = this.prepare(sql);
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.get() : undefined;
    } finally {
      stmt.reset();
    }
  }

  /** Runs a modifying statement; only inside transaction(), where it is recorded for the journal. */
  run(sql: string, params: SqlParam[] = []): void {
    const txn = this.txn;
    if (!txn) throw new StoreError('INVALID_ARGUMENT', 'writes must run inside a transaction');
    this.prepare(sql).run(params);
    txn.ops.push([sql, params]);
  }

  /** Rows changed by the last run(). */
  changes(): number {
    return this.db.getRowsModified();
  }

  get inTransaction(): boolean {
    return this.txn !== undefined;
  }

  /** Registers work to undo in-memory state if the current transaction rolls back. */
  onRollback(fn: () => void): void {
    if (!this.txn) throw new StoreError('INVALID_ARGUMENT', 'onRollback outside a transaction');
    this.txn.rollbackHooks.push(fn);
  }

  /** Runs just before the outermost transaction is journaled (e.g. to persist counters once). */
  beforeCommit(fn: () => void): void {
    if (!this.txn) throw new StoreError('INVALID_ARGUMENT', 'beforeCommit outside a transaction');
    this.txn.beforeCommit.push(fn);
  }

  /** Runs after the outermost transaction is durable (e.g. to emit change events). */
  afterCommit(fn: () => void): void {
    if (!this.txn) throw new StoreError('INVALID_ARGUMENT', 'afterCommit outside a transaction');
    this.txn.afterCommit.push(fn);
  }

  /**
   * Runs fn atomically; returns only after its changes are fsync'd to the journal — or, with
   * `deferDurability`, once they are written in order, with `whenDurable()` telling when an
   * fsync (shared with other transactions) has covered them. A nested call joins the outer
   * transaction (callers validate before writing, so a failed step leaves nothing half-written).
   */
  transaction<T>(fn: () => T, options: { deferDurability?: boolean } = {}): T {
    this.assertOpen();
    if (this.txn) return fn();
    const txn: Txn = { ops: [], rollbackHooks: [], afterCommit: [], beforeCommit: [] };
    this.db.run('BEGIN');
    this.txn = txn;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) throw new StoreError('INVALID_ARGUMENT', 'transaction bodies must be synchronous');
      for (let i = 0; i < txn.beforeCommit.length; i++) txn.beforeCommit[i]!();
      if (txn.ops.length > 0) this.journal.append(encodeJournalRecord(this.lsn + 1, txn.ops), options.deferDurability !== true);
    } catch (e) {
      this.txn = undefined;
      this.db.run('ROLLBACK');
      for (const hook of txn.rollbackHooks.reverse()) hook();
      throw e;
    }
    this.txn = undefined;
    this.db.run('COMMIT');
    if (txn.ops.length > 0) this.lsn++;
    for (const hook of txn.afterCommit) hook();
    if (this.journal.size > this.threshold) this.snapshotIfDirty();
    return result;
  }

  /** Resolves once every committed transaction is on stable storage. */
  whenDurable(): Promise<void> {
    return this.journal.whenDurable();
  }

  /** Size of the SQLite image: what a snapshot of it would write. */
  get imageBytes(): number {
    const row = this.one('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()');
    return Number(row?.[0] ?? 0);
  }

  /** Journal bytes not yet folded into a snapshot. */
  get journalBytes(): number {
    return this.journal.size;
  }

  get logSequence(): number {
    return this.lsn;
  }

  /**
   * Writes the whole database image to a temp file, fsyncs it, renames it into place, then empties
   * the journal. A crash at any point leaves either the old snapshot + full journal, or the new
   * snapshot + a journal whose records it already contains (skipped by LSN on replay).
   */
  snapshot(): void {
    this.assertOpen();
    if (this.txn) throw new StoreError('INVALID_ARGUMENT', 'cannot snapshot inside a transaction');
    const bytes = this.db.export();
    // export() resets connection-level settings in some sql.js versions; keep ours.
    applyPragmas(this.db);
    const tmp = join(this.dir, SNAPSHOT_TMP);
    const final = join(this.dir, snapshotName(this.lsn, crc32(bytes)));
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, final);
      syncDir(this.dir);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to clean */
      }
      const code = (e as NodeJS.ErrnoException).code;
      throw new StoreError('IO', `snapshot not written${code === 'ENOSPC' ? ': the disk is full' : `: ${(e as Error).message}`}; the journal still holds every change`, { cause: e });
    }
    for (const file of readdirSync(this.dir)) {
      const m = SNAPSHOT_PATTERN.exec(file);
      if (m && join(this.dir, file) !== final) unlinkSync(join(this.dir, file));
    }
    this.journal.reset();
    this.snapshotLsn = this.lsn;
  }

  private snapshotIfDirty(): void {
    if (this.closed || this.txn || this.snapshotLsn === this.lsn) return;
    try {
      this.snapshot();
    } catch (e) {
      this.warn((e as Error).message);
    }
  }

  /**
   * Ordered, best-effort shutdown. The journal stays as it is unless `snapshot: true`: replaying
   * it (at most the snapshot threshold, 64 MiB by default) takes a fraction of a second on the next
   * open, while a snapshot here would cost a second full copy of the image in memory at every
   * shutdown.
   */
  close(options: { snapshot?: boolean } = {}): void {
    if (this.closed) return;
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    if (options.snapshot === true) this.snapshotIfDirty();
    this.closed = true;
    const steps: [string, () => void][] = [
      ['free statements', () => this.statements.forEach((s) => s.free())],
      ['close database', () => this.db.close()],
      ['close journal', () => this.journal.close()],
      ['release lock', () => this.lock.release()],
    ];
    for (const [what, step] of steps) {
      try {
        step();
      } catch (e) {
        this.warn(`${what} failed during close: ${(e as Error).message}`);
      }
    }
    this.statements.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private prepare(sql: string): Statement {
    this.assertOpen();
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('CLOSED', 'database is closed');
  }
}

/** The snapshot's bytes live only in this frame, so they can be collected as soon as SQLite holds the pages. */
function loadSnapshot(engine: SqlJsEngine, file: string, crc: number): SqlJsDatabase {
  const bytes = readFileSync(file);
  if (crc32(bytes) !== crc) throw new StoreError('CORRUPT', `snapshot ${file} fails its checksum; the files were left untouched`);
  let db: SqlJsDatabase | undefined;
  try {
    db = engine.openInMemory(bytes);
    db.exec('SELECT count(*) FROM sqlite_master');
    return db;
  } catch (e) {
    db?.close();
    throw new StoreError('CORRUPT', `snapshot ${file} is not a readable database (${(e as Error).message}); the files were left untouched`);
  }
}

function applyPragmas(db: SqlJsDatabase): void {
  // Durability comes from our journal; SQLite's rollback journal stays in memory (only for ROLLBACK).
  db.exec('PRAGMA journal_mode=MEMORY; PRAGMA temp_store=MEMORY');
}

function replay(db: SqlJsDatabase, records: Buffer[], snapshotLsn: number, dir: string): number {
  let lsn = snapshotLsn;
  let first = true;
  db.run('BEGIN');
  try {
    for (const raw of records) {
      const rec: JournalRecord = decodeJournalRecord(raw);
      if (rec.lsn <= snapshotLsn) continue; // already in the snapshot (crash between snapshot and journal reset)
      if (rec.lsn !== lsn + 1) {
        const why = first && snapshotLsn === 0 ? 'the snapshot it continues is missing' : `expected record ${lsn + 1}, found ${rec.lsn}`;
        throw new StoreError('CORRUPT', `journal in ${dir} does not continue the snapshot (${why}); the files were left untouched`);
      }
      first = false;
      // Prepared on first use: a statement may refer to a table an earlier one in the record creates.
      const stmts: (Statement | undefined)[] = [];
      try {
        for (const [qi, params] of rec.ops) (stmts[qi] ??= db.prepare(rec.sql[qi]!)).run(params as SqlParam[]);
      } finally {
        for (const s of stmts) s?.free();
      }
      lsn = rec.lsn;
    }
    db.run('COMMIT');
  } catch (e) {
    db.run('ROLLBACK');
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError('CORRUPT', `journal in ${dir} could not be replayed: ${(e as Error).message}; the files were left untouched`, { cause: e });
  }
  return lsn;
}

function snapshotName(lsn: number, crc: number): string {
  return `snapshot-${String(lsn).padStart(16, '0')}-${crc.toString(16).padStart(8, '0')}.sqlite`;
}

function newestSnapshot(dir: string): { file: string; lsn: number; crc: number } | undefined {
  let best: { file: string; lsn: number; crc: number } | undefined;
  for (const file of readdirSync(dir)) {
    const m = SNAPSHOT_PATTERN.exec(file);
    if (!m) continue;
    const lsn = Number(m[1]);
    if (!best || lsn > best.lsn) best = { file, lsn, crc: parseInt(m[2]!, 16) };
  }
  return best;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
