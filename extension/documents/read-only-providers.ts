/**
 * Read-only documents: one stored revision (`peersync-rev:`, the left side of Compare), the
 * revision tree listing (`peersync-history:`) and a listener's TLS certificate (`peersync-cert:`).
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import { renderCertificate } from './certificate-text';
import { renderBody } from './doc-path';
import { docUri, historyUri, refOf, revisionUri } from './doc-uri';
import { renderHistory } from './history-text';

export class RevisionContentProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = refOf(uri);
    const rev = new URLSearchParams(uri.query).get('rev') ?? undefined;
    if (!ref) return '';
    if (!rev || rev === 'deleted') return '// the document is deleted\n';
    try {
      const doc = await this.ctx.request(P.GetDocument, { ...ref, rev });
      if (!doc) return `// revision ${rev} is not stored (its body may have been pruned)\n`;
      return doc.deleted ? `// revision ${rev} is a deletion (tombstone)\n` : renderBody(doc.body);
    } catch (e) {
      return `// could not load revision ${rev}: ${errorMessage(e)}\n`;
    }
  }

  constructor(private readonly ctx: Ctx) {}
}

export class HistoryContentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this._onDidChange.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    // Open history documents follow the document's changes.
    this.sub = ctx.onDatabaseChanged((e) => {
      for (const d of vscode.workspace.textDocuments) {
        const ref = d.uri.scheme === 'peersync-history' ? refOf(d.uri) : undefined;
        if (ref && ref.db === e.db && ref.collection === e.collection && (e.truncated || e.docIds.includes(ref.docId))) this._onDidChange.fire(d.uri);
      }
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = refOf(uri);
    if (!ref) return '';
    try {
      const tree = await this.ctx.request(P.GetRevisionTree, ref);
      if (!tree) return `No document “${ref.docId}” in ${ref.db} · ${ref.collection}.\n`;
      return renderHistory(`Revision history of “${ref.docId}” (${ref.db} · ${ref.collection})`, tree);
    } catch (e) {
      return `Could not load the revision history: ${errorMessage(e)}\n`;
    }
  }

  dispose(): void {
    this.sub.dispose();
    this._onDidChange.dispose();
  }
}

export { docUri, historyUri, revisionUri };

export const CERT_SCHEME = 'peersync-cert';

/**
 * Read-only certificate documents (`peersync-cert:/<listener id>/<name>.pem`): Show Listener
 * Certificate stores the text it rendered; a document reopened later (e.g. after a reload) is
 * fetched again from the listener.
 */
export class CertificateContentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly _onDidChange = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this._onDidChange.event;

  constructor(private readonly ctx: Ctx) {}

  /** The document URI for a listener's certificate, with its text. */
  put(listener: P.ListenerInfo, cert: P.CertificateInfo): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: CERT_SCHEME, path: `/${listener.id}/${listener.db}-${listener.port}.pem` });
    const text = renderCertificate(cert, { title: `the listener on ${listener.db} :${listener.port}`, urls: listener.urls });
    const changed = this.texts.has(uri.toString()) && this.texts.get(uri.toString()) !== text;
    this.texts.set(uri.toString(), text);
    if (changed) this._onDidChange.fire(uri);
    return uri;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const stored = this.texts.get(uri.toString());
    if (stored !== undefined) return stored;
    const id = uri.path.split('/')[1] ?? '';
    try {
      const listener = (await this.ctx.request(P.ListListeners)).find((l) => l.id === id);
      if (!listener) return `The listener ${id} is no longer running.\n`;
      const cert = await this.ctx.request(P.GetListenerCertificate, { id });
      return renderCertificate(cert, { title: `the listener on ${listener.db} :${listener.port}`, urls: listener.urls });
    } catch (e) {
      return `Could not load the certificate of listener ${id}: ${errorMessage(e)}\n`;
    }
  }

  dispose(): void {
    this._onDidChange.dispose();
    this.texts.clear();
  }
}
