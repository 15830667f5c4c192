import { writeFileSync, readFileSync } from 'node:fs';
import type { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { PeerSyncApp } from '../app/peersync-app';
import { databaseInfo, databaseSummary } from '../app/dto';
import { requireAbsolute, requireExistingFile } from '../app/paths';
import { invalid } from '../app/app-error';
import * as P from './protocol';
import { toResponseError } from './rpc-errors';
import { KeyedThrottle } from './throttle';

/** The part of a JSON-RPC connection the API needs (vscode-languageserver's, vscode-jsonrpc's and the CLI's in-process one all fit). */
export interface RpcConnection {
  onRequest<R, E>(type: RequestType0<R, E>, handler: () => R | Promise<R>): unknown;
  onRequest<Params, R, E>(type: RequestType<Params, R, E>, handler: (params: Params) => R | Promise<R>): unknown;
  sendNotification<Params>(type: NotificationType<Params>, params: Params): unknown;
}

/** Most document IDs one DatabaseChanged carries (more: `truncated`, and the client reloads). */
const CHANGED_IDS_PER_NOTIFICATION = 200;
/** Log entries kept while a batch waits to be sent. */
const LOG_BACKLOG = 500;

/**
 * Serves the typed requests of rpc/protocol over one connection by calling the application layer,
 * and forwards the application's events to it as notifications (throttled). It translates and
 * nothing else: every rule lives in server/app.
 */
export class ServerApi {
  private readonly statusThrottle: KeyedThrottle<P.ReplicatorInfo>;
  private readonly changeThrottle: KeyedThrottle<{ db: string; collection: string; docIds: Set<string> }>;
  private readonly pendingChanges = new Map<string, Set<string>>();
  private logBuffer: P.ReplicationLogEntry[] = [];
  private logTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly app: PeerSyncApp,
    private readonly conn: RpcConnection,
  ) {
    this.statusThrottle = new KeyedThrottle(100, (info) => void conn.sendNotification(P.ReplicatorStatusChanged, info));
    this.changeThrottle = new KeyedThrottle(100, (v) => {
      const ids = [...v.docIds];
      v.docIds.clear();
      void conn.sendNotification(P.DatabaseChanged, { db: v.db, collection: v.collection, docIds: ids.slice(0, CHANGED_IDS_PER_NOTIFICATION), truncated: ids.length > CHANGED_IDS_PER_NOTIFICATION });
    });
    this.forwardEvents();
    this.register();
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.statusThrottle.dispose();
    this.changeThrottle.dispose();
    if (this.logTimer) clearTimeout(this.logTimer);
  }

  private forwardEvents(): void {
    const e = this.app.events;
    this.unsubscribe.push(
      e.on('serverEvent', (ev) => void this.conn.sendNotification(P.ServerEvent, ev)),
      e.on('listenerStatus', (info) => void this.conn.sendNotification(P.ListenerStatusChanged, info)),
      e.on('replicationStatus', (info) => this.statusThrottle.push(info.id, info)),
      e.on('replicationLog', (entry) => this.log(entry)),
      e.on('documentsChanged', ({ db, collection, docIds }) => {
        const key = `${db}\u0000${collection}`;
        let ids = this.pendingChanges.get(key);
        if (!ids) this.pendingChanges.set(key, (ids = new Set()));
        for (const id of docIds) ids.add(id);
        this.changeThrottle.push(key, { db, collection, docIds: ids });
      }),
    );
  }

  private register(): void {
    const c = this.conn;
    const { databases, documents, queries, listeners, replications, identities, users, peers } = this.app;
    const on = <Params, R>(type: RequestType<Params, R, void>, fn: (p: Params) => R | Promise<R>): void => {
      c.onRequest(type, async (p: Params) => {
        try {
          return await fn(p);
        } catch (e) {
          throw toResponseError(e);
        }
      });
    };
    const on0 = <R>(type: RequestType0<R, void>, fn: () => R | Promise<R>): void => {
      c.onRequest(type, async () => {
        try {
          return await fn();
        } catch (e) {
          throw toResponseError(e);
        }
      });
    };
    const dbPath = (name: string): string => databases.get(name).path;

    on0(P.ListDatabases, () => databases.list().map(databaseSummary));
    on(P.CreateDatabase, async (p) => {
      const db = await databases.open(p.name, { exclusive: p.exclusive === true });
      for (const name of p.collections ?? []) databases.createCollection(db.name, name);
      return databaseSummary(db);
    });
    on(P.GetDatabaseInfo, (p) => databaseInfo(databases.get(p.db)));
    on(P.CreateCollection, (p) => databases.createCollection(p.db, p.name));
    on(P.DeleteCollection, (p) => databases.deleteCollection(p.db, p.name));
    on(P.OpenDatabaseFolder, async (p) => databaseSummary(await databases.openPath(requireAbsolute(p.path, 'the database folder'), { create: false })));
    on0(P.RefreshDatabases, async () => ({ ...(await databases.openAllInDataFolder()), databases: databases.list().map(databaseSummary) }));
    on(P.CloseDatabase, (p) => this.app.closeDatabase(p.db));
    on(P.DeleteDatabase, (p) => this.app.deleteDatabase(p.db));

    on(P.ListDocuments, (p) => documents.list(p));
    on(P.GetDocument, (p) => documents.get(p));
    on(P.SaveDocument, (p) => documents.save(p));
    on(P.DeleteDocument, (p) => documents.delete(p));
    on(P.PurgeDocument, (p) => documents.purge(p));
    on(P.GetRevisionTree, (p) => documents.revisionTree(p));
    on(P.ListConflicts, (p) => documents.listConflicts(p));
    on(P.GetConflict, (p) => documents.getConflict(p));
    on(P.ResolveConflict, (p) => documents.resolve(p));
    on(P.ListResolvedConflicts, (p) => documents.resolutions(p));
    on(P.RestoreDiscarded, (p) => documents.restoreDiscarded(p));
    on(P.GetCollectionSchema, (p) => this.app.schemas.get(p));
    on(P.SetCollectionSchema, (p) => this.app.schemas.set(p));
    on(P.ValidateDocument, (p) => this.app.schemas.problems(databases.get(p.db), p.collection, p.body));
    on(P.ListDocumentBlobs, (p) => documents.listBlobs(p));
    on(P.ReadBlob, (p) => documents.readBlob(p));
    on(P.ImportDocuments, (p) => documents.importFile(p));
    on(P.ImportBatch, (p) => documents.importBatch(p));
    on(P.ExportCollection, (p) => documents.exportFile(p));
    on(P.ExportPage, (p) => documents.exportPage(p));
    on(P.RunQuery, (p) => queries.run(p));

    on(P.StartListener, (p) => listeners.start(p));
    on(P.StopListener, (p) => listeners.stop(p.id));
    on0(P.ListListeners, () => listeners.list());
    on(P.FindFreePort, async (p) => ({ port: await listeners.freePort(p.preferred, p.networkInterface) }));
    on(P.GetListenerCertificate, (p) => listeners.certificate(p.id));

    on(P.CreateIdentity, (p) => identities.create(dbPath(p.db), p));
    on(P.ListIdentities, (p) => identities.list(dbPath(p.db)));
    on(P.ImportIdentity, (p) => identities.importPkcs12(dbPath(p.db), readFileSync(requireExistingFile(p.file, 'the PKCS#12 file')), p.password, p.label));
    on(P.ExportIdentity, async (p) => {
      const file = requireAbsolute(p.file, 'the output file');
      if (p.format === 'pkcs12' && !p.password) throw invalid('a PKCS#12 export needs a password to protect the private key');
      const bytes = await identities.export(dbPath(p.db), p.label, p.format === 'pkcs12' ? { pkcs12Password: p.password ?? '' } : p.format);
      writeFileSync(file, bytes, { mode: p.format === 'pkcs12' ? 0o600 : 0o644 });
      return { file };
    });
    on(P.DeleteIdentity, (p) => identities.remove(dbPath(p.db), p.label));

    on(P.AddUser, async (p) => {
      await users.add(p.file, p.user, p.password);
      return { users: users.list(p.file) };
    });
    on(P.RemoveUser, (p) => {
      users.remove(p.file, p.user);
      return { users: users.list(p.file) };
    });
    on(P.ListUsers, (p) => ({ users: users.list(p.file) }));

    on(P.StartReplication, (p) => replications.start(p));
    on(P.StopReplication, async (p) => {
      const info = await replications.stop(p.id);
      this.statusThrottle.flush(p.id);
      return info;
    });
    on(P.RestartReplication, (p) => replications.restart(p.id, p.password));
    on(P.UpdateReplication, (p) => replications.update(p.id, p.changes, p.password));
    on(P.RemoveReplication, (p) => replications.remove(p.id));
    on0(P.ListReplications, () => replications.list());
    on(P.GetReplication, (p) => replications.info(p.id));
    on(P.ListFailedDocuments, (p) => replications.failedDocuments(p.id, p.limit));

    on0(P.ListPeers, () => peers.list());
    on(P.AddPeer, (p) => peers.add(p));
    on(P.RemovePeer, (p) => peers.remove(p.url));
  }

  private log(entry: P.ReplicationLogEntry): void {
    this.logBuffer.push(entry);
    if (this.logBuffer.length > LOG_BACKLOG) this.logBuffer.splice(0, this.logBuffer.length - LOG_BACKLOG);
    this.logTimer ??= setTimeout(() => {
      this.logTimer = undefined;
      const entries = this.logBuffer;
      this.logBuffer = [];
      void this.conn.sendNotification(P.ReplicationLog, { entries });
    }, 100);
  }
}
