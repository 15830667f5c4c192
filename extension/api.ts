/** What `activate()` returns: a few typed helpers for tests and other extensions. */
import type * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type * as P from '../server/rpc/protocol';
import type { ProbeResultMessage } from '../webview/dashboard/messages';
import type { QueryPanelState, QueryProbeResultMessage } from '../webview/query/messages';
import type { PeerSyncFileSystem } from './documents/file-system';
import type { SchemaDiagnostics } from './documents/schema-diagnostics';
import type { DatabaseChangedParams, ServerState } from './ctx';
import type { Ui } from './ui';
import type { ViewProbe } from './views/common';

export interface PeerSyncApi {
  /** The language client while one exists (running or not). */
  client(): LanguageClient | undefined;
  /** Sends a typed request (works with RequestTypes from another bundle, e.g. a test's). */
  request<R>(type: RequestType0<R, void>): Promise<R>;
  request<Params, R>(type: RequestType<Params, R, void>, params: Params): Promise<R>;
  /** Resolves when the server answers requests (rejects if it failed to start or is stopped). */
  whenReady(): Promise<void>;
  /** Time spent in activate(), and from activation until the server first answered (ms). */
  activationTimings(): { readonly activateMs: number; readonly serverReadyMs?: number };
  serverState(): ServerState;
  /** The data folder the server was started with. */
  dataFolder(): string;
  /** Every prompt goes through this object; tests replace its methods (and put them back). */
  readonly ui: Ui;
  readonly fileSystem: Pick<PeerSyncFileSystem, 'openedRevision'>;
  /** JSON Schema problems shown for open documents. */
  readonly schemaDiagnostics: Pick<SchemaDiagnostics, 'diagnostics' | 'onDidUpdate'>;
  readonly views: {
    readonly databases: ViewProbe & {
      reveal(item: vscode.TreeItem, options?: { expand?: boolean | number; select?: boolean; focus?: boolean }): Promise<void>;
    };
    readonly peers: ViewProbe;
    readonly replications: ViewProbe;
    readonly conflicts: ViewProbe;
    readonly resolvedConflicts: ViewProbe & {
      selection(): readonly vscode.TreeItem[];
      readonly onDidReveal: vscode.Event<P.ResolvedConflict>;
      revealRecord(record: P.ResolvedConflict): Promise<void>;
    };
  };
  readonly statusBarText: () => string;
  /** The server's notifications (a client allows one handler per method: subscribe here instead). */
  readonly events: {
    readonly onDidChangeServerState: vscode.Event<ServerState>;
    readonly onDatabaseChanged: vscode.Event<DatabaseChangedParams>;
    readonly onReplicatorStatus: vscode.Event<P.ReplicatorInfo>;
    readonly onListenerStatus: vscode.Event<P.ListenerInfo>;
    readonly onServerEvent: vscode.Event<P.ServerEventParams>;
  };
  /** What the open replication dashboard shows (read from its DOM); undefined when it is not open. */
  probeDashboard(): Promise<ProbeResultMessage | undefined>;
  /**
   * What the query results panel's grid shows (read from its DOM), after clicking the button the
   * CSS selector `click` names, if given; undefined when the panel is not open.
   */
  probeQueryResults(click?: string): Promise<QueryProbeResultMessage | undefined>;
  /** What the query results panel was last sent; undefined when it is not open. */
  queryResultsShown(): QueryPanelState | undefined;
}
