import * as vscode from 'vscode';

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
