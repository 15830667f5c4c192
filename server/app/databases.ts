import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Database, type Collection } from '../store';
import type * as P from '../rpc/protocol';
import { logger } from '../util/log';
import { AppError, invalid, notFound } from './app-error';
import type { AppEventBus } from './app-events';
import { databaseSummary, resolvedConflict } from './dto';

const log = logger('app');

/** A directory holds a PeerSync database when it has its journal or a snapshot. */
function isDatabaseFolder(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f === 'journal.log' || f === 'journal.prev' || /^snapshot-.*\.sqlite$/.test(f));
  } catch {
    return false;
  }
}

/** Names of databases inside a data folder: one directory each. */
const DB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** How soon after a change the conflict count is checked again (changes come in bursts). */
const CONFLICT_CHECK_DELAY_MS = 100;

export interface OpenOptions {
  /** Create the database if it is missing (default true). */
  readonly create?: boolean;
  /** Refuse (EXISTS) unless the directory is missing or empty. */
  readonly exclusive?: boolean;
}

/**
 * The open databases, by name. Databases inside the data folder are opened by name; the command
 * line opens any directory by path, and its folder name becomes its name.
 */
export class DatabaseRegistry {
  private readonly byName = new Map<string, Database>();
  private readonly conflictCounts = new Map<string, number>();
  private readonly conflictTimers = new Map<string, NodeJS.Timeout>();
  private readonly unhooks: (() => void)[] = [];

  constructor(
    private readonly events: AppEventBus,
    readonly dataFolder: string | undefined,
    private readonly onOpened: (db: Database) => Promise<void>,
  ) {}

  /** Opens (or creates) the database `name` in the data folder. */
  async open(name: string, options: OpenOptions = {}): Promise<Database> {
    if (!DB_NAME.test(name)) throw invalid(`invalid database name ${JSON.stringify(name)} (letters, digits, . _ -; at most 100)`);
    if (!this.dataFolder) throw invalid('this server has no data folder: open databases by path');
    mkdirSync(this.dataFolder, { recursive: true, mode: 0o700 });
    return this.openPath(join(this.dataFolder, name), options);
  }

  /** Opens (or creates) the database in directory `path`. */
  async openPath(path: string, options: OpenOptions = {}): Promise<Database> {
    const full = resolve(path);
    const name = basename(full);
    const existing = this.byName.get(name);
    if (existing) {
      if (existing.path !== full) throw new AppError('EXISTS', `a database named ${name} is already open from ${existing.path}`);
      if (options.exclusive) throw new AppError('EXISTS', `${full} already holds database ${name}`);
      return existing;
    }
    if (options.exclusive && existsSync(full) && readdirSync(full).length > 0) throw new AppError('EXISTS', `${full} already exists and is not empty`);
    if (options.create === false && !existsSync(full)) throw notFound(`no database at ${full} (create it with: peersync db create --db ${full})`);
    const db = await Database.open(full, { create: options.create !== false, onWarning: (m) => log.warn(`${full}: ${m}`) });
    this.byName.set(name, db);
    for (const coll of db.collections()) this.watch(db, coll);
    log.info('database opened', { db: name, path: full });
    this.events.publish('serverEvent', { kind: 'databaseOpened', db: name });
    await this.onOpened(db);
    return db;
  }

  list(): Database[] {
    return [...this.byName.values()];
  }

  get(name: string): Database {
    const db = this.byName.get(name);
    if (!db) throw notFound(`no open database named ${JSON.stringify(name)}`);
    return db;
  }

  collection(db: string, name: string): Collection {
    return this.get(db).requireCollection(name);
  }

  createCollection(dbName: string, name: string): P.DatabaseSummary {
    const db = this.get(dbName);
    const existed = db.collections().some((c) => c.fullName === name || c.name === name);
    const coll = db.createCollection(name);
    if (!existed) {
      this.watch(db, coll);
      this.events.publish('serverEvent', { kind: 'collectionCreated', db: db.name, collection: coll.fullName });
    }
    return databaseSummary(db);
  }

  /** Deletes a collection (not the default one); its documents go with it. */
  deleteCollection(dbName: string, name: string): P.DatabaseSummary {
    const db = this.get(dbName);
    const full = db.requireCollection(name).fullName;
    db.deleteCollection(full);
    this.events.publish('serverEvent', { kind: 'collectionDeleted', db: db.name, collection: full });
    return databaseSummary(db);
  }

  /**
   * Opens every database folder in the data folder that is not open yet (one copied there, or
   * created by another tool), and says why any could not be opened.
   */
  async openAllInDataFolder(): Promise<{ opened: string[]; unavailable: { name: string; reason: string }[] }> {
    const opened: string[] = [];
    const unavailable: { name: string; reason: string }[] = [];
    if (!this.dataFolder || !existsSync(this.dataFolder)) return { opened, unavailable };
    for (const entry of readdirSync(this.dataFolder, { withFileTypes: true })) {
      if (!entry.isDirectory() || this.byName.has(entry.name) || !DB_NAME.test(entry.name)) continue;
      if (!isDatabaseFolder(join(this.dataFolder, entry.name))) continue;
      try {
        await this.open(entry.name, { create: false });
        opened.push(entry.name);
      } catch (e) {
        unavailable.push({ name: entry.name, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return { opened, unavailable };
  }

  /** Closes a database; its listeners and replications must have been stopped by the caller. */
  close(name: string): void {
    const db = this.get(name);
    this.byName.delete(name);
    db.close();
    this.events.publish('serverEvent', { kind: 'databaseClosed', db: name });
  }

  /** Closes every database (after their listeners and replicators have stopped). */
  closeAll(): void {
    for (const off of this.unhooks.splice(0)) off();
    for (const t of this.conflictTimers.values()) clearTimeout(t);
    this.conflictTimers.clear();
    for (const [name, db] of this.byName) {
      try {
        db.close();
      } catch (e) {
        log.warn(`closing ${name} failed`, { error: e });
      }
    }
    this.byName.clear();
  }

  private watch(db: Database, coll: Collection): void {
    const key = `${db.name}\u0000${coll.fullName}`;
    this.conflictCounts.set(key, coll.conflicts().length);
    const changed = (docIds: readonly string[]): void => {
      this.events.publish('documentsChanged', { db: db.name, collection: coll.fullName, docIds });
      if (this.conflictTimers.has(key)) return;
      const timer = setTimeout(() => {
        this.conflictTimers.delete(key);
        if (!this.byName.has(db.name)) return;
        const count = coll.conflicts().length;
        if (count === this.conflictCounts.get(key)) return;
        this.conflictCounts.set(key, count);
        this.events.publish('serverEvent', { kind: 'conflictsChanged', db: db.name, collection: coll.fullName });
      }, CONFLICT_CHECK_DELAY_MS);
      timer.unref();
      this.conflictTimers.set(key, timer);
    };
    this.unhooks.push(
      coll.on('change', (changes) => changed(changes.map((c) => c.docId))),
      coll.on('purge', (id) => changed([id])),
      coll.on('resolved', (record) => this.events.publish('serverEvent', { kind: 'conflictResolved', resolution: resolvedConflict(db.name, record) })),
    );
  }
}
