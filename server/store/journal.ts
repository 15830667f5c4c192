import { closeSync, fchmodSync, fdatasync, fdatasyncSync, fsyncSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { StoreError } from './errors';

/**
 * Append-only journal of committed transactions.
 *
 * File = 8-byte magic, then records: u32 length ‖ u32 CRC-32 of payload ‖ payload (UTF-8 JSON).
 * A record is fsync'd before its transaction is acknowledged. On open, a torn last record (a crash
 * mid-append: short, or failing its checksum at the very end of the file) is discarded; a bad record
 * with data after it is corruption and is reported without touching the file.
 */
export const JOURNAL_MAGIC = Buffer.from('PSJRNL01', 'latin1');
const HEADER = 8;
/** One transaction may not exceed this (a bulk import is split into batches well below it). */
export const MAX_RECORD_BYTES = 512 * 1024 * 1024;

interface JournalScan {
  /** Offset just past the last valid record. */
  readonly validLength: number;
  /** Bytes after validLength that belonged to a torn (never acknowledged) append. */
  readonly tornBytes: number;
}

interface DurabilityWaiter {
  readonly target: number;
  readonly epoch: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export class Journal {
  private fd: number;
  private length: number;
  private failed: Error | undefined;
  /** Bytes known to be on stable storage. */
  private syncedLength: number;
  /** Bumped by reset() and rotate(): syncs started before cover data that no longer matters. */
  private epoch = 0;
  private syncing = false;
  private waiters: DurabilityWaiter[] = [];
  /** Files rotate() left behind while an asynchronous fsync on them was still running. */
  private readonly retired = new Set<number>();

  private constructor(
    readonly path: string,
    fd: number,
    length: number,
  ) {
    this.fd = fd;
    this.length = length;
    this.syncedLength = length;
  }

  /**
   * Opens (creating if needed) the journal and cuts off a torn tail so new appends follow valid
   * data. Valid records go to `onRecord` one at a time as they are read (so a large journal is never
   * in memory whole); without it they are collected into `records`.
   */
  static open(path: string, onRecord?: (payload: Buffer) => void): { journal: Journal; records: Buffer[]; tornBytes: number } {
    let fd: number;
    try {
      fd = openSync(path, 'a+', 0o600);
    } catch (e) {
      throw new StoreError('IO', `cannot open journal ${path}: ${(e as Error).message}`, { cause: e });
    }
    tightenMode(fd);
    try {
      const size = fstatSync(fd).size;
      if (size === 0) {
        writeSync(fd, JOURNAL_MAGIC);
        fdatasyncSync(fd);
        return { journal: new Journal(path, fd, HEADER), records: [], tornBytes: 0 };
      }
      const records: Buffer[] = [];
      const scan = scanJournalFile(fd, size, path, onRecord ?? ((r) => records.push(r)));
      let validLength = scan.validLength;
      if (scan.tornBytes > 0) {
        // The tail was never acknowledged, but keep a copy of non-blank bytes rather than trust the diagnosis blindly.
        const tail = readAt(fd, scan.validLength, scan.tornBytes);
        if (!allZero(tail, 0)) writeFileSync(`${path}.tail-${Date.now()}`, tail, { mode: 0o600 });
        ftruncateSync(fd, scan.validLength);
        if (validLength < HEADER) {
          writeSync(fd, JOURNAL_MAGIC, 0, HEADER, 0);
          validLength = HEADER;
        }
        fdatasyncSync(fd);
      }
      return { journal: new Journal(path, fd, validLength), records, tornBytes: scan.tornBytes };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get size(): number {
    return this.length;
  }

  /**
   * Appends one record. With `sync` (default) it is fsync'd before returning; otherwise it is in
   * the page cache, in order, and `whenDurable()` resolves once an fsync has covered it — so
   * several transactions share one fsync while the caller keeps working (group commit). Either
   * way, on failure the journal is cut back to its previous end.
   */
  append(payload: Buffer, sync = true): void {
    if (this.failed) throw new StoreError('FAILED_STATE', `journal is unusable after an earlier failure (${this.failed.message}); reopen the database`);
    if (payload.length > MAX_RECORD_BYTES) {
      throw new StoreError('INVALID_ARGUMENT', `transaction is too large (${payload.length} bytes > ${MAX_RECORD_BYTES}); write it in smaller batches`);
    }
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt32BE(crc32(payload), 4);
    const before = this.length;
    try {
      writeAllAt(this.fd, [header, payload], before);
      if (sync) fdatasyncSync(this.fd);
      this.length = before + HEADER + payload.length;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      try {
        ftruncateSync(this.fd, before);
        fdatasyncSync(this.fd);
      } catch (e2) {
        // If the partial record cannot be cut off, later appends would land after garbage.
        this.fail(e2 as Error);
      }
      const reason = err.code === 'ENOSPC' ? 'the disk is full' : err.code === 'EDQUOT' ? 'the disk quota is exceeded' : err.message;
      throw new StoreError('IO', `write not saved: ${reason} (journal ${this.path})`, { cause: e });
    }
    if (sync) this.markSynced(this.length, this.epoch);
  }

  /** Resolves once everything appended so far is on stable storage. */
  whenDurable(): Promise<void> {
    if (this.failed) return Promise.reject(new StoreError('FAILED_STATE', `journal failed: ${this.failed.message}`));
    if (this.syncedLength >= this.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target: this.length, epoch: this.epoch, resolve, reject });
      this.startSync();
    });
  }

  private startSync(): void {
    if (this.syncing || this.failed || this.fd < 0 || this.waiters.length === 0) return;
    const target = this.length;
    const epoch = this.epoch;
    const fd = this.fd;
    this.syncing = true;
    fdatasync(fd, (err) => {
      this.syncing = false;
      if (fd !== this.fd) {
        // rotate() made this file durable itself and handed it over to be closed once this sync returned.
        this.closeRetired(fd);
      } else if (err) {
        // What was appended may not be on disk, and memory already holds it: stop taking writes.
        this.fail(err);
        return;
      }
      this.markSynced(target, epoch);
      this.startSync();
    });
  }

  private closeRetired(fd: number): void {
    if (!this.retired.delete(fd)) return;
    try {
      closeSync(fd);
    } catch {
      /* already durable; nothing depends on this close */
    }
  }

  private markSynced(target: number, epoch: number): void {
    if (epoch === this.epoch && target > this.syncedLength) this.syncedLength = target;
    const done = this.waiters.filter((w) => w.epoch < this.epoch || w.target <= this.syncedLength);
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new StoreError('IO', `could not make the journal durable: ${e.message}`, { cause: e }));
  }

  /** Empties the journal once a snapshot holds everything in it. */
  reset(): void {
    ftruncateSync(this.fd, HEADER);
    fdatasyncSync(this.fd);
    this.length = HEADER;
    this.epoch++;
    this.syncedLength = HEADER;
    // Their records are in the snapshot that made this reset possible.
    this.markSynced(HEADER, this.epoch);
  }

  /**
   * Freezes the records so far under `frozenPath` and continues in a fresh, empty file at this
   * journal's path, so a snapshot can be written in the background while appends go on. The fresh
   * file is created as `<path>.next` and renamed into place; an opener that finds only the `.next`
   * file (a crash between the two renames) takes it as the journal.
   */
  rotate(frozenPath: string): void {
    if (this.failed) throw new StoreError('FAILED_STATE', `journal is unusable after an earlier failure (${this.failed.message}); reopen the database`);
    fdatasyncSync(this.fd); // everything appended so far, durable in the frozen file
    const next = `${this.path}.next`;
    let fd = -1;
    try {
      fd = openSync(next, 'w+', 0o600);
      writeSync(fd, JOURNAL_MAGIC);
      fdatasyncSync(fd);
      renameSync(this.path, frozenPath);
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      try {
        unlinkSync(next);
      } catch {
        /* it was never created */
      }
      throw new StoreError('IO', `journal not rotated: ${(e as Error).message}`, { cause: e });
    }
    try {
      renameSync(next, this.path);
      syncDirectory(dirname(this.path));
    } catch (e) {
      // The frozen records are safe; appending to a file an opener would not find is not.
      closeSync(fd);
      this.fail(e as Error);
      throw new StoreError('IO', `journal not rotated: ${(e as Error).message}`, { cause: e });
    }
    const old = this.fd;
    this.fd = fd;
    this.length = HEADER;
    this.syncedLength = HEADER;
    this.epoch++;
    // Earlier waiters are durable: their records are in the frozen file, synced above.
    this.markSynced(HEADER, this.epoch);
    if (this.syncing) this.retired.add(old);
    else closeSync(old);
  }

  /** Makes everything durable (synchronously), then closes the file. */
  close(): void {
    if (this.fd < 0) return;
    if (this.syncedLength < this.length && !this.failed) {
      try {
        fdatasyncSync(this.fd);
        this.markSynced(this.length, this.epoch);
      } catch (e) {
        this.fail(e as Error);
      }
    }
    closeSync(this.fd);
    this.fd = -1;
    this.fail(new Error('journal closed'));
  }
}

/**
 * Reads the journal record by record (two reads each: frame header, then payload), handing each
 * valid payload to `onRecord`. A torn tail (short, or failing its checksum with nothing but zeros
 * after it) ends the scan; damage with data after it is corruption.
 */
function scanJournalFile(fd: number, size: number, path: string, onRecord: (payload: Buffer) => void): JournalScan {
  const head = readAt(fd, 0, Math.min(HEADER, size));
  if (size < HEADER) {
    // A crash while creating the file: nothing was ever acknowledged in it.
    if (JOURNAL_MAGIC.subarray(0, size).equals(head)) return { validLength: 0, tornBytes: size };
    throw new StoreError('CORRUPT', `${path} is not a PeerSync journal (bad header)`);
  }
  if (!head.equals(JOURNAL_MAGIC)) {
    throw new StoreError('CORRUPT', `${path} is not a PeerSync journal (bad header); the files were left untouched`);
  }
  let off = HEADER;
  while (off < size) {
    const torn = { validLength: off, tornBytes: size - off };
    if (size - off < HEADER) return torn;
    const frame = readAt(fd, off, HEADER);
    const len = frame.readUInt32BE(0);
    const sum = frame.readUInt32BE(4);
    if (len === 0 || len > MAX_RECORD_BYTES) {
      // Space the file system allocated but never wrote reads as zeros; anything else is damage.
      if (zerosFrom(fd, off, size)) return torn;
      throw corrupt(path, off, `impossible record length ${len}`);
    }
    const end = off + HEADER + len;
    if (end > size) return torn;
    const payload = readAt(fd, off + HEADER, len);
    if (crc32(payload) !== sum) {
      if (end === size || zerosFrom(fd, end, size)) return torn;
      throw corrupt(path, off, 'checksum mismatch');
    }
    onRecord(payload);
    off = end;
  }
  return { validLength: off, tornBytes: 0 };
}

function readAt(fd: number, position: number, length: number): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, position + got);
    if (n === 0) throw new StoreError('IO', 'journal ended while being read');
    got += n;
  }
  return out;
}

/** Whether the file holds only zeros from `from` to `size` (read in pieces). */
function zerosFrom(fd: number, from: number, size: number): boolean {
  for (let at = from; at < size; at += 1 << 20) {
    if (!allZero(readAt(fd, at, Math.min(1 << 20, size - at)), 0)) return false;
  }
  return true;
}

function allZero(data: Buffer, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

function corrupt(path: string, offset: number, why: string): StoreError {
  return new StoreError('CORRUPT', `journal ${path} is corrupt at byte ${offset} (${why}) with committed data after it; the files were left untouched`);
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the buffers one after another at `position` (no copy into one frame), finishing partial writes. */
function writeAllAt(fd: number, parts: Buffer[], position: number): void {
  let pending = parts.filter((p) => p.length > 0);
  let at = position;
  while (pending.length > 0) {
    let n = writevSync(fd, pending, at);
    at += n;
    const rest: Buffer[] = [];
    for (const p of pending) {
      if (n >= p.length) n -= p.length;
      else {
        rest.push(p.subarray(n));
        n = 0;
      }
    }
    pending = rest;
  }
}

/** A journal created by an older version was 0644: documents must not be readable by other users. */
function tightenMode(fd: number): void {
  if (process.platform === 'win32') return;
  try {
    fchmodSync(fd, 0o600);
  } catch {
    /* not ours to change (another owner): its permissions stay as they are */
  }
}
