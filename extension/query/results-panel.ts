/**
 * The query results panel (one for every query file): shows the last query run, its rows or its
 * error. The state is kept here and sent again whenever the webview (re)loads, so a panel hidden
 * and shown again still has its rows.
 */
import * as vscode from 'vscode';
import { QueryMessageType as T, type QueryExtensionToWebview, type QueryPanelState, type QueryProbeResultMessage, type QueryWebviewToExtension } from '../../webview/query/messages';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import { webviewHtml, webviewOptions } from '../panels/webview-html';
import { collectionOf } from './query-text';

export class QueryResultsPanel {
  static readonly viewType = 'peersync.queryResults';
  private static current: QueryResultsPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private state: QueryPanelState | undefined;
  private ready = false;
  private readonly whenReady: Promise<void>;
  private markReady: () => void = () => undefined;
  private nextProbe = 1;
  private readonly probes = new Map<number, (r: QueryProbeResultMessage) => void>();

  /** The open panel, revealed beside the query without taking the focus; opened if there is none. */
  static show(ctx: Ctx): QueryResultsPanel {
    const open = QueryResultsPanel.current;
    if (open) {
      if (!open.panel.visible) open.panel.reveal(undefined, true);
      return open;
    }
    const panel = vscode.window.createWebviewPanel(
      QueryResultsPanel.viewType,
      'Query Results',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { ...webviewOptions(ctx.extension.extensionUri), retainContextWhenHidden: true },
    );
    return new QueryResultsPanel(ctx, panel);
  }

  static get instance(): QueryResultsPanel | undefined {
    return QueryResultsPanel.current;
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
  ) {
    QueryResultsPanel.current = this;
    this.whenReady = new Promise((resolve) => (this.markReady = resolve));
    panel.webview.html = webviewHtml(panel.webview, ctx.extension.extensionUri, 'query', 'Query Results');
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((m: QueryWebviewToExtension) => void this.onMessage(m), null, this.disposables);
  }

  /** What the panel shows now (the last state sent). */
  get shown(): QueryPanelState | undefined {
    return this.state;
  }

  update(state: QueryPanelState): void {
    this.state = state;
    if (this.ready) this.post(state);
  }

  private post(message: QueryExtensionToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(m: QueryWebviewToExtension): Promise<void> {
    try {
      switch (m.type) {
        case T.ready:
          this.ready = true;
          if (this.state) this.post(this.state);
          this.markReady();
          break;
        case T.openDocument: {
          const collection = this.state ? collectionOf(this.state.query) : undefined;
          if (this.state && collection) await vscode.commands.executeCommand('peersync.openDocument', { db: this.state.db, collection, docId: m.docId });
          break;
        }
        case T.export:
          await vscode.commands.executeCommand('peersync.exportQueryResults', m.format);
          break;
        case T.probeResult:
          this.probes.get(m.requestId)?.(m);
          this.probes.delete(m.requestId);
          break;
      }
    } catch (e) {
      this.ctx.log.error(`query results: ${errorMessage(e)}`);
      void this.ctx.ui.showErrorMessage(`PeerSync: ${errorMessage(e)}`);
    }
  }

  /** Reads back what the grid shows (its DOM), after clicking `click` if given; for the extension-host tests. */
  async probe(click?: string, timeoutMs = 10_000): Promise<QueryProbeResultMessage> {
    const requestId = this.nextProbe++;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<QueryProbeResultMessage>((resolve, reject) => {
      timer = setTimeout(() => {
        this.probes.delete(requestId);
        reject(new Error(`the query results panel did not answer a probe within ${timeoutMs} ms`));
      }, timeoutMs);
      this.probes.set(requestId, resolve);
    });
    try {
      await Promise.race([this.whenReady, answered]);
      this.post({ type: T.probe, requestId, ...(click === undefined ? {} : { click }) });
      return await answered;
    } finally {
      clearTimeout(timer);
    }
  }

  dispose(): void {
    if (QueryResultsPanel.current === this) QueryResultsPanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
