import type { PeerSyncApp } from '../app/peersync-app';
import { ControlSocketServer } from '../control/control-socket';
import type { Database } from '../store';
import { logger } from '../util/log';
import { ServerApi } from './server-api';

const log = logger('app');

export const SERVER_VERSION = '0.1.0';

/**
 * A control socket per open database, so the command line run beside this server (`peersync db
 * get …` while it holds the database) sends its requests here instead of being refused by the
 * LOCK. Each client gets the same ServerApi the extension talks to.
 */
export class ControlEndpoints {
  private readonly servers = new Map<string, { readonly database: string; readonly socket: ControlSocketServer }>();

  private readonly offClosed: () => void;

  constructor(private readonly app: PeerSyncApp) {
    // A closed database is no longer this server's to answer for: the next CLI opens it itself.
    this.offClosed = app.events.on('serverEvent', (e) => {
      if (e.kind !== 'databaseClosed') return;
      for (const [path, server] of this.servers) {
        if (server.database !== e.db) continue;
        this.servers.delete(path);
        void server.socket.close();
      }
    });
  }

  async open(db: Database): Promise<void> {
    if (this.servers.has(db.path)) return;
    try {
      const server = await ControlSocketServer.listen(
        db.path,
        (conn) => {
          const api = new ServerApi(this.app, conn);
          conn.onClose(() => api.dispose());
        },
        { pid: process.pid, database: db.name, version: SERVER_VERSION },
      );
      this.servers.set(db.path, { database: db.name, socket: server });
      log.debug('control socket ready', { db: db.name, path: server.path });
    } catch (e) {
      // The database still works; only the command line beside this server is refused (as a foreign holder would be).
      log.warn(`no control socket for ${db.name}: ${(e as Error).message}`);
    }
  }

  async closeAll(): Promise<void> {
    this.offClosed();
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.socket.close()));
  }
}
