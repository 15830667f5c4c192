/**
 * PeerSync for VS Code: activation wires the context (server client), the `peersync:` file system,
 * the four tree views, the status bar, webview panels and the command table. The server starts in
 * the background; `whenReady()` in the returned API says when it answers.
 */
import * as vscode from 'vscode';
import type { RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { PeerSyncApi } from './api';
import { BLOB_SCHEME, BlobFileSystem } from './blobs/blob-file-system';
import { registerCommands } from './commands';
import { settings } from './config';
import { Credentials } from './credentials';
import { Ctx } from './ctx';
import { DOC_SCHEME, HISTORY_SCHEME, REV_SCHEME } from './documents/doc-uri';
import { PeerSyncFileSystem } from './documents/file-system';
import { SchemaDiagnostics } from './documents/schema-diagnostics';
import { CERT_SCHEME, CertificateContentProvider, HistoryContentProvider, RevisionContentProvider } from './documents/read-only-providers';
import { PeerSyncLog } from './log';
import { ConflictPanel, ConflictPanelSerializer } from './panels/conflict-panel';
import { DashboardPanel, DashboardPanelSerializer } from './panels/dashboard-panel';
import { QueryPlayground } from './query/query-playground';
import { QueryResultsPanel } from './query/results-panel';
import { RemotePeers } from './remote-peers';
import { ReplicationAlerts } from './replication-alerts';
import { SavedReplications } from './saved-replications';
import type { Services } from './services';
import { StatusBar } from './status-bar';
import { defaultUi } from './ui';
import { DISCARDED_SCHEME, DiscardedContentProvider } from './conflicts/discarded-documents';
import { ResolutionNotices } from './conflicts/resolution-notices';
import { ConflictsView } from './views/conflicts-view';
import { DatabasesView } from './views/databases-view';
import { PeersView } from './views/peers-view';
import { ReplicationsView } from './views/replications-view';
import { ResolvedConflictsView } from './views/resolved-conflicts-view';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): PeerSyncApi {
  const activationStarted = performance.now();
  const channel = vscode.window.createOutputChannel('PeerSync', { log: true });
  const log = new PeerSyncLog(channel, settings.logLevel());
  const ui = defaultUi();
  const c = new Ctx(context, log, ui);
  ctx = c;
  void vscode.commands.executeCommand('setContext', 'peersync.serverState', 'stopped');
  const sub = context.subscriptions;
  sub.push(log);

  const fs = new PeerSyncFileSystem(c);
  const schema = new SchemaDiagnostics(c);
  sub.push(
    schema,
    fs.onSchemaRefused((r) => schema.show(r.uri, r.problems)),
  );
  const peers = new RemotePeers(c, context.workspaceState);
  const credentials = new Credentials(context.secrets);
  const saved = new SavedReplications(c, credentials);
  const views = {
    databases: new DatabasesView(c),
    peers: new PeersView(c, peers),
    replications: new ReplicationsView(c, saved),
    conflicts: new ConflictsView(c),
    resolvedConflicts: new ResolvedConflictsView(c),
  };
  const statusBar = new StatusBar(c);
  const history = new HistoryContentProvider(c);
  const certificates = new CertificateContentProvider(c);
  const blobs = new BlobFileSystem(c);
  sub.push(fs, blobs, peers, saved, statusBar, history, certificates, new ReplicationAlerts(c), ...Object.values(views));
  sub.push(
    vscode.workspace.registerFileSystemProvider(DOC_SCHEME, fs, { isCaseSensitive: true }),
    vscode.workspace.registerFileSystemProvider(BLOB_SCHEME, blobs, {
      isCaseSensitive: true,
      isReadonly: new vscode.MarkdownString('A blob is read-only: save a document that references new content to change it.'),
    }),
    vscode.workspace.registerTextDocumentContentProvider(REV_SCHEME, new RevisionContentProvider(c)),
    vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, history),
    vscode.workspace.registerTextDocumentContentProvider(CERT_SCHEME, certificates),
    vscode.workspace.registerTextDocumentContentProvider(DISCARDED_SCHEME, new DiscardedContentProvider(c)),
    vscode.window.createTreeView('peersync.peers', { treeDataProvider: views.peers }),
    vscode.window.createTreeView('peersync.replications', { treeDataProvider: views.replications }),
  );
  const databasesTree = vscode.window.createTreeView('peersync.databases', { treeDataProvider: views.databases, showCollapseAll: true, canSelectMany: true });
  views.databases.attach(databasesTree);
  sub.push(databasesTree);
  const conflictsTree = vscode.window.createTreeView('peersync.conflicts', { treeDataProvider: views.conflicts });
  views.conflicts.attach(conflictsTree);
  sub.push(conflictsTree);
  const resolvedTree = vscode.window.createTreeView('peersync.resolvedConflicts', { treeDataProvider: views.resolvedConflicts });
  views.resolvedConflicts.attach(resolvedTree);
  sub.push(resolvedTree, new ResolutionNotices(c, views.resolvedConflicts));
  sub.push(
    vscode.window.registerWebviewPanelSerializer(ConflictPanel.viewType, new ConflictPanelSerializer(c)),
    vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, new DashboardPanelSerializer(c)),
  );

  const services: Services = { ctx: c, fs, certificates, peers, credentials, statusBar, views, schema };
  sub.push(...registerCommands(services));
  // CodeLenses and diagnostics for .peersync-query files, before any query has run.
  QueryPlayground.of(c);

  sub.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('peersync.logLevel')) {
        log.setLevel(settings.logLevel());
        c.sendLogLevel(settings.logLevel());
      }
      if (e.affectsConfiguration('peersync.dataFolder')) {
        void ui.showInformationMessage('The PeerSync data folder changed. Restart the server to use it.', 'Restart Server').then((choice) => {
          if (choice === 'Restart Server') void vscode.commands.executeCommand('peersync.restartServer');
        });
      }
    }),
  );

  c.start().catch((e: unknown) => {
    void ui.showErrorMessage(`The PeerSync server did not start: ${e instanceof Error ? e.message : String(e)}`, 'Show Logs').then((choice) => {
      if (choice === 'Show Logs') log.show();
    });
  });

  // How long activation and the first server start took (reported by the benchmark).
  const timings: { activateMs: number; serverReadyMs?: number } = { activateMs: 0 };
  timings.activateMs = performance.now() - activationStarted;
  c.whenReady().then(
    () => (timings.serverReadyMs ??= performance.now() - activationStarted),
    () => undefined,
  );
  return {
    client: () => c.languageClient(),
    request: ((type: RequestType<unknown, unknown, void>, params?: unknown) =>
      params === undefined ? c.request(type as unknown as RequestType0<unknown, void>) : c.request(type, params)) as PeerSyncApi['request'],
    whenReady: () => c.whenReady(),
    activationTimings: () => timings,
    serverState: () => c.state,
    dataFolder: () => c.dataFolder(),
    ui,
    fileSystem: fs,
    schemaDiagnostics: schema,
    views,
    statusBarText: () => statusBar.text,
    events: {
      onDidChangeServerState: c.onDidChangeServerState,
      onDatabaseChanged: c.onDatabaseChanged,
      onReplicatorStatus: c.onReplicatorStatus,
      onListenerStatus: c.onListenerStatus,
      onServerEvent: c.onServerEvent,
    },
    probeDashboard: async () => (DashboardPanel.instance?.isReady ? DashboardPanel.instance.probe() : undefined),
    probeQueryResults: async (click?: string) => QueryResultsPanel.instance?.probe(click),
    queryResultsShown: () => QueryResultsPanel.instance?.shown,
  };
}

export async function deactivate(): Promise<void> {
  await ctx?.stop();
  ctx = undefined;
}
