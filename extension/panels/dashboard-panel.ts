/**
 * The replication dashboard panel (a singleton). Sends a snapshot when the webview is ready and
 * then coalesced updates from the server's notifications, at most 10 per second.
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { DashboardMessageType as T, type DashboardExtensionToWebview, type DashboardWebviewToExtension, type ProbeResultMessage } from '../../webview/dashboard/messages';
import type { Ctx } from '../ctx';
import { errorMessage, errorNotice } from '../log';
import { webviewHtml, webviewOptions } from './webview-html';

const MIN_INTERVAL_MS = 100; // ≤ 10 messages per second

export class DashboardPanel {
  static readonly viewType = 'peersync.dashboard';
  private static current: DashboardPanel | undefined;

  private readonly _disposables: vscode.Disposable[] = [];
  private readonly changedReplicators = new Map<string, P.ReplicatorInfo>();
  private readonly removedReplicators = new Set<string>();
  private readonly changedListeners = new Map<string, P.ListenerInfo>();
  private log: P.ReplicationLogEntry[] = [];
  private knownReplicators = new Set<string>();
  /** Removed replicators: a status notification sent while one was being removed must not bring it back. */
  private readonly gone = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private ready = false;
  private nextProbe = 1;
  private readonly probes = new Map<number, (r: ProbeResultMessage) => void>();

  static show(ctx: Ctx): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal();
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(DashboardPanel.viewType, 'PeerSync Dashboard', vscode.ViewColumn.Active, webviewOptions(ctx.extension.extensionUri));
    return new DashboardPanel(ctx, panel);
  }

  static revive(ctx: Ctx, panel: vscode.WebviewPanel): void {
    panel.webview.options = webviewOptions(ctx.extension.extensionUri);
    DashboardPanel.current?.dispose();
    new DashboardPanel(ctx, panel);
  }

  static get instance(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
  ) {
    DashboardPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'dashboard.svg');
    panel.webview.html = webviewHtml(panel.webview, ctx.extension.extensionUri, 'dashboard', 'PeerSync Dashboard');
    panel.onDidDispose(() => this.dispose(), null, this._disposables);
    panel.webview.onDidReceiveMessage((m: DashboardWebviewToExtension) => void this.onMessage(m), null, this._disposables);
    this._disposables.push(
      ctx.onReplicatorStatus((r) => {
        if (this.gone.has(r.id)) return;
        this.changedReplicators.set(r.id, r);
        this.removedReplicators.delete(r.id);
        this.knownReplicators.add(r.id);
        this.schedule();
      }),
      ctx.onListenerStatus((l) => {
        this.changedListeners.set(l.id, l);
        this.schedule();
      }),
      ctx.onReplicationLog((entries) => {
        this.log.push(...entries);
        if (this.log.length > 1000) this.log.splice(0, this.log.length - 1000);
        this.schedule();
      }),
      ctx.onServerEvent((e) => {
        if (e.kind === 'replicationAdded') {
          this.gone.delete(e.replication.id);
          this.removedReplicators.delete(e.replication.id);
          this.changedReplicators.set(e.replication.id, e.replication);
          this.knownReplicators.add(e.replication.id);
          this.schedule();
        } else if (e.kind === 'replicationRemoved') {
          this.removedReplicators.add(e.id);
          this.changedReplicators.delete(e.id);
          this.knownReplicators.delete(e.id);
          this.gone.add(e.id);
          this.schedule();
        }
      }),
      ctx.onDidChangeServerState((s) => {
        if (s === 'running') void this.sendSnapshot();
        else this.schedule();
      }),
    );
  }

  private post(message: DashboardExtensionToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(m: DashboardWebviewToExtension): Promise<void> {
    try {
      switch (m.type) {
        case T.ready:
          this.ready = true;
          await this.sendSnapshot();
          break;
        case T.replicatorAction: {
          // Restart through the command, which supplies a saved password (or asks for it).
          const info =
            m.action === 'stop'
              ? await this.ctx.request(P.StopReplication, { id: m.id })
              : await vscode.commands.executeCommand<P.ReplicatorInfo | undefined>(m.action === 'edit' ? 'peersync.editReplication' : 'peersync.restartReplication', m.id);
          if (!info) break;
          this.changedReplicators.set(info.id, info);
          this.schedule();
          break;
        }
        case T.openDocument: {
          const db = await this.dbOfSource(m.source);
          if (db) await vscode.commands.executeCommand('peersync.openDocument', { db, collection: m.collection, docId: m.docId });
          break;
        }
        case T.probeResult:
          this.probes.get(m.requestId)?.(m);
          this.probes.delete(m.requestId);
          break;
      }
    } catch (e) {
      this.ctx.log.error(`dashboard: ${errorMessage(e)}`);
      void this.ctx.ui.showErrorMessage(errorNotice(e));
    }
  }

  private async dbOfSource(source: string): Promise<string | undefined> {
    const [reps, listeners] = await Promise.all([this.ctx.request(P.ListReplications), this.ctx.request(P.ListListeners)]);
    return reps.find((r) => r.id === source)?.db ?? listeners.find((l) => l.id === source)?.db;
  }

  private async sendSnapshot(): Promise<void> {
    if (!this.ready) return;
    const running = this.ctx.isRunning();
    const [replicators, listeners] = running ? await Promise.all([this.ctx.request(P.ListReplications), this.ctx.request(P.ListListeners)]) : [[], []];
    this.knownReplicators = new Set(replicators.map((r) => r.id));
    this.gone.clear(); // ids are per server process: a restarted server reuses them
    this.changedReplicators.clear();
    this.removedReplicators.clear();
    this.changedListeners.clear();
    this.log = [];
    this.lastSent = Date.now();
    this.post({ type: T.snapshot, serverRunning: running, replicators, listeners, log: this.ctx.recentLog.slice(-500) });
  }

  private schedule(): void {
    if (this.timer || !this.ready) return;
    const wait = Math.max(0, this.lastSent + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    this.lastSent = Date.now();
    const message: DashboardExtensionToWebview = {
      type: T.update,
      serverRunning: this.ctx.isRunning(),
      replicators: [...this.changedReplicators.values()],
      removedReplicators: [...this.removedReplicators],
      listeners: [...this.changedListeners.values()],
      log: this.log,
    };
    this.changedReplicators.clear();
    this.removedReplicators.clear();
    this.changedListeners.clear();
    this.log = [];
    this.post(message);
  }

  /** Reads back what the webview shows (its DOM), for the extension-host tests. */
  probe(timeoutMs = 5000): Promise<ProbeResultMessage> {
    const requestId = this.nextProbe++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(requestId);
        reject(new Error(`the dashboard did not answer a probe within ${timeoutMs} ms`));
      }, timeoutMs);
      this.probes.set(requestId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.post({ type: T.probe, requestId });
    });
  }

  /** True once the webview has loaded and received its snapshot. */
  get isReady(): boolean {
    return this.ready;
  }

  dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}

export class DashboardPanelSerializer implements vscode.WebviewPanelSerializer {
  constructor(private readonly ctx: Ctx) {}
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    DashboardPanel.revive(this.ctx, panel);
  }
}
