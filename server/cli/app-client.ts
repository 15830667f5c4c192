import type { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import { PeerSyncApp } from '../app/peersync-app';
import { connectControlSocket } from '../control/control-socket';
import { ServerApi } from '../rpc/server-api';
import { isStoreError, StoreError } from '../store';
import { LocalConnection } from './local-connection';
import { dbPathFrom } from './open-db';

/**
 * What a command talks to: the application in this process, or — when a PeerSync server already
 * holds the database — that server, over its control socket. Both answer the same requests.
 */
export interface AppClient {
  sendRequest<R>(type: RequestType0<R, void>): Promise<R>;
  sendRequest<Params, R>(type: RequestType<Params, R, void>, params: Params): Promise<R>;
  onNotification<Params>(type: NotificationType<Params>, fn: (params: Params) => void): { dispose(): void };
  /** The database's name in requests. */
  readonly db: string;
  readonly dbPath: string;
  /** The running server's process, when the requests go to it. */
  readonly server: { readonly pid: number } | undefined;
}

export interface ClientOptions {
  /** Create the database if missing (default: it must exist). */
  readonly create?: boolean;
  /** Refuse unless the directory is missing or empty (db create). */
  readonly exclusive?: boolean;
}

/** Runs fn against the database the command names, then releases it (closing it, or the connection). */
export async function withAppClient<T>(values: Record<string, unknown>, fn: (client: AppClient) => Promise<T>, options: ClientOptions = {}): Promise<T> {
  const path = dbPathFrom(values);
  const app = new PeerSyncApp({ persistConfiguration: false });
  let db;
  try {
    db = await app.databases.openPath(path, { create: options.create === true, exclusive: options.exclusive === true });
  } catch (e) {
    await app.shutdown();
    if (!isStoreError(e, 'LOCKED')) throw e;
    return withRunningServer(path, e, fn);
  }
  const conn = new LocalConnection();
  const api = new ServerApi(app, conn);
  const client: AppClient = {
    sendRequest: ((type: RequestType<unknown, unknown, void>, params?: unknown) => conn.sendRequest(type, params)) as AppClient['sendRequest'],
    onNotification: (type, f) => conn.onNotification(type, f),
    db: db.name,
    dbPath: db.path,
    server: undefined,
  };
  try {
    return await fn(client);
  } finally {
    api.dispose();
    await app.shutdown();
  }
}

async function withRunningServer<T>(path: string, locked: StoreError, fn: (client: AppClient) => Promise<T>): Promise<T> {
  const control = await connectControlSocket(path);
  // No control socket: the holder is not a PeerSync server (or one too old to have one).
  if (!control) throw locked;
  const { conn, hello } = control;
  const client: AppClient = {
    sendRequest: ((type: RequestType<unknown, unknown, void>, params?: unknown) => conn.sendRequest(type, params)) as AppClient['sendRequest'],
    onNotification: (type, f) => conn.onNotification(type, f),
    db: hello.database,
    dbPath: path,
    server: { pid: hello.pid },
  };
  try {
    return await fn(client);
  } finally {
    control.close();
  }
}
