/**
 * Resolved Conflicts: every recorded resolution per database, newest first (automatic ones by a
 * replication's resolver, and the ones made in the conflict editor). A record expands to the branches
 * it discarded; each opens read-only and can be restored as a new revision.
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { discardedUri } from '../conflicts/discarded-documents';
import { outcomeText, relativeTime, resolutionDescription, shortRevId } from '../conflicts/resolution-text';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import { MessageNode, ThrottledTreeView } from './common';

/** Records listed per database (the newest). */
export const RESOLVED_PAGE = 50;

export class ResolvedDatabaseNode extends vscode.TreeItem {
  override readonly contextValue = 'resolvedDatabase';
  constructor(
    readonly db: string,
    count: number,
  ) {
    super(db, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `resolved-db:${db}`;
    this.description = count >= RESOLVED_PAGE ? `latest ${count}` : `${count}`;
    this.iconPath = new vscode.ThemeIcon('database');
  }
}

export class ResolutionNode extends vscode.TreeItem {
  override readonly contextValue = 'resolvedConflict';
  constructor(
    readonly record: P.ResolvedConflict,
    now = Date.now(),
  ) {
    super(record.docId, record.discarded.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.id = resolutionNodeId(record.db, record.id);
    this.description = resolutionDescription(record, now);
    const competing = record.competing.map((c) => `\`${c.revId}\`${c.deleted ? ' (deleted)' : ''}`).join(', ');
    this.tooltip = new vscode.MarkdownString(
      `**${record.docId}** (${record.db} · ${record.collection})\n\n` +
        `Resolved by **${record.resolver}** ${relativeTime(record.time, now)} (${new Date(record.time).toLocaleString()}): ${outcomeText(record)}.\n\n` +
        `Competing: ${competing || '—'}\n\nDiscarded: ${record.discarded.length}`,
    );
    this.iconPath = new vscode.ThemeIcon(record.outcome === 'merged' ? 'git-merge' : record.outcome === 'deleted' ? 'trash' : 'check');
  }
}

export class DiscardedNode extends vscode.TreeItem {
  override readonly contextValue = 'discardedRevision';
  constructor(
    readonly record: P.ResolvedConflict,
    readonly branch: P.RecordedRevision,
  ) {
    super(shortRevId(branch.revId), vscode.TreeItemCollapsibleState.None);
    this.id = `discarded:${record.db}:${record.id}:${branch.revId}`;
    this.description = branch.deleted ? 'discarded deletion' : 'discarded';
    this.tooltip = `${branch.revId}\nDiscarded when the conflict in “${record.docId}” was resolved. Click to view; Restore as New Revision brings it back.`;
    this.iconPath = new vscode.ThemeIcon(branch.deleted ? 'circle-slash' : 'git-commit');
    this.command = { command: 'vscode.open', title: 'Open Discarded Revision', arguments: [discardedUri(record, branch.revId), { preview: true }] };
  }
}

export function resolutionNodeId(db: string, recordId: number): string {
  return `resolved:${db}:${recordId}`;
}

type Node = ResolvedDatabaseNode | ResolutionNode | DiscardedNode | MessageNode;

export class ResolvedConflictsView extends ThrottledTreeView<Node> {
  private tree: vscode.TreeView<Node> | undefined;
  private readonly parents = new Map<string, Node>();

  constructor(private readonly ctx: Ctx) {
    super();
    this.disposables.push(
      ctx.onDidChangeServerState(() => this.refresh()),
      ctx.onServerEvent((e) => {
        if (e.kind === 'conflictResolved' || e.kind === 'databaseOpened' || e.kind === 'databaseClosed') this.refresh();
      }),
    );
  }

  private readonly _onDidReveal = new vscode.EventEmitter<P.ResolvedConflict>();
  /** A record was revealed (e.g. from the notification's Show). */
  readonly onDidReveal = this._onDidReveal.event;

  attach(tree: vscode.TreeView<Node>): void {
    this.tree = tree;
    this.disposables.push(this._onDidReveal);
  }

  /** What the tree has selected (tests read it after Show). */
  selection(): readonly vscode.TreeItem[] {
    return this.tree?.selection ?? [];
  }

  getParent(node: Node): Node | undefined {
    return node.id ? this.parents.get(node.id) : undefined;
  }

  /** Shows a record (its database expanded), e.g. from the "conflict resolved" notification. */
  async revealRecord(record: P.ResolvedConflict): Promise<void> {
    await vscode.commands.executeCommand('peersync.resolvedConflicts.focus');
    const dbs = await this.getChildren();
    const dbNode = dbs.find((n) => n instanceof ResolvedDatabaseNode && n.db === record.db);
    if (!dbNode) return;
    const node = (await this.getChildren(dbNode)).find((n) => n instanceof ResolutionNode && n.record.id === record.id);
    if (!node) return;
    await this.tree?.reveal(node, { select: true, focus: true, expand: true });
    this._onDidReveal.fire(record);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    const children = await this.children(node);
    if (node) for (const c of children) if (c.id) this.parents.set(c.id, node);
    return children;
  }

  private async children(node?: Node): Promise<Node[]> {
    if (!this.ctx.isRunning()) return [];
    try {
      if (!node) {
        const dbs = (await this.ctx.request(P.ListDatabases)).map((d) => d.name).sort((a, b) => a.localeCompare(b));
        const nodes: Node[] = [];
        for (const db of dbs) {
          const records = await this.ctx.request(P.ListResolvedConflicts, { db, limit: RESOLVED_PAGE });
          if (records.length) nodes.push(new ResolvedDatabaseNode(db, records.length));
        }
        return nodes;
      }
      if (node instanceof ResolvedDatabaseNode) {
        const now = Date.now();
        const records = await this.ctx.request(P.ListResolvedConflicts, { db: node.db, limit: RESOLVED_PAGE });
        return records.sort((a, b) => b.time - a.time || b.id - a.id).map((r) => new ResolutionNode(r, now));
      }
      if (node instanceof ResolutionNode) return node.record.discarded.map((b) => new DiscardedNode(node.record, b));
    } catch (e) {
      return [new MessageNode(`Could not load: ${errorMessage(e)}`, 'error')];
    }
    return [];
  }
}
