/**
 * The read-only `peersync-blob:` file system (paths in blob-path.ts): a blob's bytes, read from the
 * server with ReadBlob, so VS Code's own editors show them — the image preview for images, the text
 * editor for text, its binary notice for the rest.
 *
 * Contents are cached per document and digest: a digest names exactly one content, so a cached copy
 * is never stale, and the image preview's stat + read (and a later Save Blob As) cost one request.
 * A change to the document drops its entries, since it may no longer reference the blob.
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { isRpcError, ServerNotRunningError, type Ctx } from '../ctx';
import { errorMessage } from '../log';
import { blobPath, parseBlobPath, type BlobTarget } from './blob-path';

export const BLOB_SCHEME = 'peersync-blob';

/** Enough for a few photos; the oldest entries go first. */
const CACHE_BYTES = 64 * 1024 * 1024;

export function blobUri(target: BlobTarget, fileName: string): vscode.Uri {
  return vscode.Uri.from({ scheme: BLOB_SCHEME, path: blobPath(target, fileName) });
}

export class BlobFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly _onDidChangeFile = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this._onDidChangeFile.event;
  private readonly cache = new Map<string, Promise<Uint8Array>>();
  private readonly sizes = new Map<string, number>();
  private cachedBytes = 0;
  private readonly sub: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.sub = ctx.onDatabaseChanged((e) => {
      const prefix = `${e.db}\n${e.collection}\n`;
      const ids = new Set(e.docIds);
      for (const key of [...this.cache.keys()]) {
        if (key.startsWith(prefix) && (e.truncated || ids.has(key.slice(prefix.length, key.lastIndexOf('\n'))))) this.forget(key);
      }
    });
  }

  watch(): vscode.Disposable {
    // A blob URI names one digest, whose content never changes.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const bytes = await this.read(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: 0, size: bytes.byteLength, permissions: vscode.FilePermission.Readonly };
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.read(uri);
  }

  /** The content of a blob; rejects with a FileSystemError whose message says why it cannot be read. */
  read(uri: vscode.Uri): Promise<Uint8Array> {
    const target = parseBlobPath(uri.path);
    if (!target) return Promise.reject(vscode.FileSystemError.FileNotFound(uri));
    const key = `${target.db}\n${target.collection}\n${target.docId}\n${target.digest}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const loading = this.ctx.request(P.ReadBlob, { db: target.db, collection: target.collection, docId: target.docId, digest: target.digest }).then(
      (content) => {
        const bytes = Buffer.from(content.base64, 'base64');
        // Unless the document changed while it loaded.
        if (this.cache.get(key) === loading) this.remember(key, bytes.byteLength);
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
      (e: unknown) => {
        if (this.cache.get(key) === loading) this.cache.delete(key);
        throw toFsError(e);
      },
    );
    this.cache.set(key, loading);
    return loading;
  }

  private remember(key: string, size: number): void {
    this.sizes.set(key, size);
    this.cachedBytes += size;
    for (const old of this.sizes.keys()) {
      if (this.cachedBytes <= CACHE_BYTES || old === key) break;
      this.forget(old);
    }
  }

  private forget(key: string): void {
    this.cachedBytes -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
    this.cache.delete(key);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(): void {
    throw readOnly();
  }

  writeFile(): void {
    throw readOnly();
  }

  delete(): void {
    throw readOnly();
  }

  rename(): void {
    throw readOnly();
  }

  dispose(): void {
    this.sub.dispose();
    this._onDidChangeFile.dispose();
    this.cache.clear();
    this.sizes.clear();
  }
}

function readOnly(): vscode.FileSystemError {
  return vscode.FileSystemError.NoPermissions('Blobs are read-only: change a blob by saving a document that references new content');
}

function toFsError(e: unknown): vscode.FileSystemError {
  if (e instanceof ServerNotRunningError) return vscode.FileSystemError.Unavailable('PeerSync server is not running');
  if (isRpcError(e, P.RpcErrorCode.notFound)) return vscode.FileSystemError.FileNotFound(e.message);
  return new vscode.FileSystemError(errorMessage(e));
}
