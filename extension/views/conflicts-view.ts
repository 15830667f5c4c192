/** Documents with conflicting leaf revisions (ListConflicts); opening one opens the conflict editor. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import { plural } from '../plural';
import { Throttled } from '../throttle';
import { MessageNode, type ViewProbe } from './common';

export class ConflictNode extends vscode.TreeItem {
  override readonly contextValue = 'conflict';
  constructor(readonly ref: P.DocumentRef) {
    super(ref.docId, vscode.TreeItemCollapsibleState.None);
    this.id = `conflict:${ref.db}/${ref.collection}/${ref.docId}`;
    this.description = `${ref.db} · ${ref.collection}`;
    this.iconPath = new vscode.ThemeIcon('git-merge', new vscode.ThemeColor('list.warningForeground'));
    this.tooltip = `${ref.docId} has conflicting revisions. Click to resolve.`;
    this.command = { command: 'peersync.resolveConflict', title: 'Resolve Conflict', arguments: [this] };
  }
}

type Node = ConflictNode | MessageNode;

export class ConflictsView implements vscode.TreeDataProvider<Node>, ViewProbe, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly _onDidRefresh = new vscode.EventEmitter<void>();
  readonly onDidRefresh = this._onDidRefresh.event;
  refreshCount = 0;
  private readonly throttle = new Throttled(500, () => {
    this.refreshCount++;
    this._onDidChangeTreeData.fire(undefined);
    this._onDidRefresh.fire();
  });
  private readonly disposables: vscode.Disposable[] = [];
  private view: vscode.TreeView<Node> | undefined;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      ctx.onDatabaseChanged(() => this.refresh()),
      ctx.onDidChangeServerState(() => this.refresh()),
      ctx.onServerEvent((e) => (e.kind === 'conflictsChanged' || e.kind === 'databaseOpened' || e.kind === 'databaseClosed' || e.kind === 'collectionDeleted') && this.refresh()),
    );
  }

  /** The tree view shows the number of conflicts as a badge. */
  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
  }

  refresh(): void {
    this.throttle.schedule();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node || !this.ctx.isRunning()) return [];
    try {
      const refs = await this.ctx.request(P.ListConflicts, {});
      if (this.view) this.view.badge = refs.length ? { value: refs.length, tooltip: `${plural(refs.length, 'document')} in conflict` } : undefined;
      return refs.map((r) => new ConflictNode(r));
    } catch (e) {
      return [new MessageNode(`Could not load: ${errorMessage(e)}`, 'error')];
    }
  }

  dispose(): void {
    this.throttle.dispose();
    this._onDidChangeTreeData.dispose();
    this._onDidRefresh.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
