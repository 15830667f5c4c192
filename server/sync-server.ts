import { resolve } from 'node:path';
import { Database, type DatabaseOptions } from './store';

export interface SyncServerLogger {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * The long-running sync server: owns the open databases (and, as they are added, the listeners and
 * replicators that use them). The CLI's `serve` and the VS Code extension's server process are two
 * front ends over this one object.
 */
export class SyncServer {
  private readonly databases = new Map<string, Database>();
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: SyncServerLogger) {}

  async openDatabase(path: string, options: DatabaseOptions = {}): Promise<Database> {
    const full = resolve(path);
    const existing = this.databases.get(full);
    if (existing) return existing;
    const db = await Database.open(full, { ...options, onWarning: (m) => this.log.warn(`${full}: ${m}`) });
    this.databases.set(full, db);
    return db;
  }

  listDatabases(): Database[] {
    return [...this.databases.values()];
  }

  /** Ordered, best-effort shutdown: every database is closed even if one fails. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      for (const [path, db] of this.databases) {
        try {
          db.close();
          this.log.info(`closed ${path}`);
        } catch (e) {
          this.log.warn(`closing ${path} failed: ${(e as Error).message}`);
        }
      }
      this.databases.clear();
    })();
    return this.stopping;
  }
}
