import { resolve } from 'node:path';
import { Listener, type ListenerConfig } from './listener/listener';
import { Replicator } from './replication/replicator';
import type { ReplicatorConfig } from './replication/replicator-types';
import { Database, type DatabaseOptions } from './store';

export interface SyncServerLogger {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * The long-running sync server: owns the open databases, their listeners and the replicators
 * that use them. The CLI's `serve` and the VS Code extension's server process are two front ends
 * over this one object.
 */
export class SyncServer {
  private readonly databases = new Map<string, Database>();
  private readonly listeners = new Set<Listener>();
  private readonly replicators = new Set<Replicator>();
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

  async startListener(database: Database, config: Omit<ListenerConfig, 'database'> = {}): Promise<Listener> {
    const listener = new Listener({ ...config, database });
    await listener.start();
    this.listeners.add(listener);
    this.log.info(`listening on ${listener.urls.join(', ')}`);
    return listener;
  }

  async stopListener(listener: Listener): Promise<void> {
    this.listeners.delete(listener);
    await listener.stop();
  }

  createReplicator(config: ReplicatorConfig): Replicator {
    const r = new Replicator(config);
    this.replicators.add(r);
    return r;
  }

  async removeReplicator(r: Replicator): Promise<void> {
    this.replicators.delete(r);
    await r.stop();
  }

  /** Ordered, best-effort shutdown: replicators (checkpoints saved), listeners, then databases. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const steps: [string, () => Promise<void> | void][] = [
        ...[...this.replicators].map((r): [string, () => Promise<unknown>] => [`stop replicator to ${r.target}`, () => r.stop()]),
        ...[...this.listeners].map((l): [string, () => Promise<void>] => [`stop listener on port ${l.port}`, () => l.stop()]),
        ...[...this.databases].map(([path, db]): [string, () => void] => [`close ${path}`, () => db.close()]),
      ] as [string, () => Promise<void> | void][];
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (e) {
          this.log.warn(`${what} failed: ${(e as Error).message}`);
        }
      }
      this.replicators.clear();
      this.listeners.clear();
      this.databases.clear();
    })();
    return this.stopping;
  }
}
