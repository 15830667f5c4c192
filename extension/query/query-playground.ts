/**
 * The editor side of `.peersync-query` files: a "▶ Run Query" CodeLens above each query, syntax
 * errors as diagnostics (cleared when the text changes or the query runs), the database each file
 * queries (its `-- db:` line, else the one picked for it, remembered per file), and the last
 * results (what Export Query Results writes).
 */
import * as vscode from 'vscode';
import type * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { queryBlocks } from './query-text';

export const QUERY_LANGUAGE = 'peersync-query';
const REMEMBERED_DBS = 'peersync.queryDatabases';

export interface LastResults {
  readonly db: string;
  readonly query: string;
  readonly result: P.QueryResult;
}

export class QueryPlayground implements vscode.Disposable {
  private static current: QueryPlayground | undefined;
  readonly diagnostics = vscode.languages.createDiagnosticCollection(QUERY_LANGUAGE);
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];
  last: LastResults | undefined;

  /** The playground of this activation, made on first use. */
  static of(ctx: Ctx): QueryPlayground {
    if (!QueryPlayground.current) {
      const playground = new QueryPlayground(ctx);
      ctx.extension.subscriptions.push(playground);
      QueryPlayground.current = playground;
    }
    return QueryPlayground.current;
  }

  private constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      vscode.languages.registerCodeLensProvider({ language: QUERY_LANGUAGE }, { provideCodeLenses: (doc) => codeLenses(doc) }),
      // A position in changed text no longer points at the problem.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && this.diagnostics.has(e.document.uri)) this.diagnostics.delete(e.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.diagnostics.delete(doc.uri)),
    );
  }

  rememberedDb(uri: vscode.Uri): string | undefined {
    return this.ctx.extension.workspaceState.get<Record<string, string>>(REMEMBERED_DBS, {})[uri.toString()];
  }

  async rememberDb(uri: vscode.Uri, db: string): Promise<void> {
    const all = this.ctx.extension.workspaceState.get<Record<string, string>>(REMEMBERED_DBS, {});
    await this.ctx.extension.workspaceState.update(REMEMBERED_DBS, { ...all, [uri.toString()]: db });
  }

  /** Underlines where the query text (starting at `start` in the document) has its problem. */
  reportProblem(doc: vscode.TextDocument, start: number, where: P.QueryErrorData, message: string): vscode.Diagnostic {
    const from = doc.positionAt(start + where.offset);
    const to = doc.positionAt(start + where.offset + where.length);
    const diagnostic = new vscode.Diagnostic(new vscode.Range(from, to), message, vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'PeerSync';
    this.diagnostics.set(doc.uri, [diagnostic]);
    return diagnostic;
  }

  clearProblems(uri: vscode.Uri): void {
    this.diagnostics.delete(uri);
  }

  dispose(): void {
    if (QueryPlayground.current === this) QueryPlayground.current = undefined;
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

function codeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
  return queryBlocks(doc.getText()).map((b) => {
    const at = doc.positionAt(b.start);
    return new vscode.CodeLens(new vscode.Range(at, at), { title: '▶ Run Query', command: 'peersync.runQuery', arguments: [doc.uri, b.start] });
  });
}
