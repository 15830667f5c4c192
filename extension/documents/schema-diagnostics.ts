/**
 * JSON Schema problems of open `peersync:` documents, as diagnostics: checked with ValidateDocument
 * as the user types (debounced) and on save, and set from a save the server refused. Text that is
 * not JSON is left to the JSON language features (its syntax errors are theirs to show).
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import { DOC_SCHEME, refOf } from './doc-uri';
import { problemRanges } from './schema-ranges';

const DEBOUNCE_MS = 300;

export class SchemaDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('peersync-schema');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** A counter per document, so an older answer never replaces a newer one. */
  private readonly generation = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onDidUpdate = new vscode.EventEmitter<vscode.Uri>();
  /** Fired after a document's diagnostics were replaced (tests wait on it). */
  readonly onDidUpdate = this._onDidUpdate.event;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      this.collection,
      this._onDidUpdate,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length && this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidSaveTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidCloseTextDocument((d) => this.clear(d.uri)),
      ctx.onServerEvent((e) => e.kind === 'databaseClosed' && this.revalidateAll()),
    );
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  /** Every open document of a collection, e.g. after its schema changed. */
  revalidate(db: string, collection: string): void {
    for (const d of vscode.workspace.textDocuments) {
      const ref = d.uri.scheme === DOC_SCHEME ? refOf(d.uri) : undefined;
      if (ref && ref.db === db && ref.collection === collection) this.schedule(d, 0);
    }
  }

  private revalidateAll(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  /** Shows problems the server reported for `uri` (a refused save). */
  show(uri: vscode.Uri, problems: readonly P.SchemaProblem[]): void {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc) this.set(doc, problems);
  }

  diagnostics(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (doc.uri.scheme !== DOC_SCHEME) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => void this.validate(doc), delay),
    );
  }

  private async validate(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    this.timers.delete(key);
    const ref = refOf(doc.uri);
    if (!ref || doc.isClosed || !this.ctx.isRunning()) return;
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    let body: unknown;
    try {
      body = JSON.parse(doc.getText());
    } catch {
      this.collection.delete(doc.uri);
      return;
    }
    try {
      const problems = await this.ctx.request(P.ValidateDocument, { db: ref.db, collection: ref.collection, body });
      if (this.generation.get(key) !== gen || doc.isClosed) return;
      this.set(doc, problems);
    } catch (e) {
      this.ctx.log.debug(`validating ${ref.docId}: ${errorMessage(e)}`);
    }
  }

  private set(doc: vscode.TextDocument, problems: readonly P.SchemaProblem[]): void {
    const ranges = problemRanges(doc.getText(), problems);
    this.collection.set(
      doc.uri,
      ranges.map((r, i) => {
        const d = new vscode.Diagnostic(new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end)), problemText(problems[i]!), vscode.DiagnosticSeverity.Error);
        d.source = 'PeerSync schema';
        return d;
      }),
    );
    this._onDidUpdate.fire(doc.uri);
  }

  private clear(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.generation.delete(key);
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

function problemText(p: P.SchemaProblem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}
