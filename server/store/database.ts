import { randomUUID } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { BlobStore, type BlobRef } from './blob-store';
import { canonicalJson, isJsonObject, parseJsonObject } from './canonical-json';
import { Collection } from './collection';
import { decodeCollectionRow, decodeIdRow, decodeLocalDocRow, decodeLocalRevRow } from './collection-rows';
import type { SqlValue } from 'sql.js';
import { DurableSqlite, type DurableSqliteOptions, type SqlParam } from './durable-sqlite';
import { StoreError } from './errors';
import { ConflictLog, type ResolutionRecord } from './conflict-log';
import type { JsonObject } from './types';
import { logger } from '../util/log';

const log = logger('store');

export const DEFAULT_SCOPE = '_default';
export const DEFAULT_COLLECTION = '_default';
const SCHEMA_VERSION = 1;
const NAME_PATTERN = /^[A-Za-z0-9_%-]{1,251}$/;

export interface DatabaseOptions extends DurableSqliteOptions {
  /** Revisions kept per branch before older non-leaf ones are pruned (default 50). */
  readonly maxRevTreeDepth?: number;
}

export interface LocalDocument {
  readonly id: string;
  /** `0-N`, incremented on each write; used to refuse stale checkpoint writes. */
  readonly rev: string;
  readonly body: JsonObject;
}

export interface DatabaseInfo {
  readonly name: string;
  readonly path: string;
  readonly uuid: string;
  readonly collections: { name: string; documents: number; lastSequence: number; conflicts: number }[];
  readonly journalBytes: number;
  /** Size of the database image in memory (page count × page size), the size its next snapshot will have. */
  readonly imageBytes: number;
}

/**
 * A Couchbase-Lite-style database: a directory holding a durable sql.js image, its journal and a
 * blob folder; documents live in collections (`scope.collection`, `_default._default` always exists).
 */
export class Database {
  private log: ConflictLog | undefined;
  private readonly byName = new Map<string, Collection>();
  readonly blobs: BlobStore;
  readonly maxRevTreeDepth: number;

  private constructor(
    readonly path: string,
    readonly engine: DurableSqlite,
    readonly uuid: string,
    options: DatabaseOptions,
  ) {
    this.blobs = new BlobStore(join(path, 'blobs'));
    this.maxRevTreeDepth = options.maxRevTreeDepth ?? 50;
  }

  /** Opens the database in directory `path`, creating it unless `create: false`. */
  static async open(path: string, options: DatabaseOptions = {}): Promise<Database> {
    const dir = resolve(path);
    const engine = await DurableSqlite.open(dir, options);
    try {
      const uuid = ensureSchema(engine);
      const db = new Database(dir, engine, uuid, options);
      db.loadCollections();
      return db;
    } catch (e) {
      engine.close();
      throw e;
    }
  }

  get name(): string {
    return basename(this.path);
  }

  get defaultCollection(): Collection {
    return this.byName.get(`${DEFAULT_SCOPE}.${DEFAULT_COLLECTION}`)!;
  }

  /** A collection by `scope.name` or `name` (default scope); undefined if it does not exist. */
  collection(name: string): Collection | undefined {
    return this.byName.get(qualify(name));
  }

  /** Like collection() but throws NOT_FOUND with the name in the message. */
  requireCollection(name: string): Collection {
    const c = this.collection(name);
    if (!c) throw new StoreError('NOT_FOUND', `no collection ${JSON.stringify(qualify(name))} in database ${this.name}`);
    return c;
  }

  collections(): Collection[] {
    return [...this.byName.values()].sort((a, b) => a.id - b.id);
  }

  createCollection(name: string): Collection {
    const full = qualify(name);
    const existing = this.byName.get(full);
    if (existing) return existing;
    const [scope, coll] = full.split('.') as [string, string];
    for (const part of [scope, coll]) {
      if (!NAME_PATTERN.test(part)) throw new StoreError('INVALID_ARGUMENT', `invalid collection name ${JSON.stringify(full)} (letters, digits, _ - %)`);
    }
    return this.engine.transaction(() => {
      const id = decodeIdRow(this.engine.one('SELECT coalesce(max(id), 0) + 1 FROM collections'), 'next collection id');
      this.engine.run('INSERT INTO collections (id, scope, name, last_seq) VALUES (?, ?, ?, 0)', [id, scope, coll]);
      const c = new Collection(this, id, scope, coll, 0);
      c.createSchema();
      this.byName.set(full, c);
      this.engine.onRollback(() => this.byName.delete(full));
      return c;
    });
  }

  deleteCollection(name: string): void {
    const full = qualify(name);
    if (full === `${DEFAULT_SCOPE}.${DEFAULT_COLLECTION}`) throw new StoreError('INVALID_ARGUMENT', 'the default collection cannot be deleted');
    const c = this.requireCollection(full);
    this.engine.transaction(() => {
      c.dropSchema();
      this.engine.run('DELETE FROM collections WHERE id = ?', [c.id]);
      this.byName.delete(full);
      this.engine.onRollback(() => this.byName.set(full, c));
    });
  }

  /**
   * Runs several writes as one transaction (one journal fsync). fn must be synchronous. With
   * `deferDurability` it returns before the fsync: await `whenDurable()` before acknowledging.
   */
  inBatch<T>(fn: () => T, options: { deferDurability?: boolean } = {}): T {
    return this.engine.transaction(fn, options);
  }

  /** Resolves once everything committed so far is on stable storage. */
  whenDurable(): Promise<void> {
    return this.engine.whenDurable();
  }

  // ---- conflict resolutions, recorded by the collections ----

  /** Resolution records of every collection, newest first (`before`: page back from a record ID). */
  resolutions(options: { limit?: number; before?: number; collection?: string } = {}): ResolutionRecord[] {
    return this.conflictLog.list(options);
  }

  resolution(id: number): ResolutionRecord | undefined {
    return this.conflictLog.get(id);
  }

  private get conflictLog(): ConflictLog {
    return (this.log ??= new ConflictLog(this.engine));
  }

  // ---- local (non-replicated) documents, e.g. replication checkpoints ----

  getLocal(id: string): LocalDocument | undefined {
    const row = this.engine.one('SELECT rev, body FROM local_docs WHERE id = ?', [id]);
    if (!row) return undefined;
    const { rev, body } = decodeLocalDocRow(row);
    return { id, rev: `0-${rev}`, body: parseJsonObject(body, 'local document') };
  }

  /**
   * Writes a local document. With `expectedRev`, the write is refused (CONFLICT) unless the stored
   * revision matches (null = must not exist yet), so concurrent checkpoint writers cannot clobber each other.
   */
  putLocal(id: string, body: JsonObject, expectedRev?: string | null): LocalDocument {
    if (!isJsonObject(body)) throw new StoreError('INVALID_DOCUMENT', 'local document body must be a JSON object');
    const json = canonicalJson(body);
    return this.engine.transaction(() => {
      const row = this.engine.one('SELECT rev FROM local_docs WHERE id = ?', [id]);
      const current = row ? decodeLocalRevRow(row) : undefined;
      const currentRev = current === undefined ? null : `0-${current}`;
      if (expectedRev !== undefined && expectedRev !== currentRev) {
        throw new StoreError('CONFLICT', `local document ${JSON.stringify(id)} is at ${currentRev ?? '(none)'}, not ${expectedRev ?? '(none)'}`);
      }
      const next = current === undefined ? 1 : current + 1;
      this.engine.run('INSERT OR REPLACE INTO local_docs (id, rev, body) VALUES (?, ?, ?)', [id, next, json]);
      return { id, rev: `0-${next}`, body };
    });
  }

  deleteLocal(id: string): boolean {
    return this.engine.transaction(() => {
      if (!this.engine.one('SELECT 1 FROM local_docs WHERE id = ?', [id])) return false;
      this.engine.run('DELETE FROM local_docs WHERE id = ?', [id]);
      return true;
    });
  }

  // ---- peers ----

  /** A small stable number for a peer database (by its address), used to key what it is known to have. */
  remoteId(address: string): number {
    const found = this.engine.one('SELECT id FROM remotes WHERE address = ?', [address]);
    if (found) return decodeIdRow(found, 'remotes.id');
    return this.engine.transaction(() => {
      const id = decodeIdRow(this.engine.one('SELECT coalesce(max(id), 0) + 1 FROM remotes'), 'next remote id');
      this.engine.run('INSERT INTO remotes (id, address) VALUES (?, ?)', [id, address]);
      return id;
    });
  }

  // ---- blobs ----

  saveBlob(content: Uint8Array, contentType?: string): BlobRef {
    return this.blobs.save(content, contentType);
  }

  getBlob(digest: string): Buffer | undefined {
    return this.blobs.read(digest);
  }

  info(): DatabaseInfo {
    return {
      name: this.name,
      path: this.path,
      uuid: this.uuid,
      collections: this.collections().map((c) => ({
        name: c.fullName,
        documents: c.count(),
        lastSequence: c.lastSequence,
        conflicts: c.conflicts().length,
      })),
      journalBytes: this.engine.journalBytes,
      imageBytes: this.engine.imageBytes,
    };
  }

  /** Checks internal consistency (SQLite integrity, every revision tree decodes and holds its winner). */
  check(): string[] {
    const problems: string[] = [];
    const integrity = this.engine.all('PRAGMA integrity_check').map((r) => String(r[0]));
    if (integrity.join() !== 'ok') problems.push(...integrity);
    for (const c of this.collections()) {
      let after = '';
      for (;;) {
        const page = c.allDocs({ after, limit: 1000, includeDeleted: true });
        if (page.length === 0) break;
        for (const d of page) {
          try {
            const history = c.getRevisionHistory(d.id);
            if (!history?.some((h) => h.winner && h.revId === d.revId)) problems.push(`${c.fullName}/${d.id}: current revision is not the tree's winner`);
          } catch (e) {
            problems.push(`${c.fullName}/${d.id}: ${(e as Error).message}`);
          }
        }
        after = page[page.length - 1]!.id;
      }
    }
    return problems;
  }

  /**
   * Runs a read-only SELECT over the database image and returns at most `maxRows` rows, for
   * queries compiled from a user's SQL++ (server/query); writes are refused.
   */
  queryRows(sql: string, params: SqlParam[], maxRows: number): SqlValue[][] {
    return this.engine.select(sql, params, maxRows);
  }

  snapshot(): void {
    this.engine.snapshot();
  }

  /** Closes the database. The journal is kept for the next open to replay, unless `snapshot: true` folds it into a snapshot first. */
  close(options: { snapshot?: boolean } = {}): void {
    if (this.engine.isClosed) return;
    this.engine.close(options);
    log.info('closed', { path: this.path, snapshot: options.snapshot === true });
  }

  get isClosed(): boolean {
    return this.engine.isClosed;
  }

  private loadCollections(): void {
    for (const row of this.engine.all('SELECT id, scope, name, last_seq FROM collections ORDER BY id')) {
      const { id, scope, name, lastSeq } = decodeCollectionRow(row);
      const c = new Collection(this, id, scope, name, lastSeq);
      this.byName.set(c.fullName, c);
    }
  }
}

function qualify(name: string): string {
  return name.includes('.') ? name : `${DEFAULT_SCOPE}.${name}`;
}

/** Creates the schema of a new database (as a journaled transaction) and returns the database UUID. */
/**
 * Peers this database replicates with, and the current revision each peer is known to have of each
 * document, so a push can name it (`proposeChanges`' serverRevID) and send only the missing history.
 */
function createRemoteTables(engine: DurableSqlite): void {
  engine.run('CREATE TABLE IF NOT EXISTS remotes (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE)');
  engine.run('CREATE TABLE IF NOT EXISTS remote_revs (remote INTEGER NOT NULL, coll INTEGER NOT NULL, doc TEXT NOT NULL, rev TEXT NOT NULL, PRIMARY KEY (remote, coll, doc)) WITHOUT ROWID');
}

function ensureSchema(engine: DurableSqlite): string {
  const hasMeta = engine.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (hasMeta) {
    const version = Number(engine.one("SELECT value FROM meta WHERE key = 'schema_version'")?.[0]);
    if (version > SCHEMA_VERSION) throw new StoreError('INVALID_ARGUMENT', `database was written by a newer PeerSync (schema ${version}); upgrade to open it`);
    const uuid = engine.one("SELECT value FROM meta WHERE key = 'uuid'")?.[0];
    if (typeof uuid !== 'string') throw new StoreError('CORRUPT', 'database has no UUID');
    return uuid;
  }
  const uuid = randomUUID();
  engine.transaction(() => {
    engine.run('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    engine.run("INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('uuid', ?)", [String(SCHEMA_VERSION), uuid]);
    engine.run('CREATE TABLE collections (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, name TEXT NOT NULL, last_seq INTEGER NOT NULL, UNIQUE (scope, name))');
    engine.run('CREATE TABLE local_docs (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL)');
    createRemoteTables(engine);
    engine.run('INSERT INTO collections (id, scope, name, last_seq) VALUES (1, ?, ?, 0)', [DEFAULT_SCOPE, DEFAULT_COLLECTION]);
    new Collection({ engine, maxRevTreeDepth: 0 }, 1, DEFAULT_SCOPE, DEFAULT_COLLECTION, 0).createSchema();
  });
  return uuid;
}
