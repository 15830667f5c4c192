/**
 * Databases → collections → documents (paged: 100 per page and a "Load more…" item). Children come
 * from the server over the typed RPC; DatabaseChanged notifications refresh the tree (throttled).
 */
import { plural } from '../plural';
import * as vscode from 'vscode';
import { describeDocumentFilter, parseDocumentFilter } from './document-filter';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { docUri } from '../documents/doc-uri';
import { errorMessage } from '../log';
import { Throttled } from '../throttle';
import { BlobNode } from './blob-node';
import { MessageNode, type ViewProbe } from './common';

export const PAGE_SIZE = 100;

export class DatabaseNode extends vscode.TreeItem {
  override readonly contextValue = 'database';
  constructor(readonly summary: P.DatabaseSummary) {
    super(summary.name, vscode.TreeItemCollapsibleState.Collapsed);
    const docs = summary.collections.reduce((n, c) => n + c.documents, 0);
    const conflicts = summary.collections.reduce((n, c) => n + c.conflicts, 0);
    this.id = `db:${summary.name}`;
    this.description = `${plural(docs, 'doc')}${conflicts ? ` · ${plural(conflicts, 'conflict')}` : ''}`;
    this.tooltip = new vscode.MarkdownString(`**${summary.name}**\n\n${summary.path}\n\nUUID \`${summary.uuid}\``);
    this.iconPath = new vscode.ThemeIcon('database');
  }
}

export class CollectionNode extends vscode.TreeItem {
  /** `collection.filtered` while an ID prefix filter is on (it offers Clear Filter). */
  override readonly contextValue: 'collection' | 'collection.filtered';
  constructor(
    readonly db: string,
    readonly collection: P.CollectionSummary,
    readonly filter?: string,
  ) {
    super(collection.name, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `coll:${db}/${collection.name}`;
    this.contextValue = filter ? 'collection.filtered' : 'collection';
    const parsed = filter ? parseDocumentFilter(filter) : undefined;
    this.description = `${plural(collection.documents, 'doc')}${collection.conflicts ? ` · ${plural(collection.conflicts, 'conflict')}` : ''}${filter ? ` · filtered: ${filter}` : ''}`;
    this.tooltip = `${db} · ${collection.name}: ${plural(collection.documents, 'document')}, last sequence ${collection.lastSequence}${parsed ? `\nShowing only ${describeDocumentFilter(parsed)}` : ''}`;
    this.iconPath = new vscode.ThemeIcon('folder-library');
  }
}

export class DocumentNode extends vscode.TreeItem {
  override readonly contextValue: 'document' | 'document.conflicted';
  readonly ref: P.DocumentRef;
  constructor(
    db: string,
    collection: string,
    readonly doc: P.DocumentSummary,
  ) {
    // Documents that hold blobs expand to list them.
    super(doc.id, doc.blobs ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.ref = { db, collection, docId: doc.id };
    this.contextValue = doc.conflicted ? 'document.conflicted' : 'document';
    this.id = `doc:${db}/${collection}/${doc.id}`;
    this.description = shortRev(doc.revId) + (doc.conflicted ? ' · conflict' : '') + (doc.blobs ? ` · ${plural(doc.blobs, 'blob')}` : '');
    this.tooltip = `${doc.id}\nrevision ${doc.revId}${doc.conflicted ? '\nhas conflicting revisions' : ''}`;
    this.resourceUri = docUri(this.ref);
    this.iconPath = doc.conflicted ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : vscode.ThemeIcon.File;
    this.command = { command: 'peersync.openDocument', title: 'Open Document', arguments: [this] };
  }
}

export class LoadMoreNode extends vscode.TreeItem {
  override readonly contextValue = 'loadMore';
  constructor(db: string, collection: string, shown: number, total: number | undefined) {
    super('Load more…', vscode.TreeItemCollapsibleState.None);
    this.id = `more:${db}/${collection}`;
    this.description = total === undefined ? `${shown} shown` : `${shown} of ${total}`;
    this.iconPath = new vscode.ThemeIcon('ellipsis');
    this.command = { command: 'peersync.loadMoreDocuments', title: 'Load more', arguments: [db, collection] };
  }
}

type Node = DatabaseNode | CollectionNode | DocumentNode | BlobNode | LoadMoreNode | MessageNode;

export class DatabasesView implements vscode.TreeDataProvider<Node>, ViewProbe, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly _onDidRefresh = new vscode.EventEmitter<void>();
  readonly onDidRefresh = this._onDidRefresh.event;
  refreshCount = 0;
  /** Pages shown per collection ("db/collection" → pages). */
  private readonly pages = new Map<string, number>();
  /** ID prefix filters per collection ("db/collection" → prefix). */
  private readonly filters = new Map<string, string>();
  private readonly throttle = new Throttled(300, () => this.fire());
  private readonly disposables: vscode.Disposable[] = [];
  /** child id → parent node, from the last getChildren calls (for getParent, which reveal needs). */
  private readonly parents = new Map<string, Node>();
  private tree: vscode.TreeView<Node> | undefined;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      ctx.onDatabaseChanged(() => this.throttle.schedule()),
      ctx.onDidChangeServerState(() => this.refresh()),
      ctx.onServerEvent((e) => {
        if (e.kind === 'databaseOpened' || e.kind === 'collectionCreated' || e.kind === 'databaseClosed' || e.kind === 'collectionDeleted') this.refresh();
      }),
    );
  }

  refresh(): void {
    this.throttle.schedule();
  }

  private fire(): void {
    this.refreshCount++;
    this._onDidChangeTreeData.fire(undefined);
    this._onDidRefresh.fire();
  }

  loadMore(db: string, collection: string): void {
    const key = `${db}/${collection}`;
    this.pages.set(key, (this.pages.get(key) ?? 1) + 1);
    this.fire();
  }

  attach(tree: vscode.TreeView<Node>): void {
    this.tree = tree;
  }

  /** Shows only documents whose ID starts with `prefix` (empty or undefined: all of them). */
  setFilter(db: string, collection: string, prefix: string | undefined): void {
    const key = `${db}/${collection}`;
    if (prefix) this.filters.set(key, prefix);
    else this.filters.delete(key);
    this.pages.delete(key);
    this.fire();
  }

  filterOf(db: string, collection: string): string | undefined {
    return this.filters.get(`${db}/${collection}`);
  }

  /** The nodes selected in the tree (for commands acting on several documents). */
  selection(): readonly vscode.TreeItem[] {
    return this.tree?.selection ?? [];
  }

  /** Shows an item in the view (expanding its parents), e.g. a document or a collection. */
  async reveal(item: vscode.TreeItem, options: { expand?: boolean | number; select?: boolean; focus?: boolean } = {}): Promise<void> {
    await this.tree?.reveal(item as Node, options);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  getParent(node: Node): Node | undefined {
    return node.id ? this.parents.get(node.id) : undefined;
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
        const dbs = await this.ctx.request(P.ListDatabases);
        void vscode.commands.executeCommand('setContext', 'peersync.hasDatabases', dbs.length > 0);
        return dbs.sort((a, b) => a.name.localeCompare(b.name)).map((d) => new DatabaseNode(d));
      }
      if (node instanceof DatabaseNode) {
        // Fresh counts: the summary may be older than the expansion.
        const current = (await this.ctx.request(P.ListDatabases)).find((d) => d.name === node.summary.name) ?? node.summary;
        return current.collections.map((c) => new CollectionNode(current.name, c, this.filterOf(current.name, c.name)));
      }
      if (node instanceof CollectionNode) return await this.documents(node.db, node.collection.name);
      if (node instanceof DocumentNode) {
        const blobs = await this.ctx.request(P.ListDocumentBlobs, node.ref);
        return blobs.length ? blobs.map((b) => new BlobNode(node.ref, b)) : [new MessageNode('No blobs', 'info')];
      }
    } catch (e) {
      return [new MessageNode(`Could not load: ${errorMessage(e)}`, 'error')];
    }
    return [];
  }

  private async documents(db: string, collection: string): Promise<Node[]> {
    const want = (this.pages.get(`${db}/${collection}`) ?? 1) * PAGE_SIZE;
    const text = this.filterOf(db, collection);
    const parsed = text ? parseDocumentFilter(text) : undefined;
    const filter = parsed ?? {};
    const filtered = parsed !== undefined;
    const docs: P.DocumentSummary[] = [];
    let total = 0;
    let more = false;
    while (docs.length < want) {
      const limit = Math.min(1000, want - docs.length);
      const last = docs[docs.length - 1];
      let page: { docs: P.DocumentSummary[]; total: number };
      try {
        page = await this.ctx.request(P.ListDocuments, { db, collection, limit, ...filter, ...(last ? { after: last.id } : {}) });
      } catch (e) {
        // A condition that does not parse is the user's to fix: say why where they look.
        if (filtered && 'where' in filter) return [new MessageNode(`Filter: ${e instanceof Error ? e.message : String(e)}`, 'error')];
        throw e;
      }
      total = page.total;
      docs.push(...page.docs);
      more = page.docs.length === limit;
      if (!more) break;
    }
    const nodes: Node[] = docs.map((d) => new DocumentNode(db, collection, d));
    // `total` counts the whole collection, not the filtered documents.
    if (more && docs.length < total && !filtered) nodes.push(new LoadMoreNode(db, collection, docs.length, total));
    else if (more) {
      // The count does not say; ask for one more to know whether to offer more.
      const probe = await this.ctx.request(P.ListDocuments, { db, collection, limit: 1, ...filter, after: docs[docs.length - 1]!.id });
      if (probe.docs.length > 0) nodes.push(new LoadMoreNode(db, collection, docs.length, filtered ? undefined : Math.max(total, docs.length + 1)));
    }
    if (nodes.length === 0)
      nodes.push(new MessageNode(!parsed ? 'No documents' : 'prefix' in parsed ? `No document ID starts with “${parsed.prefix}”` : `No document matches ${parsed.where}`, 'info'));
    return nodes;
  }

  dispose(): void {
    this.throttle.dispose();
    this._onDidChangeTreeData.dispose();
    this._onDidRefresh.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export function shortRev(revId: string): string {
  const dash = revId.indexOf('-');
  return dash < 0 ? revId.slice(0, 10) : revId.slice(0, dash + 1 + 7);
}

// Kept here for the modules that import it from this view.
export { plural };
