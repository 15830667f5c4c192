import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database } from '../store';
import { invalid } from './app-error';
import { logger } from '../util/log';
import { AppEventBus } from './app-events';
import { ConfigStore } from './app-config';
import { DatabaseRegistry } from './databases';
import { DocumentService } from './documents';
import { IdentityService } from './identities';
import { ListenerService } from './listeners';
import { PeerService } from './peers';
import { QueryService } from './queries';
import { ReplicationService } from './replications';
import { SchemaService } from './schemas';
import { UserService } from './users';

const log = logger('app');

export interface AppOptions {
  /** Where databases live by name, and where the configuration is saved. */
  readonly dataFolder?: string | undefined;
  /** Save listeners, replications and peers in the data folder and bring them back (default: when there is a data folder). */
  readonly persistConfiguration?: boolean;
  /** Called after a database opens (e.g. to serve a control socket for it). */
  readonly onDatabaseOpened?: (db: Database, app: PeerSyncApp) => Promise<void> | void;
}

/**
 * The application layer: the open databases and the listeners, replicators, identities, users and
 * peers that use them, with the rules for each. Every front end (the JSON-RPC server the extension
 * talks to, the command line, a control socket beside a running server) only parses input, calls
 * these and formats the result.
 */
export class PeerSyncApp {
  readonly events = new AppEventBus();
  readonly databases: DatabaseRegistry;
  readonly documents: DocumentService;
  readonly schemas: SchemaService;
  readonly queries: QueryService;
  readonly identities = new IdentityService();
  readonly users = new UserService();
  readonly listeners: ListenerService;
  readonly replications: ReplicationService;
  readonly peers: PeerService;
  readonly config: ConfigStore | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: AppOptions = {}) {
    const persist = options.persistConfiguration ?? options.dataFolder !== undefined;
    this.config = persist && options.dataFolder !== undefined ? ConfigStore.inFolder(options.dataFolder) : undefined;
    this.databases = new DatabaseRegistry(this.events, options.dataFolder, async (db) => {
      await options.onDatabaseOpened?.(db, this);
      // Saved listeners and replications come back with their database.
      await this.listeners.restore(db.name);
      await this.replications.restore(db.name);
    });
    this.schemas = new SchemaService(this.databases);
    this.documents = new DocumentService(this.databases, this.schemas);
    this.queries = new QueryService(this.databases);
    this.listeners = new ListenerService(this.databases, this.identities, this.events, this.config);
    this.replications = new ReplicationService(this.databases, this.identities, this.events, this.config);
    this.peers = new PeerService(this.events, this.config);
  }

  /** The databases that saved listeners or replications use, so they can be opened at start. */
  savedDatabaseNames(): string[] {
    const c = this.config?.config;
    return [...new Set([...(c?.listeners ?? []).map((l) => l.params.db), ...(c?.replications ?? []).map((r) => r.params.db)])];
  }

  /**
   * Deletes a database of the data folder: its replications and listeners stop and are forgotten,
   * then the database closes and its folder (documents, blobs, keystore) is removed.
   */
  async deleteDatabase(name: string): Promise<void> {
    const db = this.databases.get(name);
    if (!this.databases.dataFolder || resolve(db.path) !== resolve(join(this.databases.dataFolder, name))) {
      throw invalid(`${db.path} is outside the data folder; close it instead of deleting it`);
    }
    await this.closeDatabase(name, { forget: true });
    rmSync(db.path, { recursive: true, force: true });
  }

  /** Closes a database after stopping what uses it; with `forget`, its saved listeners and replications are removed too. */
  async closeDatabase(name: string, options: { forget?: boolean } = {}): Promise<void> {
    this.databases.get(name);
    for (const r of this.replications.list().filter((x) => x.db === name)) {
      if (options.forget) await this.replications.remove(r.id);
      else await this.replications.detach(r.id);
    }
    for (const l of this.listeners.list().filter((x) => x.db === name)) {
      if (options.forget) await this.listeners.stop(l.id);
      else await this.listeners.detach(l.id);
    }
    this.databases.close(name);
  }

  /** Ordered, best-effort shutdown: replicators (checkpoints saved), listeners, then databases. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.replications.stopAll();
      await this.listeners.stopAll();
      this.databases.closeAll();
      log.info('stopped');
    })();
    return this.stopping;
  }
}
