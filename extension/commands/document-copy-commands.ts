/** Copies of a document: its JSON on the clipboard, or a new document with the same body. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { renderBody } from '../documents/doc-path';
import { docUri } from '../documents/doc-uri';
import type { Services } from '../services';
import { resolveDocument } from './pickers';

export async function copyDocumentJson(s: Services, arg?: unknown): Promise<string | undefined> {
  const ref = await resolveDocument(s, arg, 'Copy Document JSON');
  if (!ref) return undefined;
  const doc = await s.ctx.request(P.GetDocument, ref);
  if (!doc || doc.deleted) throw new Error(`“${ref.docId}” does not exist (or is deleted)`);
  const text = renderBody(doc.body);
  await s.ctx.ui.writeClipboard(text);
  vscode.window.setStatusBarMessage(`Copied the JSON of “${ref.docId}”`, 3000);
  return text;
}

/** Saves the document's current body under a new ID (in the same collection) and opens it. */
export async function duplicateDocument(s: Services, arg?: unknown): Promise<vscode.Uri | undefined> {
  const ref = await resolveDocument(s, arg, 'Duplicate Document');
  if (!ref) return undefined;
  const doc = await s.ctx.request(P.GetDocument, ref);
  if (!doc || doc.deleted) throw new Error(`“${ref.docId}” does not exist (or is deleted)`);
  const docId = await s.ctx.ui.showInputBox({
    title: 'Duplicate Document: new ID',
    prompt: `ID of the copy of “${ref.docId}” in ${ref.db} · ${ref.collection}`,
    value: `${ref.docId}-copy`,
    validateInput: (v) => (v.length === 0 ? 'An ID is required' : v === ref.docId ? 'Choose another ID' : v.startsWith('_') ? 'IDs starting with “_” are reserved' : undefined),
  });
  if (!docId) return undefined;
  const target = { db: ref.db, collection: ref.collection, docId };
  const existing = await s.ctx.request(P.GetDocument, target);
  if (existing && !existing.deleted) throw new Error(`“${docId}” already exists in ${ref.db} · ${ref.collection}`);
  const copy = await s.ctx.request(P.SaveDocument, { ...target, baseRevId: existing?.revId ?? null, body: doc.body ?? {} });
  s.ctx.log.info(`duplicated ${ref.docId} as ${docId} (${copy.revId})`);
  const uri = docUri(target);
  await vscode.window.showTextDocument(uri, { preview: true });
  return uri;
}
