/** Quick picks shared by the commands. Every prompt has a distinct title (tests answer by title). */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { DocRef } from '../documents/doc-path';
import { refOf } from '../documents/doc-uri';
import type { Services } from '../services';
import { ConflictNode } from '../views/conflicts-view';
import { DocumentNode, plural } from '../views/databases-view';

export interface Picked<T> extends vscode.QuickPickItem {
  readonly value: T;
}

export async function pick<T>(s: Services, title: string, items: Picked<T>[], placeHolder?: string): Promise<T | undefined> {
  const chosen = await s.ctx.ui.showQuickPick(items, { title, ...(placeHolder ? { placeHolder } : {}), ignoreFocusOut: true });
  return chosen?.value;
}

export async function pickDatabase(s: Services, title: string): Promise<string | undefined> {
  const dbs = await s.ctx.request(P.ListDatabases);
  if (dbs.length === 0) {
    const choice = await s.ctx.ui.showInformationMessage('There is no PeerSync database yet.', 'Create Database');
    if (choice !== 'Create Database') return undefined;
    const created = await vscode.commands.executeCommand<P.DatabaseSummary | undefined>('peersync.createDatabase');
    return created?.name;
  }
  if (dbs.length === 1) return dbs[0]!.name;
  return pick(
    s,
    title,
    dbs.map((d) => ({
      label: d.name,
      description: plural(
        d.collections.reduce((n, c) => n + c.documents, 0),
        'doc',
      ),
      detail: d.path,
      value: d.name,
    })),
    'Choose a database',
  );
}

export async function pickCollection(s: Services, db: string, title: string): Promise<string | undefined> {
  const summary = (await s.ctx.request(P.ListDatabases)).find((d) => d.name === db);
  const collections = summary?.collections ?? [];
  if (collections.length <= 1) return collections[0]?.name ?? '_default._default';
  return pick(
    s,
    title,
    collections.map((c) => ({ label: c.name, description: plural(c.documents, 'doc'), value: c.name })),
    'Choose a collection',
  );
}

/** A document from a tree item, a URI, a ref object, the active editor, or (last) a quick pick. */
export async function resolveDocument(s: Services, arg: unknown, title: string): Promise<DocRef | undefined> {
  const direct = refFromArg(arg);
  if (direct) return direct;
  const active = vscode.window.activeTextEditor?.document.uri;
  const fromEditor = active ? refOf(active) : undefined;
  if (fromEditor) return fromEditor;
  const db = await pickDatabase(s, `${title}: database`);
  if (!db) return undefined;
  const collection = await pickCollection(s, db, `${title}: collection`);
  if (!collection) return undefined;
  const page = await s.ctx.request(P.ListDocuments, { db, collection, limit: 1000 });
  if (page.docs.length === 0) {
    void s.ctx.ui.showInformationMessage(`${db} · ${collection} has no documents.`);
    return undefined;
  }
  const docId = await pick(
    s,
    `${title}: document`,
    page.docs.map((d) => ({ label: d.id, description: d.revId + (d.conflicted ? ' · conflict' : ''), value: d.id })),
    page.total > page.docs.length ? `First ${page.docs.length} of ${plural(page.total, 'document')}` : 'Choose a document',
  );
  return docId === undefined ? undefined : { db, collection, docId };
}

export function refFromArg(arg: unknown): DocRef | undefined {
  if (arg instanceof DocumentNode || arg instanceof ConflictNode) return arg.ref;
  if (arg instanceof vscode.Uri) return refOf(arg);
  if (typeof arg === 'object' && arg !== null) {
    const r = arg as Partial<DocRef>;
    if (typeof r.db === 'string' && typeof r.collection === 'string' && typeof r.docId === 'string') return { db: r.db, collection: r.collection, docId: r.docId };
  }
  return undefined;
}

export async function pickListener(s: Services, title: string, filter: (l: P.ListenerInfo) => boolean = () => true, noneMessage = 'No listener is running.'): Promise<P.ListenerInfo | undefined> {
  const listeners = (await s.ctx.request(P.ListListeners)).filter(filter);
  if (listeners.length === 0) {
    void s.ctx.ui.showInformationMessage(noneMessage);
    return undefined;
  }
  if (listeners.length === 1) return listeners[0];
  return pick(
    s,
    title,
    listeners.map((l) => ({ label: `${l.db} :${l.port}`, description: l.urls.join('  '), value: l })),
  );
}

/**
 * One file on this machine, for the server to read (so it must be a `file:` URI). `filters` as in
 * vscode.OpenDialogOptions; the dialog's title is `title` (tests answer by it).
 */
export async function pickFile(s: Services, title: string, openLabel: string, filters: Record<string, string[]>): Promise<string | undefined> {
  const picked = await s.ctx.ui.showOpenDialog({ title, canSelectMany: false, canSelectFiles: true, canSelectFolders: false, openLabel, filters });
  const uri = picked?.[0];
  if (!uri) return undefined;
  if (uri.scheme !== 'file') throw new Error('Choose a file on this machine (the PeerSync server reads it directly)');
  return uri.fsPath;
}

export async function pickReplicator(s: Services, title: string, filter: (r: P.ReplicatorInfo) => boolean = () => true): Promise<P.ReplicatorInfo | undefined> {
  const list = (await s.ctx.request(P.ListReplications)).filter(filter);
  if (list.length === 0) {
    void s.ctx.ui.showInformationMessage('No replication to choose from.');
    return undefined;
  }
  if (list.length === 1) return list[0];
  return pick(
    s,
    title,
    list.map((r) => ({ label: r.target, description: `${r.db} · ${r.type} · ${r.activity}`, value: r })),
  );
}
