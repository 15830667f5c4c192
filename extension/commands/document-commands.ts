/** Databases, documents, import/export, revision history and conflicts. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { DocRef } from '../documents/doc-path';
import { docUri, historyUri } from '../documents/doc-uri';
import { ConflictPanel } from '../panels/conflict-panel';
import type { Services } from '../services';
import { CollectionNode, DatabaseNode, DocumentNode } from '../views/databases-view';
import { plural } from '../plural';
import { pick, pickCollection, pickDatabase, resolveDocument } from './pickers';

const DB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export async function createDatabase(s: Services, name?: unknown): Promise<P.DatabaseSummary | undefined> {
  const existing = new Set((await s.ctx.request(P.ListDatabases)).map((d) => d.name));
  const chosen =
    typeof name === 'string'
      ? name
      : await s.ctx.ui.showInputBox({
          title: 'Create Database: name',
          prompt: 'Name of the new database (letters, digits, . _ -)',
          placeHolder: 'inventory',
          validateInput: (v) => (!DB_NAME.test(v) ? 'Use letters, digits, dot, underscore and dash; start with a letter or digit' : existing.has(v) ? `${v} already exists` : undefined),
        });
  if (!chosen) return undefined;
  const db = await s.ctx.request(P.CreateDatabase, { name: chosen });
  s.ctx.log.info(`created database ${db.name} at ${db.path}`);
  return db;
}

export async function openDocument(s: Services, arg?: unknown): Promise<vscode.Uri | undefined> {
  const ref = await resolveDocument(s, arg, 'Open Document');
  if (!ref) return undefined;
  const uri = docUri(ref);
  await vscode.window.showTextDocument(uri, { preview: true });
  return uri;
}

async function targetCollection(s: Services, arg: unknown, title: string): Promise<{ db: string; collection: string } | undefined> {
  if (arg instanceof CollectionNode) return { db: arg.db, collection: arg.collection.name };
  const db = arg instanceof DatabaseNode ? arg.summary.name : await pickDatabase(s, `${title}: database`);
  if (!db) return undefined;
  const collection = await pickCollection(s, db, `${title}: collection`);
  return collection ? { db, collection } : undefined;
}

/** Prompts for an ID and opens `{}` for it; the first save creates the document. */
export async function newDocument(s: Services, arg?: unknown): Promise<vscode.Uri | undefined> {
  const target = await targetCollection(s, arg, 'New Document');
  if (!target) return undefined;
  const docId = await s.ctx.ui.showInputBox({
    title: 'New Document: ID',
    prompt: `ID of the new document in ${target.db} · ${target.collection}`,
    value: randomId(),
    validateInput: docIdProblem,
  });
  if (!docId) return undefined;
  const ref = { ...target, docId };
  const existing = await s.ctx.request(P.GetDocument, ref);
  if (existing && !existing.deleted) {
    void s.ctx.ui.showInformationMessage(`“${docId}” already exists; opened it.`);
  }
  const uri = existing && !existing.deleted ? docUri(ref) : s.fs.addDraft(ref);
  await vscode.window.showTextDocument(uri, { preview: false });
  return uri;
}

/** Deletes the documents selected in the tree together (one confirmation), else the one given. */
export async function deleteDocument(s: Services, arg?: unknown, selection?: unknown): Promise<boolean> {
  const selected = Array.isArray(selection) ? selection.filter((n): n is DocumentNode => n instanceof DocumentNode) : [];
  if (selected.length > 1)
    return deleteDocuments(
      s,
      selected.map((n) => n.ref),
    );
  const ref = await resolveDocument(s, arg, 'Delete Document');
  if (!ref) return false;
  const ok = await s.ctx.ui.showWarningMessage(
    `Delete “${ref.docId}” from ${ref.db} · ${ref.collection}?`,
    { modal: true, detail: 'A deletion (tombstone) revision is saved; it replicates to peers.' },
    'Delete',
  );
  if (ok !== 'Delete') return false;
  await vscode.workspace.fs.delete(docUri(ref));
  return true;
}

async function deleteDocuments(s: Services, refs: readonly DocRef[]): Promise<boolean> {
  const places = [...new Set(refs.map((r) => `${r.db} · ${r.collection}`))];
  const names =
    refs
      .slice(0, 5)
      .map((r) => `“${r.docId}”`)
      .join(', ') + (refs.length > 5 ? `, and ${refs.length - 5} more` : '');
  const ok = await s.ctx.ui.showWarningMessage(
    `Delete ${refs.length} documents from ${places.join(', ')}?`,
    { modal: true, detail: `${names}. A deletion (tombstone) revision is saved for each; they replicate to peers.` },
    'Delete',
  );
  if (ok !== 'Delete') return false;
  for (const ref of refs) await s.ctx.request(P.DeleteDocument, { db: ref.db, collection: ref.collection, docId: ref.docId });
  s.ctx.log.info(`deleted ${refs.length} documents (${refs.map((r) => r.docId).join(', ')})`);
  return true;
}

export async function copyDocumentId(s: Services, arg?: unknown): Promise<string | undefined> {
  const ref = await resolveDocument(s, arg, 'Copy Document ID');
  if (!ref) return undefined;
  await s.ctx.ui.writeClipboard(ref.docId);
  vscode.window.setStatusBarMessage(`Copied “${ref.docId}”`, 3000);
  return ref.docId;
}

export async function showRevisionHistory(s: Services, arg?: unknown): Promise<vscode.Uri | undefined> {
  const ref = await resolveDocument(s, arg, 'Show Revision History');
  if (!ref) return undefined;
  const uri = historyUri(ref);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  return uri;
}

export async function importDocuments(s: Services, arg?: unknown, file?: unknown): Promise<number | undefined> {
  const target = await targetCollection(s, arg, 'Import JSON Documents');
  if (!target) return undefined;
  let path = typeof file === 'string' ? file : undefined;
  if (!path) {
    const picked = await s.ctx.ui.showOpenDialog({
      title: `Import JSON documents into ${target.db} · ${target.collection}`,
      canSelectMany: false,
      openLabel: 'Import',
      filters: { 'JSON documents': ['json', 'jsonl', 'ndjson'], 'All files': ['*'] },
    });
    const uri = picked?.[0];
    if (!uri) return undefined;
    if (uri.scheme !== 'file') throw new Error('Choose a file on this machine (the PeerSync server reads it directly)');
    path = uri.fsPath;
  }
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Importing into ${target.db} · ${target.collection}…` }, () =>
    s.ctx.request(P.ImportDocuments, { ...target, file: path }),
  );
  void s.ctx.ui.showInformationMessage(`Imported ${plural(r.imported, 'document')} into ${target.db} · ${target.collection}.`);
  return r.imported;
}

export async function exportCollection(s: Services, arg?: unknown, file?: unknown): Promise<number | undefined> {
  const target = await targetCollection(s, arg, 'Export Collection');
  if (!target) return undefined;
  let path = typeof file === 'string' ? file : undefined;
  if (!path) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `${target.db}-${target.collection}.jsonl`;
    const uri = await s.ctx.ui.showSaveDialog({
      title: `Export ${target.db} · ${target.collection} as JSON lines`,
      saveLabel: 'Export',
      filters: { 'JSON lines': ['jsonl'] },
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
    });
    if (!uri) return undefined;
    if (uri.scheme !== 'file') throw new Error('Choose a file on this machine (the PeerSync server writes it directly)');
    path = uri.fsPath;
  }
  const out = path;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${target.db} · ${target.collection}…` }, () =>
    s.ctx.request(P.ExportCollection, { ...target, file: out }),
  );
  void s.ctx.ui.showInformationMessage(`Exported ${plural(r.exported, 'document')} to ${out}.`, 'Open').then((c) => {
    if (c === 'Open') void vscode.window.showTextDocument(vscode.Uri.file(out));
  });
  return r.exported;
}

export async function resolveConflict(s: Services, arg?: unknown): Promise<ConflictPanel | undefined> {
  let ref: DocRef | undefined;
  if (arg !== undefined) ref = await resolveDocument(s, arg, 'Resolve Conflict');
  if (!ref) {
    const conflicts = await s.ctx.request(P.ListConflicts, {});
    if (conflicts.length === 0) {
      void s.ctx.ui.showInformationMessage('No document has conflicting revisions.');
      return undefined;
    }
    ref =
      conflicts.length === 1
        ? conflicts[0]
        : await pick(
            s,
            'Resolve Conflict: document',
            conflicts.map((c) => ({ label: c.docId, description: `${c.db} · ${c.collection}`, value: c })),
          );
  }
  if (!ref) return undefined;
  return ConflictPanel.show(s.ctx, ref);
}

function randomId(): string {
  return `doc-${Math.random().toString(36).slice(2, 10)}`;
}

/** The store's document-ID rules, checked as the user types (the server checks them again). */
function docIdProblem(v: string): string | undefined {
  if (v.length === 0) return 'An ID is required';
  if (new TextEncoder().encode(v).length > 240) return 'At most 240 bytes';
  if (v.startsWith('_')) return 'IDs starting with “_” are reserved';
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x20) return 'No control characters (tabs, line breaks)';
  return undefined;
}
