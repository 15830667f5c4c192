import * as vscode from 'vscode';
import { Throttled } from '../throttle';

/** What the extension API exposes of each tree view (for tests). */
export interface ViewProbe {
  /** How many times the view told VS Code to refresh. */
  readonly refreshCount: number;
  readonly onDidRefresh: vscode.Event<void>;
  getChildren(element?: vscode.TreeItem): Promise<vscode.TreeItem[]>;
}

/** A leaf that only shows text (an error, "No documents"). */
export class MessageNode extends vscode.TreeItem {
  override readonly contextValue = 'message';
  constructor(label: string, kind: 'info' | 'error') {
    super(label, vscode.TreeItemCollapsibleState.None);
    this.iconPath = new vscode.ThemeIcon(kind === 'error' ? 'error' : 'info');
  }
}

/**
 * A tree view that refreshes on status notifications, which can arrive many times a second during
 * a replication: refreshes are coalesced to one per 250 ms.
 */
export abstract class ThrottledTreeView<N extends vscode.TreeItem> implements vscode.TreeDataProvider<N>, ViewProbe, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<N | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refreshed = new vscode.EventEmitter<void>();
  readonly onDidRefresh = this.refreshed.event;
  refreshCount = 0;
  private readonly throttle = new Throttled(250, () => {
    this.refreshCount++;
    this.changed.fire(undefined);
    this.refreshed.fire();
  });
  /** Subscriptions that end with the view. */
  protected readonly disposables: vscode.Disposable[] = [];

  refresh(): void {
    this.throttle.schedule();
  }

  getTreeItem(node: N): vscode.TreeItem {
    return node;
  }

  abstract getChildren(node?: N): Promise<N[]>;

  dispose(): void {
    this.throttle.dispose();
    this.changed.dispose();
    this.refreshed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
