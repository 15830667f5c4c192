/** Run Query (the query at the cursor, or the selection), Export Query Results…, New Query. */
import * as vscode from 'vscode';
import { formatResults, RESULT_FORMATS, type ResultFormat } from '../../server/query/format-results';
import * as P from '../../server/rpc/protocol';
import { QueryMessageType as T } from '../../webview/query/messages';
import { pick, pickCollection, pickDatabase } from '../commands/pickers';
import { isRpcError } from '../ctx';
import { errorMessage } from '../log';
import type { Services } from '../services';
import { CollectionNode, DatabaseNode } from '../views/databases-view';
import { QUERY_LANGUAGE, QueryPlayground } from './query-playground';
import { blockAt, collectionOf, dbDirective, fromName, queryBlocks } from './query-text';
import { QueryResultsPanel } from './results-panel';

/** What Run Query did: the rows, or the error (with where it is, for a query that is not valid). */
export interface QueryRun {
  readonly db: string;
  readonly query: string;
  readonly result?: P.QueryResult;
  readonly error?: { readonly message: string; readonly range?: vscode.Range };
}

/**
 * Runs one query of a query document: the one starting at `offset` (a CodeLens), else the
 * selection, else the one at the cursor.
 */
export async function runQuery(s: Services, uriArg?: unknown, offsetArg?: unknown): Promise<QueryRun | undefined> {
  const target = await queryToRun(uriArg, offsetArg);
  if (!target) {
    void s.ctx.ui.showInformationMessage('Put the cursor in a query of a .peersync-query file to run it.');
    return undefined;
  }
  const { doc, start, text } = target;
  const playground = QueryPlayground.of(s.ctx);
  const db = await databaseFor(s, playground, doc);
  if (!db) return undefined;
  const panel = QueryResultsPanel.show(s.ctx);
  panel.update({ type: T.running, db, query: text });
  try {
    const result = await s.ctx.request(P.RunQuery, { db, query: text });
    playground.clearProblems(doc.uri);
    playground.last = { db, query: text, result };
    panel.update({ type: T.results, db, query: text, ...result, canOpen: collectionOf(text) !== undefined });
    return { db, query: text, result };
  } catch (e) {
    const message = errorMessage(e);
    panel.update({ type: T.error, db, query: text, message });
    if (isRpcError(e, P.RpcErrorCode.invalid) && isQueryErrorData(e.data)) {
      const diagnostic = playground.reportProblem(doc, start, e.data, message);
      return { db, query: text, error: { message, range: diagnostic.range } };
    }
    // Not the query's fault (no such database, the server stopped): the panel says so.
    return { db, query: text, error: { message } };
  }
}

async function queryToRun(uriArg: unknown, offsetArg: unknown): Promise<{ doc: vscode.TextDocument; start: number; text: string } | undefined> {
  if (uriArg instanceof vscode.Uri && typeof offsetArg === 'number') {
    const doc = await vscode.workspace.openTextDocument(uriArg);
    const block = queryBlocks(doc.getText()).find((b) => b.start === offsetArg) ?? blockAt(queryBlocks(doc.getText()), offsetArg);
    return block && { doc, start: block.start, text: block.text };
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== QUERY_LANGUAGE) return undefined;
  const doc = editor.document;
  if (!editor.selection.isEmpty) {
    const text = doc.getText(editor.selection);
    if (text.trim()) return { doc, start: doc.offsetAt(editor.selection.start), text };
  }
  const block = blockAt(queryBlocks(doc.getText()), doc.offsetAt(editor.selection.active));
  return block && { doc, start: block.start, text: block.text };
}

/** The file's `-- db:` line, else the database picked for it before, else one picked now. */
async function databaseFor(s: Services, playground: QueryPlayground, doc: vscode.TextDocument): Promise<string | undefined> {
  const named = dbDirective(doc.getText());
  if (named) return named;
  const remembered = playground.rememberedDb(doc.uri);
  if (remembered && (await s.ctx.request(P.ListDatabases)).some((d) => d.name === remembered)) return remembered;
  const picked = await pickDatabase(s, 'Run Query: database');
  if (picked) await playground.rememberDb(doc.uri, picked);
  return picked;
}

function isQueryErrorData(data: unknown): data is P.QueryErrorData {
  const d = data as Partial<P.QueryErrorData> | undefined;
  return typeof d?.offset === 'number' && typeof d.length === 'number';
}

const FORMAT_LABELS: Record<ResultFormat, { label: string; extension: string; filter: string }> = {
  csv: { label: 'CSV', extension: 'csv', filter: 'CSV' },
  jsonl: { label: 'JSON lines', extension: 'jsonl', filter: 'JSON lines' },
  json: { label: 'JSON array', extension: 'json', filter: 'JSON' },
};

/** Writes the last results to a file, in `format` (else the one picked); returns the file. */
export async function exportQueryResults(s: Services, formatArg?: unknown, fileArg?: unknown): Promise<vscode.Uri | undefined> {
  const last = QueryPlayground.of(s.ctx).last;
  if (!last) {
    void s.ctx.ui.showInformationMessage('Run a query first: Export Query Results writes the last results.');
    return undefined;
  }
  const format = RESULT_FORMATS.includes(formatArg as ResultFormat)
    ? (formatArg as ResultFormat)
    : await pick(
        s,
        'Export Query Results: format',
        RESULT_FORMATS.map((f) => ({ label: FORMAT_LABELS[f].label, value: f })),
      );
  if (!format) return undefined;
  const { extension, filter } = FORMAT_LABELS[format];
  const file =
    fileArg instanceof vscode.Uri
      ? fileArg
      : typeof fileArg === 'string'
        ? vscode.Uri.file(fileArg)
        : await s.ctx.ui.showSaveDialog({
            title: 'Export Query Results',
            filters: { [filter]: [extension] },
            ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, `query-results.${extension}`) } : {}),
          });
  if (!file) return undefined;
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(formatResults(format, last.result)));
  const rows = last.result.rows.length;
  void s.ctx.ui.showInformationMessage(`Exported ${rows} ${rows === 1 ? 'row' : 'rows'} to ${file.fsPath}.`);
  return file;
}

/** Opens an untitled query of a collection (the tree's, else one picked), ready to run. */
export async function newQuery(s: Services, arg?: unknown): Promise<vscode.TextDocument | undefined> {
  let db: string | undefined;
  let collection: string | undefined;
  if (arg instanceof CollectionNode) ({ db, collection } = { db: arg.db, collection: arg.collection.name });
  else {
    db = arg instanceof DatabaseNode ? arg.summary.name : await pickDatabase(s, 'New Query: database');
    if (db) collection = await pickCollection(s, db, 'New Query: collection');
  }
  if (!db || !collection) return undefined;
  const content = `-- db: ${db}\nSELECT META().id, * FROM ${fromName(collection)} LIMIT 100\n`;
  const doc = await vscode.workspace.openTextDocument({ language: QUERY_LANGUAGE, content });
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const end = doc.lineAt(1).range.end;
  editor.selection = new vscode.Selection(end, end);
  return doc;
}
