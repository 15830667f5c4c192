/**
 * Every command, registered from one table (after rust-analyzer's createCommands). A command that
 * needs the server waits for a server that is starting and, when it is down, says "PeerSync server
 * is not running" (with Restart Server) instead of failing obscurely. Errors are shown once, here.
 */
import * as vscode from 'vscode';
import * as blob from '../blobs/blob-commands';
import { ServerNotRunningError } from '../ctx';
import { errorMessage, errorNotice } from '../log';
import { DashboardPanel } from '../panels/dashboard-panel';
import * as query from '../query/query-commands';
import type { Services } from '../services';
import * as coll from './collection-commands';
import * as dbs from './database-commands';
import * as doc from './document-commands';
import * as copy from './document-copy-commands';
import * as edit from './edit-replication';
import * as id from './identity-commands';
import * as net from './network-commands';
import * as resolved from './resolved-conflict-commands';
import * as schema from './schema-commands';
import * as sec from './security-commands';
import * as users from './user-commands';

interface CommandSpec {
  readonly needsServer: boolean;
  readonly run: (s: Services, ...args: unknown[]) => unknown;
}

export const COMMANDS: Record<string, CommandSpec> = {
  'peersync.createDatabase': { needsServer: true, run: (s, name) => doc.createDatabase(s, name) },
  'peersync.openDocument': { needsServer: true, run: (s, arg) => doc.openDocument(s, arg) },
  'peersync.newDocument': { needsServer: true, run: (s, arg) => doc.newDocument(s, arg) },
  'peersync.deleteDocument': { needsServer: true, run: (s, arg, selection) => doc.deleteDocument(s, arg, selection) },
  'peersync.copyDocumentId': { needsServer: false, run: (s, arg) => doc.copyDocumentId(s, arg) },
  'peersync.showRevisionHistory': { needsServer: true, run: (s, arg) => doc.showRevisionHistory(s, arg) },
  'peersync.importDocuments': { needsServer: true, run: (s, arg, file) => doc.importDocuments(s, arg, file) },
  'peersync.exportCollection': { needsServer: true, run: (s, arg, file) => doc.exportCollection(s, arg, file) },
  'peersync.loadMoreDocuments': { needsServer: true, run: (s, db, collection) => s.views.databases.loadMore(String(db), String(collection)) },
  'peersync.resolveConflict': { needsServer: true, run: (s, arg) => doc.resolveConflict(s, arg) },
  'peersync.copyDocumentJson': { needsServer: true, run: (s, arg) => copy.copyDocumentJson(s, arg) },
  'peersync.duplicateDocument': { needsServer: true, run: (s, arg) => copy.duplicateDocument(s, arg) },
  'peersync.openDatabaseFolder': { needsServer: true, run: (s, path) => dbs.openDatabaseFolder(s, path) },
  'peersync.closeDatabase': { needsServer: true, run: (s, arg) => dbs.closeDatabase(s, arg) },
  'peersync.deleteDatabase': { needsServer: true, run: (s, arg) => dbs.deleteDatabase(s, arg) },
  'peersync.deleteCollection': { needsServer: true, run: (s, arg) => dbs.deleteCollection(s, arg) },
  'peersync.filterDocuments': { needsServer: true, run: (s, arg, prefix) => dbs.filterDocuments(s, arg, prefix) },
  'peersync.clearDocumentFilter': { needsServer: false, run: (s, arg) => dbs.clearDocumentFilter(s, arg) },
  'peersync.setCollectionSchema': { needsServer: true, run: (s, arg, file) => schema.setCollectionSchema(s, arg, file) },
  'peersync.removeCollectionSchema': { needsServer: true, run: (s, arg) => schema.removeCollectionSchema(s, arg) },
  'peersync.restoreDiscarded': { needsServer: true, run: (s, arg) => resolved.restoreDiscarded(s, arg) },
  'peersync.purgeDocument': { needsServer: true, run: (s, arg) => coll.purgeDocument(s, arg) },
  'peersync.createCollection': { needsServer: true, run: (s, arg, name) => coll.createCollection(s, arg, name) },
  'peersync.openBlob': { needsServer: true, run: (s, arg) => blob.openBlob(s, arg) },
  'peersync.saveBlobAs': { needsServer: true, run: (s, arg) => blob.saveBlobAs(s, arg) },

  'peersync.startListener': { needsServer: true, run: (s, arg) => net.startListener(s, arg) },
  'peersync.startListenerAdvanced': { needsServer: true, run: (s, arg) => net.startListener(s, arg, true) },
  'peersync.stopListener': { needsServer: true, run: (s, arg) => net.stopListener(s, arg) },
  'peersync.copyListenerUrl': { needsServer: true, run: (s, arg) => net.copyListenerUrl(s, arg) },
  'peersync.showListenerCertificate': { needsServer: true, run: (s, arg) => sec.showListenerCertificate(s, arg) },
  'peersync.createIdentity': { needsServer: true, run: (s, arg) => sec.createIdentity(s, arg) },
  'peersync.importIdentity': { needsServer: true, run: (s, arg) => id.importIdentity(s, arg) },
  'peersync.exportIdentity': { needsServer: true, run: (s, arg) => id.exportIdentity(s, arg) },
  'peersync.deleteIdentity': { needsServer: true, run: (s, arg) => id.deleteIdentity(s, arg) },
  'peersync.addUser': { needsServer: true, run: (s, file) => users.addUser(s, file) },
  'peersync.removeUser': { needsServer: true, run: (s, file, name) => users.removeUser(s, file, name) },
  'peersync.listUsers': { needsServer: true, run: (s, file) => users.listUsers(s, file) },
  'peersync.addPeer': { needsServer: true, run: (s, url) => net.addPeer(s, url) },
  'peersync.removePeer': { needsServer: true, run: (s, arg) => net.removePeer(s, arg) },
  'peersync.startReplication': { needsServer: true, run: (s, arg) => net.startReplication(s, arg) },
  'peersync.startReplicationAdvanced': { needsServer: true, run: (s, arg) => net.startReplication(s, arg, true) },
  'peersync.stopReplication': { needsServer: true, run: (s, arg) => net.stopReplication(s, arg) },
  'peersync.resumeReplication': { needsServer: true, run: (s, arg) => net.restartReplication(s, arg) },
  'peersync.restartReplication': { needsServer: true, run: (s, arg) => net.restartReplication(s, arg) },
  'peersync.removeReplication': { needsServer: true, run: (s, arg) => net.removeReplication(s, arg) },
  'peersync.editReplication': { needsServer: true, run: (s, arg) => edit.editReplication(s, arg) },

  'peersync.runQuery': { needsServer: true, run: (s, uri, offset) => query.runQuery(s, uri, offset) },
  'peersync.exportQueryResults': { needsServer: false, run: (s, format, file) => query.exportQueryResults(s, format, file) },
  'peersync.newQuery': { needsServer: true, run: (s, arg) => query.newQuery(s, arg) },

  'peersync.openDashboard': { needsServer: false, run: (s) => DashboardPanel.show(s.ctx) },
  'peersync.refreshViews': {
    needsServer: false,
    run: async (s) => {
      // Databases copied into the data folder on disk are opened first.
      if (s.ctx.isRunning()) await dbs.refreshDatabases(s);
      s.views.databases.refresh();
      s.views.peers.refresh();
      s.views.replications.refresh();
      s.views.conflicts.refresh();
      s.views.resolvedConflicts.refresh();
      void s.statusBar.reload();
    },
  },
  'peersync.showLogs': { needsServer: false, run: (s) => s.ctx.log.show() },
  'peersync.restartServer': {
    needsServer: false,
    run: (s) => vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Restarting the PeerSync server' }, () => s.ctx.restart()),
  },
  'peersync.stopServer': { needsServer: false, run: (s) => s.ctx.stop() },
  'peersync.statusBarActions': { needsServer: false, run: (s) => statusBarActions(s) },
};

export function registerCommands(s: Services): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, spec]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      if (spec.needsServer) {
        if (s.ctx.state === 'starting') await s.ctx.whenReady().catch(() => undefined);
        if (!s.ctx.isRunning()) {
          s.ctx.reportNotRunning();
          return undefined;
        }
      }
      try {
        return await spec.run(s, ...args);
      } catch (e) {
        if (e instanceof ServerNotRunningError) s.ctx.reportNotRunning();
        else {
          s.ctx.log.error(`${id}: ${errorMessage(e)}`);
          void s.ctx.ui.showErrorMessage(errorNotice(e));
        }
        return undefined;
      }
    }),
  );
}

async function statusBarActions(s: Services): Promise<void> {
  const running = s.ctx.isRunning();
  const items: { label: string; command: string; args?: unknown[] }[] = running
    ? [
        { label: '$(radio-tower) Start Listener…', command: 'peersync.startListener' },
        { label: '$(debug-stop) Stop Listener…', command: 'peersync.stopListener' },
        { label: '$(copy) Copy Listener URL', command: 'peersync.copyListenerUrl' },
        { label: '$(shield) Show Listener Certificate', command: 'peersync.showListenerCertificate' },
        { label: '$(sync) Start Replication…', command: 'peersync.startReplication' },
        { label: '$(pulse) Open Replication Dashboard', command: 'peersync.openDashboard' },
        { label: '$(output) Show Logs', command: 'peersync.showLogs' },
        { label: '$(debug-restart) Restart Server', command: 'peersync.restartServer' },
      ]
    : [
        { label: '$(debug-restart) Restart Server', command: 'peersync.restartServer' },
        { label: '$(output) Show Logs', command: 'peersync.showLogs' },
      ];
  const chosen = await s.ctx.ui.showQuickPick(items, { title: running ? 'PeerSync' : 'PeerSync (server not running)' });
  if (chosen) await vscode.commands.executeCommand(chosen.command, ...(chosen.args ?? []));
}
