/** Open Blob and Save Blob As…: from the Databases view, from an open blob's editor, or with a target. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Services } from '../services';
import { BlobNode } from '../views/blob-node';
import { BLOB_SCHEME, blobUri } from './blob-file-system';
import { blobFileName, formatBytes } from './blob-names';
import { parseBlobPath, type BlobTarget } from './blob-path';

interface ResolvedBlob {
  readonly target: BlobTarget;
  readonly info: P.BlobInfo;
}

export async function openBlob(s: Services, arg?: unknown): Promise<vscode.Uri | undefined> {
  const blob = await resolveBlob(s, arg);
  if (!blob || !(await readable(s, blob))) return undefined;
  const uri = blobUri(blob.target, blobFileName(blob.info.path, blob.info.contentType));
  // vscode.open lets VS Code choose the editor from the file extension, as for any file.
  await vscode.commands.executeCommand('vscode.open', uri, { preview: true });
  return uri;
}

export async function saveBlobAs(s: Services, arg?: unknown): Promise<vscode.Uri | undefined> {
  const blob = await resolveBlob(s, arg ?? activeBlobUri());
  if (!blob || !(await readable(s, blob))) return undefined;
  const fileName = blobFileName(blob.info.path, blob.info.contentType);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const dest = await s.ctx.ui.showSaveDialog({
    title: 'Save Blob As',
    saveLabel: 'Save Blob',
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, fileName) } : {}),
  });
  if (!dest) return undefined;
  const content = await s.ctx.request(P.ReadBlob, blob.target);
  await vscode.workspace.fs.writeFile(dest, Buffer.from(content.base64, 'base64'));
  s.ctx.log.info(`saved blob ${blob.info.path} of ${blob.target.docId} (${content.length} bytes) to ${dest.toString(true)}`);
  void s.ctx.ui.showInformationMessage(`Saved ${blob.info.path} (${formatBytes(content.length)}) to ${dest.scheme === 'file' ? dest.fsPath : dest.toString(true)}.`);
  return dest;
}

/** Says why a blob cannot be opened or saved here, before VS Code would fail with a bare error. */
async function readable(s: Services, { target, info }: ResolvedBlob): Promise<boolean> {
  const where = `${info.path} of “${target.docId}”`;
  if (!info.present) {
    await s.ctx.ui.showWarningMessage(
      `The blob ${where} (${info.contentType ?? 'no content type'}, ${formatBytes(info.length)}) is not in ${target.db} yet: its content has not been replicated here.`,
      { modal: false, detail: 'The document references it, but only its digest arrived. It opens once a replication brings the content.' },
    );
    return false;
  }
  if (info.length > P.MAX_BLOB_READ_BYTES) {
    await s.ctx.ui.showWarningMessage(
      `The blob ${where} is ${formatBytes(info.length)}: PeerSync opens and saves blobs up to ${formatBytes(P.MAX_BLOB_READ_BYTES)}, because the content comes from the server in one message.`,
      { modal: false },
    );
    return false;
  }
  return true;
}

/** A BlobNode, a `peersync-blob:` URI, or a target ({db, collection, docId, digest}) whose details are looked up. */
async function resolveBlob(s: Services, arg: unknown): Promise<ResolvedBlob | undefined> {
  if (arg instanceof BlobNode) return { target: { ...arg.doc, digest: arg.blob.digest }, info: arg.blob };
  const target = arg instanceof vscode.Uri ? (arg.scheme === BLOB_SCHEME ? parseBlobPath(arg.path) : undefined) : asTarget(arg);
  if (!target) {
    void s.ctx.ui.showInformationMessage('Choose a blob under a document in the Databases view, or open one first.');
    return undefined;
  }
  const ref = { db: target.db, collection: target.collection, docId: target.docId };
  const info = (await s.ctx.request(P.ListDocumentBlobs, ref)).find((b) => b.digest === target.digest);
  if (!info) throw new Error(`“${target.docId}” no longer references the blob ${target.digest}`);
  return { target: { ...ref, digest: target.digest }, info };
}

function asTarget(arg: unknown): BlobTarget | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const a = arg as Partial<Record<keyof BlobTarget, unknown>>;
  return typeof a.db === 'string' && typeof a.collection === 'string' && typeof a.docId === 'string' && typeof a.digest === 'string'
    ? { db: a.db, collection: a.collection, docId: a.docId, digest: a.digest }
    : undefined;
}

/** The blob shown in the active editor group, whether in a text editor or a preview (custom editor). */
function activeBlobUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : undefined;
  return uri?.scheme === BLOB_SCHEME ? uri : undefined;
}
