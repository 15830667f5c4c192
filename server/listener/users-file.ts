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

interface UsersFileData {
  version: 1;
  users: Record<string, UserRecord>;
}

/**
 * A users file like the tutorial's `userallowlist.json`, but holding scrypt hashes instead of
 * passwords. Written atomically with mode 0600.
 */
export class UsersFile {
  private data: UsersFileData;

  constructor(readonly path: string) {
    this.data = existsSync(path) ? UsersFile.parse(readFileSync(path, 'utf8'), path) : { version: 1, users: {} };
  }

  private static parse(text: string, path: string): UsersFileData {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new Error(`users file ${path} is not valid JSON`);
    }
    const d = v as Partial<UsersFileData>;
    if (d?.version !== 1 || typeof d.users !== 'object' || d.users === null) throw new Error(`users file ${path} is not a PeerSync users file (expected {"version":1,"users":{…}})`);
    return d as UsersFileData;
  }

  list(): string[] {
    return Object.keys(this.data.users).sort();
  }

  has(user: string): boolean {
    return Object.hasOwn(this.data.users, user);
  }

  async add(user: string, password: string): Promise<void> {
    if (!user || user.includes(':')) throw new Error('user name must be non-empty and must not contain ":"');
    if (password.length === 0) throw new Error('password must not be empty');
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt, PARAMS.keylen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: 128 * PARAMS.N * PARAMS.r * 2 });
    this.data.users[user] = { salt: salt.toString('base64'), hash: hash.toString('base64'), N: PARAMS.N, r: PARAMS.r, p: PARAMS.p };
    this.save();
  }

  remove(user: string): boolean {
    if (!this.has(user)) return false;
    delete this.data.users[user];
    this.save();
    return true;
  }

  /** Constant-time check; unknown users cost the same as known ones. */
  async verify(user: string, password: string): Promise<boolean> {
    const rec = this.has(user) ? this.data.users[user]! : undefined;
    const salt = rec ? Buffer.from(rec.salt, 'base64') : Buffer.alloc(16);
    const params = rec ?? { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p };
    const expected = rec ? Buffer.from(rec.hash, 'base64') : Buffer.alloc(PARAMS.keylen);
    const actual = await scrypt(password, salt, expected.length, { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * 2 });
    return timingSafeEqual(actual, expected) && rec !== undefined;
  }

  private save(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
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
