import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreError } from './errors';

/**
 * An exclusive lock on a database directory, so two processes never replay and append to the same
 * journal. The file holds the owner's PID; a lock left by a dead process (e.g. after SIGKILL) is taken over.
 */
export class LockFile {
  private constructor(private readonly path: string) {}

  static acquire(path: string): LockFile {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
        closeSync(fd);
        return new LockFile(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StoreError('IO', `cannot create lock file ${path}: ${(e as Error).message}`, { cause: e });
        }
      }
      const owner = readOwner(path);
      if (owner && owner.host === hostname() && isAlive(owner.pid)) {
        throw new StoreError('LOCKED', `database is in use by another process (pid ${owner.pid}, lock ${path})`);
      }
      // Stale: the owner is gone. Remove it and retry the exclusive create (another opener may race us).
      try {
        unlinkSync(path);
      } catch {
        /* someone else removed it first */
      }
    }
    throw new StoreError('LOCKED', `could not acquire lock ${path}`);
  }

  release(): void {
    try {
      const owner = readOwner(this.path);
      if (owner?.pid === process.pid) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

function readOwner(path: string): { pid: number; host: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host };
  } catch {
    /* unreadable or half-written lock: treat as stale */
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
