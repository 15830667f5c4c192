/**
 * The extension's one context object (after rust-analyzer's ctx.ts). Three disposal scopes:
 *   - extension lifetime: `context.subscriptions` (views, providers, emitters, the log);
 *   - server-client lifetime: the LanguageClient and everything wired to it, disposed on stop;
 *   - command registrations: registered once from the command table (commands/index.ts).
 * restart = stop(timeout), dispose the client scope, start again.
 *
 * Server notifications are re-published as plain vscode Events that outlive any one client, so
 * views and panels subscribe once.
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import type { RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import * as P from '../server/rpc/protocol';
import { settings } from './config';
import { errorMessage, type PeerSyncLog } from './log';
import { RestartPolicy } from './restart-policy';
import { createServerClient, databasesIn } from './server-client';
import { writeServerLog } from './server-log';
import type { Ui } from './ui';

export type ServerState = 'stopped' | 'starting' | 'running';

export class ServerNotRunningError extends Error {
  constructor() {
    super('PeerSync server is not running');
    this.name = 'ServerNotRunningError';
  }
}

export type DatabaseChangedParams = { db: string; collection: string; docIds: string[]; truncated: boolean };

const RECENT_LOG = 1000;

export class Ctx {
  private client: LanguageClient | undefined;
  private clientScope: vscode.Disposable[] = [];
  private starting: Promise<void> | undefined;
  private _state: ServerState = 'stopped';
  private readonly restartPolicy = new RestartPolicy(3, 3 * 60_000);
  /** The last ReplicationLog entries since activation (the dashboard starts from these). */
  readonly recentLog: P.ReplicationLogEntry[] = [];

  private readonly _onDidChangeServerState = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeServerState = this._onDidChangeServerState.event;
  private readonly _onDatabaseChanged = new vscode.EventEmitter<DatabaseChangedParams>();
  readonly onDatabaseChanged = this._onDatabaseChanged.event;
  private readonly _onReplicatorStatus = new vscode.EventEmitter<P.ReplicatorInfo>();
  readonly onReplicatorStatus = this._onReplicatorStatus.event;
  private readonly _onListenerStatus = new vscode.EventEmitter<P.ListenerInfo>();
  readonly onListenerStatus = this._onListenerStatus.event;
  private readonly _onReplicationLog = new vscode.EventEmitter<P.ReplicationLogEntry[]>();
  readonly onReplicationLog = this._onReplicationLog.event;
  /** The server's own state changes, whoever caused them (this window, the command line, a peer). */
  private readonly _onServerEvent = new vscode.EventEmitter<P.ServerEventParams>();
  readonly onServerEvent = this._onServerEvent.event;

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: PeerSyncLog,
    readonly ui: Ui,
  ) {
    extension.subscriptions.push(this._onDidChangeServerState, this._onDatabaseChanged, this._onReplicatorStatus, this._onListenerStatus, this._onReplicationLog, this._onServerEvent, {
      dispose: () => void this.stop(),
    });
  }

  get state(): ServerState {
    return this._state;
  }

  languageClient(): LanguageClient | undefined {
    return this.client;
  }

  isRunning(): boolean {
    return this.client?.isRunning() === true;
  }

  /** Where the databases live: the setting, else the workspace storage (else global storage) + /databases. */
  dataFolder(): string {
    const configured = settings.dataFolder();
    if (configured) return configured;
    const base = this.extension.storageUri ?? this.extension.globalStorageUri;
    return base.scheme === 'file' ? join(base.fsPath, 'databases') : join(homedir(), '.peersync', 'databases');
  }

  /** Starts the server (if not started); resolves when it answers requests. */
  start(): Promise<void> {
    if (this.client && this.starting) return this.starting;
    const client = createServerClient({
      context: this.extension,
      log: this.log,
      dataFolder: () => this.dataFolder(),
      restartPolicy: this.restartPolicy,
      onGaveUp: (crashes) => void this.reportGaveUp(crashes),
    });
    this.client = client;
    const scope = this.clientScope;
    let initial = true;
    scope.push(
      client.onDidChangeState((e) => {
        if (this.client !== client) return;
        if (e.newState !== State.Running) {
          this.setState(e.newState === State.Starting ? 'starting' : 'stopped');
          return;
        }
        // Running again after a crash (the client restarted it): reopen the databases.
        if (!initial) this.starting = this.afterStart(client);
      }),
      client.onNotification(P.DatabaseChanged, (p) => this._onDatabaseChanged.fire(p)),
      client.onNotification(P.ReplicatorStatusChanged, (p) => this._onReplicatorStatus.fire(p)),
      client.onNotification(P.ListenerStatusChanged, (p) => this._onListenerStatus.fire(p)),
      client.onNotification(P.ServerEvent, (p) => this._onServerEvent.fire(p)),
      client.onNotification(P.LogRecord, (r) => writeServerLog(this.log, r)),
      client.onNotification(P.ReplicationLog, (p) => {
        this.recentLog.push(...p.entries);
        if (this.recentLog.length > RECENT_LOG) this.recentLog.splice(0, this.recentLog.length - RECENT_LOG);
        this._onReplicationLog.fire(p.entries);
      }),
    );
    this.setState('starting');
    this.log.info(`starting the PeerSync server (data folder ${this.dataFolder()})`);
    this.starting = client.start().then(
      () => {
        initial = false;
        return this.afterStart(client);
      },
      (e: unknown) => {
        this.log.error(`the PeerSync server did not start: ${errorMessage(e)}`);
        if (this.client === client) this.setState('stopped');
        throw e;
      },
    );
    return this.starting;
  }

  /** Opens every database in the data folder, then reports the server running. */
  private async afterStart(client: LanguageClient): Promise<void> {
    const folder = this.dataFolder();
    for (const name of databasesIn(folder)) {
      try {
        await client.sendRequest(P.CreateDatabase.method, { name });
      } catch (e) {
        this.log.error(`could not open the database ${name} in ${folder}: ${errorMessage(e)}`);
      }
    }
    if (this.client !== client) return;
    this.log.info('the PeerSync server is running');
    this.setState('running');
  }

  /** Stops the server (shutdown request, then exit; killed after `timeoutMs`) and disposes the client scope. */
  async stop(timeoutMs = 3000): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    const starting = this.starting;
    this.starting = undefined;
    try {
      await starting?.catch(() => undefined);
      await client.dispose(timeoutMs);
    } catch (e) {
      this.log.warn(`stopping the PeerSync server: ${errorMessage(e)}`);
    }
    const scope = this.clientScope;
    this.clientScope = [];
    for (const d of scope.reverse()) {
      try {
        d.dispose();
      } catch (e) {
        this.log.warn(`disposing: ${errorMessage(e)}`);
      }
    }
    this.setState('stopped');
    this.log.info('the PeerSync server stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restartPolicy.reset();
    await this.start();
  }

  /** Resolves when the current server start has finished; rejects if there is none or it failed. */
  whenReady(): Promise<void> {
    return this.starting ?? Promise.reject(new ServerNotRunningError());
  }

  /** Sends a typed request; rejects with ServerNotRunningError when the server is down. */
  request<R>(type: RequestType0<R, void>): Promise<R>;
  request<Params, R>(type: RequestType<Params, R, void>, params: Params): Promise<R>;
  async request(type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>, params?: unknown): Promise<unknown> {
    const client = this.client;
    if (!client || !client.isRunning()) throw new ServerNotRunningError();
    // By method name: a RequestType made by another copy of vscode-jsonrpc (a test bundle) carries
    // a ParameterStructures object this copy does not recognise.
    return params === undefined ? client.sendRequest(type.method) : client.sendRequest(type.method, params);
  }

  /** Tells a running server the new `peersync.logLevel`; a server started later gets it at initialize. */
  sendLogLevel(level: string): void {
    const client = this.client;
    if (!client || !client.isRunning()) return;
    // By method name, for the same reason as request().
    client.sendNotification(P.SetLogLevel.method, { level }).catch((e: unknown) => this.log.warn(`setting the server's log level: ${errorMessage(e)}`));
  }

  private setState(state: ServerState): void {
    if (state === this._state) return;
    this._state = state;
    void vscode.commands.executeCommand('setContext', 'peersync.serverState', state);
    this._onDidChangeServerState.fire(state);
  }

  private async reportGaveUp(crashes: number): Promise<void> {
    const choice = await this.ui.showErrorMessage(`The PeerSync server crashed ${crashes} times within 3 minutes and was not restarted.`, 'Restart Server', 'Show Logs');
    if (choice === 'Restart Server') await this.restart();
    else if (choice === 'Show Logs') this.log.show();
  }

  /** "PeerSync server is not running" with a way out; does not wait for the user's answer. */
  reportNotRunning(): void {
    void this.ui.showErrorMessage('PeerSync server is not running.', 'Restart Server', 'Show Logs').then((choice) => {
      if (choice === 'Restart Server') void this.restart();
      else if (choice === 'Show Logs') this.log.show();
    });
  }
}

/** True when `e` is a ResponseError with `code`. */
export function isRpcError(e: unknown, code: number): e is { code: number; message: string; data?: unknown } {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
