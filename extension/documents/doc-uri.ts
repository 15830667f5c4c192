/** `peersync:` URIs for documents (the path logic lives in doc-path.ts). */
import * as vscode from 'vscode';
import { docPath, parseDocPath, type DocRef } from './doc-path';

export const DOC_SCHEME = 'peersync';
/** Read-only views of one stored revision: peersync-rev:/<db>/<coll>/<docId>.json?rev=<revId> */
export const REV_SCHEME = 'peersync-rev';
/** Read-only revision tree listing: peersync-history:/<db>/<coll>/<docId>.history */
export const HISTORY_SCHEME = 'peersync-history';

export function docUri(ref: DocRef): vscode.Uri {
  return vscode.Uri.from({ scheme: DOC_SCHEME, path: docPath(ref) });
}

export function revisionUri(ref: DocRef, revId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: REV_SCHEME, path: docPath(ref), query: new URLSearchParams({ rev: revId }).toString() });
}

const HISTORY_SUFFIX = '.history';

/** Ends in `.history` (not `.json`): the listing is plain text. */
export function historyUri(ref: DocRef): vscode.Uri {
  return vscode.Uri.from({ scheme: HISTORY_SCHEME, path: docPath(ref).replace(/\.json$/, HISTORY_SUFFIX) });
}

/** The document a peersync:, peersync-rev: or peersync-history: URI names. */
export function refOf(uri: vscode.Uri): DocRef | undefined {
  if (uri.scheme !== DOC_SCHEME && uri.scheme !== REV_SCHEME && uri.scheme !== HISTORY_SCHEME) return undefined;
  const path = uri.scheme === HISTORY_SCHEME && uri.path.endsWith(HISTORY_SUFFIX) ? uri.path.slice(0, -HISTORY_SUFFIX.length) + '.json' : uri.path;
  const p = parseDocPath(path);
  return p?.kind === 'document' ? { db: p.db, collection: p.collection, docId: p.docId } : undefined;
}
