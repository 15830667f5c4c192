/**
 * The `peersync:` file system: `peersync:/<db>/<scope.collection>/<docId>.json` opens a document as
 * pretty JSON in a normal editor. Saving writes a new revision based on the revision the editor
 * opened (tracked per URI); a stale base fails on the server with RpcErrorCode.conflict and the user
 * chooses Overwrite / Discard and reload / Compare. Invalid JSON is refused with a FileSystemError so
 * the editor stays dirty and nothing is lost.
 *
 * mtime: each new revision of a URI gets a newer mtime, so VS Code reloads clean editors when the
 * server reports a change. While an editor is dirty, stat reports what the editor opened, so VS
 * Code's own "file is newer" check never pre-empts the revision-based conflict handling here.
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { isRpcError, ServerNotRunningError, type Ctx, type DatabaseChangedParams } from '../ctx';
import { errorMessage } from '../log';
import { parseBody, parseDocPath, renderBody, type DocRef } from './doc-path';
import { DOC_SCHEME, docUri, revisionUri } from './doc-uri';

interface Opened {
  /** The revision the editor's content is based on (null: a new document not saved yet). */
  readonly revId: string | null;
  readonly mtime: number;
  readonly size: number;
}

export const CONFLICT_CHOICES = { overwrite: 'Overwrite', discard: 'Discard and reload', compare: 'Compare' } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PeerSyncFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly _onDidChangeFile = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this._onDidChangeFile.event;
  private readonly opened = new Map<string, Opened>();
  private readonly mtimes = new Map<string, { revId: string; mtime: number }>();
  /** Documents made by "New Document" that exist only in the editor until saved. */
  private readonly drafts = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onSchemaRefused = new vscode.EventEmitter<{ uri: vscode.Uri; problems: readonly P.SchemaProblem[] }>();
  /** A save the collection's JSON Schema refused (the problems become diagnostics). */
  readonly onSchemaRefused = this._onSchemaRefused.event;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(ctx.onDatabaseChanged((e) => this.onServerChange(e)));
  }

  /** Opens a document that does not exist yet as `{}`; the first save creates it. */
  addDraft(ref: DocRef): vscode.Uri {
    const uri = docUri(ref);
    this.drafts.add(uri.toString());
    return uri;
  }

  /** The revision an open document is based on (tests and the revision history use it). */
  openedRevision(uri: vscode.Uri): string | null | undefined {
    return this.opened.get(uri.toString())?.revId;
  }

  // ---- FileSystemProvider ----

  watch(): vscode.Disposable {
    // Changes come from the server's DatabaseChanged notifications for every document.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const parsed = parseDocPath(uri.path);
    if (!parsed) throw vscode.FileSystemError.FileNotFound(uri);
    if (parsed.kind !== 'document') return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    const key = uri.toString();
    const opened = this.opened.get(key);
    if (opened && isDirty(uri)) return { type: vscode.FileType.File, ctime: 0, mtime: opened.mtime, size: opened.size };
    await this.serverReady();
    const doc = await this.fetch(uri, parsed);
    if (!doc || doc.deleted) {
      if (this.drafts.has(key)) return { type: vscode.FileType.File, ctime: 0, mtime: opened?.mtime ?? 1, size: renderBody({}).length };
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    return { type: vscode.FileType.File, ctime: 0, mtime: this.mtimeFor(key, doc.revId), size: encoder.encode(renderBody(doc.body)).byteLength };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const ref = this.requireRef(uri);
    const key = uri.toString();
    await this.serverReady();
    const doc = await this.fetch(uri, ref);
    if (!doc || doc.deleted) {
      if (this.drafts.has(key)) {
        const text = renderBody({});
        this.opened.set(key, { revId: null, mtime: 1, size: text.length });
        return encoder.encode(text);
      }
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    const bytes = encoder.encode(renderBody(doc.body));
    this.opened.set(key, { revId: doc.revId, mtime: this.mtimeFor(key, doc.revId), size: bytes.byteLength });
    return bytes;
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const ref = this.requireRef(uri);
    const key = uri.toString();
    let body: Record<string, unknown>;
    try {
      body = parseBody(decoder.decode(content));
    } catch (e) {
      throw new vscode.FileSystemError(`Not saved: ${ref.docId} is ${errorMessage(e)}. Fix it and save again.`);
    }
    const baseRevId = this.opened.get(key)?.revId ?? null;
    await this.serverReady();
    let saved: P.DocumentData;
    try {
      saved = await this.ctx.request(P.SaveDocument, { ...ref, baseRevId, body });
    } catch (e) {
      if (isRpcError(e, P.RpcErrorCode.conflict)) return this.onConflict(uri, ref, body, (e.data as P.ConflictErrorData | undefined)?.currentRevId ?? null);
      const problems = schemaErrorsOf(e);
      if (problems) {
        // Failing the write keeps the editor dirty: the user's edit stays, with the problems marked.
        this._onSchemaRefused.fire({ uri, problems });
        throw new vscode.FileSystemError(
          `Not saved: “${ref.docId}” does not match the JSON Schema of ${ref.collection} (${problems.length} problem${problems.length === 1 ? '' : 's'}, marked in the editor). Fix ${problems.length === 1 ? 'it' : 'them'} and save again.`,
        );
      }
      throw toFsError(e, uri);
    }
    this.saved(key, saved);
  }

  delete(uri: vscode.Uri): Promise<void> {
    const ref = this.requireRef(uri);
    return this.ctx.request(P.DeleteDocument, ref).then(
      () => this._onDidChangeFile.fire([{ type: vscode.FileChangeType.Deleted, uri }]),
      (e: unknown) => Promise.reject(toFsError(e, uri)),
    );
  }

  readDirectory(): [string, vscode.FileType][] {
    // Browsing is the Databases view's job; the file system serves single documents.
    return [];
  }

  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions('Create databases and collections from the PeerSync views');
  }

  rename(): void {
    throw vscode.FileSystemError.NoPermissions('Documents cannot be renamed: their ID is part of their identity');
  }

  // ---- conflicts ----

  private async onConflict(uri: vscode.Uri, ref: DocRef, body: Record<string, unknown>, currentRevId: string | null): Promise<void> {
    const key = uri.toString();
    const now = currentRevId ? `it is now at revision ${currentRevId}` : 'it was deleted';
    const choice = await this.ctx.ui.showWarningMessage(
      `“${ref.docId}” changed since you opened it (${now}). Your version is not saved yet.`,
      { modal: false, detail: 'Overwrite saves your version on top of the stored one; Discard and reload replaces your edits with the stored version; Compare shows both.' },
      CONFLICT_CHOICES.overwrite,
      CONFLICT_CHOICES.discard,
      CONFLICT_CHOICES.compare,
    );
    switch (choice) {
      case CONFLICT_CHOICES.overwrite: {
        let saved: P.DocumentData;
        try {
          saved = await this.ctx.request(P.SaveDocument, { ...ref, baseRevId: currentRevId, body, force: true });
        } catch (e) {
          throw toFsError(e, uri);
        }
        this.saved(key, saved);
        this.ctx.log.info(`${ref.docId}: overwrote revision ${currentRevId ?? '(deleted)'} with ${saved.revId}`);
        return;
      }
      case CONFLICT_CHOICES.discard: {
        // The save "succeeds" without writing; then the editor (now clean) reloads the stored version.
        const doc = await this.fetch(uri, ref);
        const size = doc && !doc.deleted ? encoder.encode(renderBody(doc.body)).byteLength : 0;
        this.opened.set(key, { revId: doc?.revId ?? null, mtime: doc ? this.mtimeFor(key, doc.revId) : 1, size });
        this.reloadAfterSave(uri, doc === null || doc.deleted);
        return;
      }
      case CONFLICT_CHOICES.compare: {
        // Compare the stored version with the editor's; the next save overwrites what was compared with.
        const prev = this.opened.get(key);
        this.opened.set(key, { revId: currentRevId, mtime: prev?.mtime ?? 1, size: prev?.size ?? 0 });
        const left = currentRevId ? revisionUri(ref, currentRevId) : revisionUri(ref, 'deleted');
        void vscode.commands.executeCommand('vscode.diff', left, uri, `${ref.docId}.json: stored (${currentRevId ?? 'deleted'}) ↔ yours`);
        throw new vscode.FileSystemError(`Not saved: “${ref.docId}” changed since you opened it. Compare the versions, then save again to overwrite revision ${currentRevId ?? '(deleted)'}.`);
      }
      default:
        throw new vscode.FileSystemError(`Not saved: “${ref.docId}” changed since you opened it (${now}).`);
    }
  }

  private reloadAfterSave(uri: vscode.Uri, deleted: boolean): void {
    const key = uri.toString();
    const fire = (): void => {
      const m = this.mtimes.get(key);
      if (m) this.mtimes.set(key, { revId: m.revId, mtime: Math.max(Date.now(), m.mtime + 1) });
      this._onDidChangeFile.fire([{ type: deleted ? vscode.FileChangeType.Deleted : vscode.FileChangeType.Changed, uri }]);
    };
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    if (!doc?.isDirty) {
      setImmediate(fire);
      return;
    }
    // An editor is saving: reload once it is clean (a dirty editor is never reloaded).
    const sub = vscode.workspace.onDidSaveTextDocument((d) => {
      if (d.uri.toString() !== key) return;
      sub.dispose();
      clearTimeout(timer);
      fire();
    });
    const timer = setTimeout(() => sub.dispose(), 30_000);
  }

  // ---- helpers ----

  /**
   * Tabs restored at startup, or open across Restart Server, read while the server is (re)starting
   * and its databases are being opened: wait for that (bounded) instead of failing the editor. A
   * stopped server gets a short grace period, the gap between stop and start in a restart.
   */
  private serverReady(): Promise<void> {
    if (this.ctx.state === 'running') return Promise.resolve();
    const STARTING_MS = 30_000;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        sub.dispose();
        resolve();
      };
      let timer = setTimeout(done, this.ctx.state === 'starting' ? STARTING_MS : 3_000);
      const sub = this.ctx.onDidChangeServerState((st) => {
        if (st === 'running') done();
        else if (st === 'starting') {
          clearTimeout(timer);
          timer = setTimeout(done, STARTING_MS);
        }
      });
    });
  }

  private saved(key: string, doc: P.DocumentData): void {
    this.drafts.delete(key);
    // The size of the stored rendering: the editor's next stat then matches and it is not reloaded needlessly.
    this.opened.set(key, { revId: doc.revId, mtime: this.mtimeFor(key, doc.revId), size: encoder.encode(renderBody(doc.body)).byteLength });
  }

  private mtimeFor(key: string, revId: string): number {
    const m = this.mtimes.get(key);
    if (m && m.revId === revId) return m.mtime;
    const mtime = Math.max(Date.now(), (m?.mtime ?? 0) + 1);
    this.mtimes.set(key, { revId, mtime });
    return mtime;
  }

  private requireRef(uri: vscode.Uri): DocRef {
    const p = parseDocPath(uri.path);
    if (p?.kind !== 'document') throw vscode.FileSystemError.FileNotFound(uri);
    return { db: p.db, collection: p.collection, docId: p.docId };
  }

  private async fetch(uri: vscode.Uri, ref: DocRef): Promise<P.DocumentData | null> {
    try {
      return await this.ctx.request(P.GetDocument, { db: ref.db, collection: ref.collection, docId: ref.docId });
    } catch (e) {
      throw toFsError(e, uri);
    }
  }

  private onServerChange(e: DatabaseChangedParams): void {
    const prefix = docUri({ db: e.db, collection: e.collection, docId: '' })
      .toString()
      .replace(/\.json$/, '');
    const known = new Set([...this.opened.keys(), ...this.mtimes.keys()]);
    const uris = e.truncated
      ? [...known].filter((k) => k.startsWith(prefix)).map((k) => vscode.Uri.parse(k))
      : e.docIds.map((id) => docUri({ db: e.db, collection: e.collection, docId: id })).filter((u) => known.has(u.toString()));
    if (uris.length) this._onDidChangeFile.fire(uris.map((uri) => ({ type: vscode.FileChangeType.Changed, uri })));
  }

  dispose(): void {
    this._onDidChangeFile.dispose();
    this._onSchemaRefused.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function isDirty(uri: vscode.Uri): boolean {
  const key = uri.toString();
  return vscode.workspace.textDocuments.some((d) => d.isDirty && d.uri.toString() === key);
}

function schemaErrorsOf(e: unknown): readonly P.SchemaProblem[] | undefined {
  if (!isRpcError(e, P.RpcErrorCode.invalid)) return undefined;
  const problems = (e.data as Partial<P.SchemaErrorData> | undefined)?.schemaErrors;
  return Array.isArray(problems) && problems.length > 0 ? problems : undefined;
}

function toFsError(e: unknown, uri: vscode.Uri): vscode.FileSystemError {
  if (e instanceof vscode.FileSystemError) return e;
  if (e instanceof ServerNotRunningError) return vscode.FileSystemError.Unavailable('PeerSync server is not running');
  if (isRpcError(e, P.RpcErrorCode.notFound)) return vscode.FileSystemError.FileNotFound(uri);
  return new vscode.FileSystemError(errorMessage(e));
}

export { DOC_SCHEME };
