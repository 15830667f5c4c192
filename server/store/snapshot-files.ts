import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Database as SqlJsDatabase } from 'sql.js';
import { StoreError } from './errors';
import { syncDirectory } from './journal';
import type { SqlJsEngine } from './sqljs-loader';

/**
 * Snapshot files: whole database images named after the last journal record they contain and
 * their CRC, so opening can pick the newest and check it before trusting it. A snapshot is
 * written to a temp file, fsync'd, then renamed into place: a crash leaves the old one intact.
 */

/** `snapshot-<LSN, 16 digits>-<CRC-32, 8 hex digits>.sqlite` */
const SNAPSHOT_PATTERN = /^snapshot-(\d{16})-([0-9a-f]{8})\.sqlite$/;
export const SNAPSHOT_TMP = 'snapshot.tmp';
/** The background snapshot's temp file (a synchronous snapshot may run while it is written). */
export const SNAPSHOT_BG_TMP = 'snapshot-background.tmp';

export interface SnapshotFile {
  readonly file: string;
  readonly lsn: number;
  readonly crc: number;
}

/** Where a snapshot of these bytes, up to journal record `lsn`, goes once it is durable. */
export function snapshotPath(dir: string, lsn: number, bytes: Uint8Array): string {
  return join(dir, `snapshot-${String(lsn).padStart(16, '0')}-${crc32(bytes).toString(16).padStart(8, '0')}.sqlite`);
}

export function newestSnapshot(dir: string): SnapshotFile | undefined {
  let best: SnapshotFile | undefined;
  for (const file of readdirSync(dir)) {
    const m = SNAPSHOT_PATTERN.exec(file);
    if (!m) continue;
    const [, lsnDigits, crcDigits] = m;
    if (lsnDigits === undefined || crcDigits === undefined) continue;
    const lsn = Number(lsnDigits);
    if (!best || lsn > best.lsn) best = { file, lsn, crc: parseInt(crcDigits, 16) };
  }
  return best;
}

/** Temp files left by a snapshot that was interrupted; the previous snapshot is intact. */
export function removeInterruptedSnapshots(dir: string): void {
  for (const name of [SNAPSHOT_TMP, SNAPSHOT_BG_TMP]) {
    const tmp = join(dir, name);
    if (existsSync(tmp)) unlinkSync(tmp);
  }
}

export function loadSnapshot(engine: SqlJsEngine, file: string, crc: number): SqlJsDatabase {
  const bytes = readFileSync(file);
  if (crc32(bytes) !== crc) throw new StoreError('CORRUPT', `snapshot ${file} fails its checksum; the files were left untouched`);
  let db: SqlJsDatabase | undefined;
  try {
    db = engine.openInMemory(bytes);
    releaseNow(bytes); // SQLite holds the pages now
    db.exec('SELECT count(*) FROM sqlite_master');
    return db;
  } catch (e) {
    db?.close();
    throw new StoreError('CORRUPT', `snapshot ${file} is not a readable database (${(e as Error).message}); the files were left untouched`);
  }
}

export function openSnapshotTemp(tmp: string): number {
  try {
    return openSync(tmp, 'w', 0o600);
  } catch (e) {
    throw snapshotError(e, tmp);
  }
}

/** Writes the image to `tmp` (not yet fsync'd) and returns the open fd; the image's memory is released. */
export function writeSnapshotTemp(tmp: string, bytes: Uint8Array): number {
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', 0o600);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    return fd;
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    throw snapshotError(e, tmp);
  } finally {
    releaseNow(bytes);
  }
}

/** Makes the temp file durable and closes it. */
export function syncSnapshotTemp(fd: number, tmp: string): void {
  try {
    fdatasyncSync(fd);
  } catch (e) {
    throw snapshotError(e, tmp);
  } finally {
    closeSync(fd);
  }
}

/**
 * The same as writing and syncing, on the thread pool so writes go on meanwhile. The image's
 * memory is released once written; the fd stays open (the caller closes it either way).
 */
export async function writeSnapshotInBackground(fd: number, bytes: Uint8Array): Promise<void> {
  try {
    for (let off = 0; off < bytes.length;) {
      off += await new Promise<number>((resolve, reject) => write(fd, bytes, off, bytes.length - off, off, (err, n) => (err ? reject(err) : resolve(n))));
    }
  } finally {
    releaseNow(bytes);
  }
  await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Renames a durable temp snapshot into place and removes the snapshots it replaces. */
export function publishSnapshot(dir: string, tmp: string, final: string): void {
  try {
    renameSync(tmp, final);
    syncDirectory(dir);
  } catch (e) {
    throw snapshotError(e, tmp);
  }
  for (const file of readdirSync(dir)) {
    if (SNAPSHOT_PATTERN.test(file) && join(dir, file) !== final) unlinkSync(join(dir, file));
  }
}

/** Removes the temp file and says what failed; the journal still has everything. */
export function snapshotError(e: unknown, tmp: string): StoreError {
  try {
    unlinkSync(tmp);
  } catch {
    /* never created, or already gone */
  }
  const code = (e as NodeJS.ErrnoException).code;
  return new StoreError('IO', `snapshot not written${code === 'ENOSPC' ? ': the disk is full' : `: ${(e as Error).message}`}; the journal still holds every change`, { cause: e });
}

/**
 * Hands a large buffer's memory to a fresh, unreferenced ArrayBuffer (a transfer detaches the
 * original). The original is usually in V8's old generation by now, where it would wait for a
 * full collection; the fresh one is young and goes at the next scavenge, milliseconds later.
 */
export function releaseNow(bytes: Uint8Array): void {
  // Only a buffer that owns its whole ArrayBuffer: a view into a shared one (Node's pool) must stay.
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength || !(bytes.buffer instanceof ArrayBuffer)) return;
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
}
