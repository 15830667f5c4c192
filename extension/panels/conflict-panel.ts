/**
 * The conflict editor panel (one per document). Loads GetConflict plus the body of every
 * conflicting leaf, resolves with ResolveConflict, and reloads when the server's DatabaseChanged
 * notification names the document. Revived after a window reload by its serializer.
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import {
  ConflictMessageType as T,
  type ConflictExtensionToWebview,
  type ConflictView,
  type ConflictWebviewState,
  type ConflictWebviewToExtension,
  type LeafView,
} from '../../webview/conflict/messages';
import type { Ctx } from '../ctx';
import { parseBody } from '../documents/doc-path';
import { errorMessage } from '../log';
import { webviewHtml, webviewOptions } from './webview-html';

export class ConflictPanel {
  static readonly viewType = 'peersync.conflict';
  private static readonly panels = new Map<string, ConflictPanel>();

  private readonly _disposables: vscode.Disposable[] = [];
  private pendingNotice: string | undefined;
  private loaded = false;
  private markShown!: () => void;
  /** Resolves once the webview has asked for and been sent its first view. */
  readonly shown = new Promise<void>((resolve) => (this.markShown = resolve));

  static show(ctx: Ctx, ref: P.DocumentRef): ConflictPanel {
    const existing = ConflictPanel.panels.get(keyOf(ref));
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ConflictPanel.viewType, `Conflict: ${ref.docId}`, vscode.ViewColumn.Active, webviewOptions(ctx.extension.extensionUri));
    return new ConflictPanel(ctx, panel, ref);
  }

  static revive(ctx: Ctx, panel: vscode.WebviewPanel, state: ConflictWebviewState | undefined): void {
    if (!state?.ref) {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(ctx.extension.extensionUri);
    new ConflictPanel(ctx, panel, state.ref);
  }

  /** Open conflict panels (for tests). */
  static get open(): readonly ConflictPanel[] {
    return [...ConflictPanel.panels.values()];
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    readonly ref: P.DocumentRef,
  ) {
    ConflictPanel.panels.set(keyOf(ref), this);
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'conflict.svg');
    panel.webview.html = webviewHtml(panel.webview, ctx.extension.extensionUri, 'conflict', `Conflict: ${ref.docId}`);
    panel.onDidDispose(() => this.dispose(), null, this._disposables);
    panel.webview.onDidReceiveMessage((m: ConflictWebviewToExtension) => void this.onMessage(m), null, this._disposables);
    this._disposables.push(
      ctx.onDatabaseChanged((e) => {
        if (e.db === ref.db && e.collection === ref.collection && (e.truncated || e.docIds.includes(ref.docId))) void this.load();
      }),
      ctx.onDidChangeServerState((s) => s === 'running' && this.loaded && void this.load()),
    );
  }

  private post(message: ConflictExtensionToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(m: ConflictWebviewToExtension): Promise<void> {
    try {
      switch (m.type) {
        case T.ready:
          await this.load();
          this.markShown();
          break;
        case T.keepRevision:
          await this.resolve({ kind: 'winner', revId: m.revId }, `Kept revision ${m.revId}.`);
          break;
        case T.saveMerged: {
          let body: Record<string, unknown>;
          try {
            body = parseBody(m.json);
          } catch (e) {
            this.post({ type: T.error, message: `The merged document is ${errorMessage(e)}.` });
            return;
          }
          await this.resolve({ kind: 'merged', body }, 'Saved the merged document.');
          break;
        }
        case T.deleteDocument: {
          const ok = await this.ctx.ui.showWarningMessage(`Delete “${this.ref.docId}”? Every conflicting revision is deleted; the deletion replicates to peers.`, { modal: true }, 'Delete');
          if (ok === 'Delete') await this.resolve({ kind: 'delete' }, 'Deleted the document.');
          break;
        }
      }
    } catch (e) {
      this.ctx.log.error(`conflict editor (${this.ref.docId}): ${errorMessage(e)}`);
      this.post({ type: T.error, message: errorMessage(e) });
    }
  }

  /** Resolves; the DatabaseChanged notification that follows reloads the view with the notice. */
  async resolve(resolution: P.ConflictResolution, what: string): Promise<P.DocumentData> {
    this.post({ type: T.busy, busy: true });
    try {
      const doc = await this.ctx.request(P.ResolveConflict, { ...this.ref, resolution });
      this.pendingNotice = `${what} Revision ${doc.revId} is now current.`;
      this.ctx.log.info(`${this.ref.docId}: conflict resolved (${resolution.kind}) → ${doc.revId}`);
      return doc;
    } catch (e) {
      this.post({ type: T.busy, busy: false });
      throw e;
    }
  }

  async load(): Promise<ConflictView> {
    const view = await this.buildView();
    this.loaded = true;
    const notice = this.pendingNotice;
    this.pendingNotice = undefined;
    this.post({ type: T.load, view, ...(notice ? { notice } : {}) });
    this.panel.title = view.conflicted ? `Conflict: ${this.ref.docId}` : `Resolved: ${this.ref.docId}`;
    return view;
  }

  private async buildView(): Promise<ConflictView> {
    const c = await this.ctx.request(P.GetConflict, this.ref);
    if (c) {
      const winner = c.tree.find((n) => n.winner);
      // `others` holds every branch in conflict with local (remote first), however many peers edited.
      const branches = c.others.length ? c.others : [c.remote];
      const leaves: LeafView[] = [{ revId: c.local.revId, deleted: c.local.deleted, body: c.local.body, role: 'local', winner: winner?.revId === c.local.revId }];
      for (const b of branches) {
        if (leaves.some((l) => l.revId === b.revId)) continue;
        leaves.push({ revId: b.revId, deleted: b.deleted, body: b.body, role: b.revId === c.remote.revId ? 'remote' : 'other', winner: winner?.revId === b.revId });
      }
      return { ref: this.ref, conflicted: true, currentRevId: winner?.revId ?? null, tree: c.tree, leaves };
    }
    const [doc, tree] = await Promise.all([this.ctx.request(P.GetDocument, this.ref), this.ctx.request(P.GetRevisionTree, this.ref)]);
    return { ref: this.ref, conflicted: false, currentRevId: doc && !doc.deleted ? doc.revId : null, tree: tree ?? [], leaves: [] };
  }

  dispose(): void {
    ConflictPanel.panels.delete(keyOf(this.ref));
    this.panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}

function keyOf(ref: P.DocumentRef): string {
  return `${ref.db}/${ref.collection}/${ref.docId}`;
}

export class ConflictPanelSerializer implements vscode.WebviewPanelSerializer<ConflictWebviewState> {
  constructor(private readonly ctx: Ctx) {}
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: ConflictWebviewState | undefined): Promise<void> {
    ConflictPanel.revive(this.ctx, panel, state);
  }
}
