import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreError } from './errors';
import { currentProcess, isRunning, type ProcessIdentity } from './process-identity';
import { logger } from '../util/log';

const log = logger('store');

/** How often the owner touches its LOCK, and how long an untouched LOCK of an unverifiable owner is trusted. */
export const LOCK_HEARTBEAT_MS = 10_000;
export const LOCK_STALE_MS = 60_000;
/** A takeover is a few file operations; a takeover marker older than this was left by a crash. */
const TAKEOVER_STALE_MS = 10_000;

interface LockRecord extends Partial<ProcessIdentity> {
  readonly pid: number;
  readonly host: string;
}

/**
 * An exclusive lock on a database directory, so two processes never replay and append to the same
 * journal. Node has no flock(), so the LOCK file (created exclusively) names its owner and a
 * contender decides whether that owner still runs:
 *
 * - same machine, same boot and same PID namespace (Linux): the owner runs if a process with its
 *   PID exists *and started at the recorded time* (/proc). Exact and immediate: a LOCK left by a
 *   killed process, or naming a PID that now belongs to an unrelated process (reuse after a reboot
 *   or in a container), is taken over at once; a running owner is never displaced.
 * - otherwise (another host sharing the folder, another container's PID namespace, no /proc): the
 *   PID cannot be checked, so the owner proves it runs by touching the LOCK every 10 s; one not
 *   touched for 60 s is taken over. A LOCK from this host without a start time (written by an older
 *   version, or where there is no /proc) whose PID does not run at all needs no wait.
 *
 * Taking over is serialised by a second, exclusively created file (LOCK.takeover), and the stale
 * LOCK is removed only if it is still the one judged stale, so two contenders can never both win.
 */
export class LockFile {
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(private readonly path: string) {
    this.heartbeat = setInterval(() => touch(path), LOCK_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  static acquire(path: string): LockFile {
    const me = JSON.stringify({ ...currentProcess(), host: hostname(), since: new Date().toISOString() } satisfies LockRecord & { since: string });
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createExclusive(path, me)) return new LockFile(path);
      const seen = readLock(path);
      if (seen === undefined) continue; // removed meanwhile: try again
      const owner = parseRecord(seen.text);
      if (owner && ownerRuns(owner, seen.mtimeMs)) {
        throw new StoreError('LOCKED', `database is in use by another process (pid ${owner.pid} on ${owner.host}, lock ${path})`);
      }
      log.warn('taking over a stale lock', { lock: path, owner: owner ? `pid ${owner.pid} on ${owner.host}` : 'unreadable' });
      takeOver(path, seen.text);
    }
    throw new StoreError('LOCKED', `could not acquire lock ${path}: other processes keep taking it`);
  }

  release(): void {
    clearInterval(this.heartbeat);
    try {
      const owner = parseRecord(readFileSync(this.path, 'utf8'));
      if (owner?.pid === process.pid && owner.host === hostname()) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError('IO', `cannot create lock file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLock(path: string): { text: string; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    return { text: readFileSync(path, 'utf8'), mtimeMs };
  } catch {
    return undefined;
  }
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as Record<string, unknown>;
    if (typeof r['pid'] !== 'number' || typeof r['host'] !== 'string') return undefined;
    return {
      pid: r['pid'],
      host: r['host'],
      ...(typeof r['boot'] === 'string' ? { boot: r['boot'] } : {}),
      ...(typeof r['pidNamespace'] === 'string' ? { pidNamespace: r['pidNamespace'] } : {}),
      ...(typeof r['start'] === 'string' ? { start: r['start'] } : {}),
    };
  } catch {
    return undefined; // unreadable or half-written (its writer died mid-write): stale
  }
}

function ownerRuns(owner: LockRecord, touchedAtMs: number): boolean {
  const me = currentProcess();
  if (owner.host === hostname() && owner.boot !== undefined && owner.boot === me.boot && owner.pidNamespace === me.pidNamespace && owner.start !== undefined) {
    return isRunning(owner.pid, owner.start);
  }
  // A record without a start time (an older version, or a system without /proc) from this host: a
  // PID that runs nowhere here is gone, as those versions judged it themselves.
  if (owner.host === hostname() && (owner.start === undefined || me.start === undefined) && !isRunning(owner.pid)) return false;
  return Date.now() - touchedAtMs < LOCK_STALE_MS;
}

/** Removes a stale LOCK, but only while holding the takeover marker and only if it is unchanged. */
function takeOver(path: string, staleText: string): void {
  const marker = `${path}.takeover`;
  if (!createExclusive(marker, String(process.pid))) {
    const left = readLock(marker);
    if (left && Date.now() - left.mtimeMs > TAKEOVER_STALE_MS) unlinkQuietly(marker);
    return; // someone else is taking over: look again
  }
  try {
    if (readLock(path)?.text === staleText) unlinkQuietly(path);
  } finally {
    unlinkQuietly(marker);
  }
}

function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    /* the next open will judge the lock by its owner's PID where it can */
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
