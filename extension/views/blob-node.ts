/** A blob of a document in the Databases view: its JSON path, content type and size; a click opens it. */
import * as vscode from 'vscode';
import type * as P from '../../server/rpc/protocol';
import { formatBytes, isImage } from '../blobs/blob-names';
import type { DocRef } from '../documents/doc-path';

export class BlobNode extends vscode.TreeItem {
  override readonly contextValue: 'blob' | 'blob.missing';
  constructor(
    readonly doc: DocRef,
    readonly blob: P.BlobInfo,
  ) {
    super(blob.path, vscode.TreeItemCollapsibleState.None);
    this.contextValue = blob.present ? 'blob' : 'blob.missing';
    this.id = `blob:${doc.db}/${doc.collection}/${doc.docId}/${blob.path}`;
    const type = blob.contentType ?? 'no content type';
    // Size first: it is short, so it stays visible in a narrow side bar.
    this.description = `${blob.present ? '' : 'not replicated yet · '}${formatBytes(blob.length)} · ${type}`;
    this.tooltip = new vscode.MarkdownString(
      `**${blob.path}** in “${doc.docId}”\n\n${type}, ${blob.length.toLocaleString('en-US')} bytes\n\n\`${blob.digest}\`` +
        (blob.present ? '' : `\n\n$(warning) The content is not in ${doc.db} yet: it arrives when a replication brings it.`),
      true,
    );
    this.iconPath = !blob.present
      ? new vscode.ThemeIcon('cloud-download', new vscode.ThemeColor('list.warningForeground'))
      : new vscode.ThemeIcon(isImage(blob.contentType) ? 'file-media' : 'file-binary');
    this.command = { command: 'peersync.openBlob', title: 'Open Blob', arguments: [this] };
  }
}
