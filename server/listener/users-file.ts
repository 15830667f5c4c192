import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ListenerPasswordAuthenticator } from './authenticators';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** scrypt parameters (N = 2^15: ~50 ms per check here; slows offline guessing if the file leaks). */
const PARAMS = { N: 1 << 15, r: 8, p: 1, keylen: 32 } as const;

interface UserRecord {
  salt: string;
  hash: string;
  N: number;
  r: number;
  p: number;
}

/** Names that mean something to JavaScript objects; refused so that no code path can mistake them for a user. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `user` cannot be a user name, or undefined when it can. */
export function userNameProblem(user: string): string | undefined {
  if (user.length === 0) return 'user name must not be empty';
  if (user.includes(':')) return 'user name must not contain ":" (HTTP Basic separates it from the password with one)';
  if (RESERVED_NAMES.has(user)) return `user name ${JSON.stringify(user)} is reserved; choose another`;
  return undefined;
}

/**
 * A users file like the tutorial's `userallowlist.json`, but holding scrypt hashes instead of
 * passwords. Written atomically with mode 0600.
 */
export class UsersFile {
  // A Map, not the parsed object: keys like "__proto__" are then plain data, never a prototype.
  private readonly users: Map<string, UserRecord>;

  constructor(readonly path: string) {
    this.users = existsSync(path) ? UsersFile.parse(readFileSync(path, 'utf8'), path) : new Map();
  }

  private static parse(text: string, path: string): Map<string, UserRecord> {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new Error(`users file ${path} is not valid JSON`);
    }
    const d = v as { version?: unknown; users?: unknown } | null;
    if (d?.version !== 1 || typeof d.users !== 'object' || d.users === null || Array.isArray(d.users))
      throw new Error(`users file ${path} is not a PeerSync users file (expected {"version":1,"users":{…}})`);
    const users = new Map<string, UserRecord>();
    for (const [name, rec] of Object.entries(d.users as Record<string, unknown>)) {
      if (userNameProblem(name) !== undefined || !isUserRecord(rec))
        throw new Error(`users file ${path}: the entry for ${JSON.stringify(name)} is not valid (re-add that user with peersync users add)`);
      users.set(name, rec);
    }
    return users;
  }

  list(): string[] {
    return [...this.users.keys()].sort();
  }

  has(user: string): boolean {
    return this.users.has(user);
  }

  async add(user: string, password: string): Promise<void> {
    const problem = userNameProblem(user);
    if (problem) throw new Error(problem);
    if (password.length === 0) throw new Error('password must not be empty');
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt, PARAMS.keylen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: 128 * PARAMS.N * PARAMS.r * 2 });
    this.users.set(user, { salt: salt.toString('base64'), hash: hash.toString('base64'), N: PARAMS.N, r: PARAMS.r, p: PARAMS.p });
    this.save();
  }

  remove(user: string): boolean {
    if (!this.users.delete(user)) return false;
    this.save();
    return true;
  }

  /** Constant-time check; unknown users cost the same as known ones. */
  async verify(user: string, password: string): Promise<boolean> {
    const rec = this.users.get(user);
    const salt = rec ? Buffer.from(rec.salt, 'base64') : Buffer.alloc(16);
    const params = rec ?? { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p };
    const expected = rec ? Buffer.from(rec.hash, 'base64') : Buffer.alloc(PARAMS.keylen);
    const actual = await scrypt(password, salt, expected.length, { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * 2 });
    return timingSafeEqual(actual, expected) && rec !== undefined;
  }

  private save(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, users: Object.fromEntries(this.users) }, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  /** An authenticator that checks passwords against this file (re-read on each check, so edits apply at once). */
  authenticator(realm?: string): ListenerPasswordAuthenticator {
    return new ListenerPasswordAuthenticator(async (user, password) => {
      const fresh = new UsersFile(this.path);
      return fresh.verify(user, password);
    }, realm);
  }
}

/** A record as `add` writes it, with scrypt costs bounded: a tampered N or r must not make one check take minutes or gigabytes. */
function isUserRecord(v: unknown): v is UserRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const int = (x: unknown, min: number, max: number): boolean => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
  const powerOfTwo = int(r.N, 2, 1 << 20) && ((r.N as number) & ((r.N as number) - 1)) === 0;
  return typeof r.salt === 'string' && typeof r.hash === 'string' && r.hash.length > 0 && powerOfTwo && int(r.r, 1, 32) && int(r.p, 1, 16);
}
