import { chmodSync, closeSync, existsSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Database as SqlJsDatabase, SqlValue, Statement } from 'sql.js';
import { StoreError } from './errors';
import { Journal } from './journal';
import { decodeJournalRecord, encodeJournalRecord, type JournalRecord, type SqlParam } from './journal-record';
import { LockFile } from './lock-file';
import {
  loadSnapshot,
  newestSnapshot,
  openSnapshotTemp,
  publishSnapshot,
  releaseNow,
  removeInterruptedSnapshots,
  snapshotError,
  snapshotPath,
  SNAPSHOT_BG_TMP,
  SNAPSHOT_TMP,
  syncSnapshotTemp,
  writeSnapshotInBackground,
  writeSnapshotTemp,
} from './snapshot-files';
import { loadSqlJsEngine } from './sqljs-loader';
import { logger } from '../util/log';

const log = logger('store');

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

/** Database folders (and the blobs folder) are readable by their owner only; files are created 0600. */
const PRIVATE_DIR = 0o700;
/** The first wait after a failed automatic snapshot. */
const FIRST_SNAPSHOT_RETRY_MS = 5_000;
const JOURNAL_FILE = 'journal.log';
/** The journal as it was when a background snapshot began; deleted once that snapshot is durable. */
const JOURNAL_FROZEN = 'journal.prev';
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
  /** Bumped by every snapshot that starts: a background one finishing later sees it was overtaken. */
  private snapshotGeneration = 0;
  private backgroundSnapshot: Promise<void> | undefined;
  /**
   * After a snapshot fails (a full disk, say), automatic ones wait before trying again, doubling
   * the wait up to the timer's interval: otherwise every commit past the threshold would pay for an
   * export and a failed write. The journal keeps everything meanwhile.
   */
  private snapshotRetryAt = 0;
  private snapshotRetryDelayMs = 0;
  private readonly retryCapMs: number;

  private constructor(
    readonly dir: string,
    private db: SqlJsDatabase,
    private readonly journal: Journal,
    private readonly lock: LockFile,
    private lsn: number,
    private snapshotLsn: number,
    /** Size of journal.prev, or 0 when there is none. */
    private frozenJournalBytes: number,
    options: DurableSqliteOptions,
  ) {
    this.threshold = options.snapshotThresholdBytes ?? 64 * 1024 * 1024;
    this.retryCapMs = Math.max(options.snapshotIntervalMs ?? 5 * 60 * 1000, FIRST_SNAPSHOT_RETRY_MS);
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, 'PeerSyncStorage'));
    const interval = options.snapshotIntervalMs ?? 5 * 60 * 1000;
    if (interval > 0) {
      this.snapshotTimer = setInterval(() => this.snapshotSoon(), interval);
      this.snapshotTimer.unref();
    }
  }

  static async open(dir: string, options: DurableSqliteOptions = {}): Promise<DurableSqlite> {
    if (!existsSync(dir)) {
      if (options.create === false) throw new StoreError('NOT_FOUND', `no database at ${dir}`);
      mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
    }
    // Documents are private to their owner, like the keystore; a folder made by an older version is tightened.
    if (process.platform !== 'win32') {
      try {
        chmodSync(dir, PRIVATE_DIR);
      } catch {
        /* not ours to change (another owner): its permissions stay as they are */
      }
    }
    const engine = await loadSqlJsEngine();
    const lock = LockFile.acquire(join(dir, LOCK_FILE));
    let journal: Journal | undefined;
    try {
      removeInterruptedSnapshots(dir);
      recoverRotation(dir);
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
      // Records are applied as they are read, so a large journal is never in memory whole. A
      // background snapshot that did not finish leaves the journal it froze: replayed first.
      const replay = new Replay(db, snapshotLsn, dir);
      let frozenBytes: number;
      try {
        frozenBytes = replayFrozenJournal(join(dir, JOURNAL_FROZEN), (raw) => replay.apply(raw));
        const opened = Journal.open(join(dir, JOURNAL_FILE), (raw) => replay.apply(raw));
        journal = opened.journal;
        if (opened.tornBytes > 0) options.onWarning?.(`discarded ${opened.tornBytes} bytes of an unfinished journal write (never acknowledged)`);
        replay.commit();
      } catch (e) {
        log.error('open failed while replaying the journal', { path: dir, snapshot: snap?.file ?? 'none', error: e });
        throw replay.abandon(e);
      }
      log.info('opened', {
        path: dir,
        snapshot: snap?.file ?? 'none',
        journalRecordsReplayed: replay.lsn - snapshotLsn,
        lsn: replay.lsn,
        ...(frozenBytes > 0 ? { frozenJournalBytes: frozenBytes } : {}),
      });
      return new DurableSqlite(dir, db, journal, lock, replay.lsn, snapshotLsn, frozenBytes, options);
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

  /**
   * Runs a one-off SELECT (a user's query, say) and returns at most `maxRows` rows. The statement is
   * freed afterwards instead of cached: queries vary without end, and the cache would keep each one.
   */
  select(sql: string, params: SqlParam[], maxRows: number): SqlValue[][] {
    this.assertOpen();
    if (!/^\s*SELECT\b/i.test(sql)) throw new StoreError('INVALID_ARGUMENT', 'only a SELECT can run as a query');
    const stmt = this.db.prepare(sql);
    try {
      stmt.bind(params);
      const rows: SqlValue[][] = [];
      while (rows.length < maxRows && stmt.step()) rows.push(stmt.get());
      return rows;
    } finally {
      stmt.free();
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
    if (this.journal.size > this.threshold) this.snapshotSoon();
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
    return this.journal.size + this.frozenJournalBytes;
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
    this.snapshotGeneration++;
    const tmp = join(this.dir, SNAPSHOT_TMP);
    const image = this.exportImage(this.lsn);
    syncSnapshotTemp(writeSnapshotTemp(tmp, image.bytes), tmp);
    this.publish(tmp, image.final, this.lsn);
    this.journal.reset();
  }

  /** Puts a durable temp snapshot in place; what it makes redundant goes. */
  private publish(tmp: string, final: string, lsn: number): void {
    publishSnapshot(this.dir, tmp, final);
    this.dropFrozenJournal();
    this.snapshotLsn = lsn;
    log.info('snapshot written', { path: this.dir, file: basename(final), lsn });
  }

  /**
   * The snapshot the journal threshold and the timer take. The image is copied (export) and the
   * journal rotated here; writing the copy and fsyncing it, the slow parts, run on the thread pool
   * while writes go on, and the frozen journal is deleted once the snapshot is durable. The copy's
   * memory is handed back as soon as it is written. Falls back to snapshot() when a frozen journal
   * is still waiting for an earlier snapshot that failed.
   */
  private snapshotSoon(): void {
    if (this.closed || this.txn || this.backgroundSnapshot || this.snapshotLsn === this.lsn) return;
    if (Date.now() < this.snapshotRetryAt) return;
    try {
      if (this.frozenJournalBytes > 0) {
        this.snapshot();
        this.snapshotSucceeded();
        return;
      }
      this.snapshotGeneration++;
      const generation = this.snapshotGeneration;
      const lsn = this.lsn;
      const tmp = join(this.dir, SNAPSHOT_BG_TMP);
      const image = this.exportImage(lsn);
      let fd: number;
      try {
        fd = openSnapshotTemp(tmp);
      } catch (e) {
        releaseNow(image.bytes);
        throw e;
      }
      const frozenBytes = this.journal.size;
      try {
        this.journal.rotate(join(this.dir, JOURNAL_FROZEN));
      } catch (e) {
        releaseNow(image.bytes);
        closeSync(fd);
        unlinkSync(tmp);
        throw e;
      }
      this.frozenJournalBytes = frozenBytes;
      this.backgroundSnapshot = this.finishSnapshotInBackground({ fd, tmp, final: image.final }, image.bytes, lsn, generation)
        .then(() => this.snapshotSucceeded())
        .catch((e: unknown) => this.snapshotFailed(e))
        .finally(() => (this.backgroundSnapshot = undefined));
    } catch (e) {
      this.snapshotFailed(e);
    }
  }

  private snapshotSucceeded(): void {
    this.snapshotRetryAt = 0;
    this.snapshotRetryDelayMs = 0;
  }

  private snapshotFailed(e: unknown): void {
    this.snapshotRetryDelayMs = Math.min(Math.max(this.snapshotRetryDelayMs * 2, FIRST_SNAPSHOT_RETRY_MS), this.retryCapMs);
    this.snapshotRetryAt = Date.now() + this.snapshotRetryDelayMs;
    log.warn('snapshot failed', { path: this.dir, error: e, retryInSeconds: Math.round(this.snapshotRetryDelayMs / 1000) });
    this.warn(`${(e as Error).message} (next attempt in ${Math.round(this.snapshotRetryDelayMs / 1000)} s)`);
  }

  /** The image as a snapshot file's bytes, and the file's final name (LSN and CRC). */
  private exportImage(lsn: number): { bytes: Uint8Array; final: string } {
    const bytes = this.db.export();
    applyPragmas(this.db);
    return { bytes, final: snapshotPath(this.dir, lsn, bytes) };
  }

  private async finishSnapshotInBackground(file: { fd: number; tmp: string; final: string }, bytes: Uint8Array, lsn: number, generation: number): Promise<void> {
    const { fd, tmp, final } = file;
    try {
      await writeSnapshotInBackground(fd, bytes);
    } catch (e) {
      closeSync(fd);
      if (this.closed) return;
      throw snapshotError(e, tmp);
    }
    closeSync(fd);
    // Closed meanwhile: the lock may already belong to another opener, so touch nothing.
    if (this.closed) return;
    // A newer snapshot was taken meanwhile (and has folded the frozen journal in).
    if (generation !== this.snapshotGeneration) {
      unlinkSync(tmp);
      return;
    }
    this.publish(tmp, final, lsn);
  }

  /** Resolves when no background snapshot is being written (for tests and orderly shutdowns). */
  async whenSnapshotSettled(): Promise<void> {
    await this.backgroundSnapshot;
  }

  /** Its records are all in a durable snapshot now; a crash before the unlink reaches disk only means they are skipped on replay. */
  private dropFrozenJournal(): void {
    if (this.frozenJournalBytes === 0 && !existsSync(join(this.dir, JOURNAL_FROZEN))) return;
    unlinkSync(join(this.dir, JOURNAL_FROZEN));
    this.frozenJournalBytes = 0;
  }

  private snapshotIfDirty(): void {
    if (this.closed || this.txn || (this.snapshotLsn === this.lsn && this.frozenJournalBytes === 0)) return;
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

function applyPragmas(db: SqlJsDatabase): void {
  // Durability comes from our journal; SQLite's rollback journal stays in memory (only for ROLLBACK).
  db.exec('PRAGMA journal_mode=MEMORY; PRAGMA temp_store=MEMORY');
}

/** Applies journal records after a snapshot, in one SQLite transaction, checking they continue it. */
class Replay {
  lsn: number;
  private first = true;

  constructor(
    private readonly db: SqlJsDatabase,
    private readonly snapshotLsn: number,
    private readonly dir: string,
  ) {
    this.lsn = snapshotLsn;
    db.run('BEGIN');
  }

  apply(raw: Buffer): void {
    const rec: JournalRecord = decodeJournalRecord(raw);
    if (rec.lsn <= this.snapshotLsn) return; // already in the snapshot (crash between snapshot and journal reset)
    if (rec.lsn !== this.lsn + 1) {
      const why = this.first && this.snapshotLsn === 0 ? 'the snapshot it continues is missing' : `expected record ${this.lsn + 1}, found ${rec.lsn}`;
      throw new StoreError('CORRUPT', `journal in ${this.dir} does not continue the snapshot (${why}); the files were left untouched`);
    }
    this.first = false;
    // Prepared on first use: a statement may refer to a table an earlier one in the record creates.
    const stmts: (Statement | undefined)[] = [];
    try {
      for (const [qi, params] of rec.ops) (stmts[qi] ??= this.db.prepare(rec.sql[qi]!)).run(params as SqlParam[]);
    } finally {
      for (const s of stmts) s?.free();
    }
    this.lsn = rec.lsn;
  }

  commit(): void {
    this.db.run('COMMIT');
  }

  /** Undoes everything, closes the database and says why. */
  abandon(e: unknown): StoreError {
    try {
      this.db.run('ROLLBACK');
    } catch {
      /* nothing was begun, or it is already undone */
    }
    this.db.close();
    if (e instanceof StoreError) return e;
    return new StoreError('CORRUPT', `journal in ${this.dir} could not be replayed: ${(e as Error).message}; the files were left untouched`, { cause: e });
  }
}

/**
 * A crash between rotate()'s two renames leaves the fresh journal as journal.log.next and no
 * journal.log: that file is the journal. Next to a journal.log it is an unused leftover.
 */
function recoverRotation(dir: string): void {
  const log = join(dir, JOURNAL_FILE);
  const next = `${log}.next`;
  if (!existsSync(next)) return;
  if (existsSync(log)) unlinkSync(next);
  else renameSync(next, log);
}

/** Replays journal.prev if there is one; returns its size (0 when there is none). */
function replayFrozenJournal(path: string, onRecord: (raw: Buffer) => void): number {
  if (!existsSync(path)) return 0;
  const { journal } = Journal.open(path, onRecord);
  const bytes = journal.size;
  journal.close();
  return bytes;
}
