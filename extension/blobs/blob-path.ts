/**
 * Paths of the read-only `peersync-blob:` file system:
 * `/<db>/<scope.collection>/<docId>/<digest as hex>/<file name>`. The document ID may contain `/`,
 * so it is what lies between the collection and the digest. The file name ends with an extension
 * chosen from the content type, which is what lets VS Code pick its image (or audio, video, text)
 * editor. The digest is hex because its base64 form contains `/` and `+`. No vscode import (unit-tested).
 */

export interface BlobTarget {
  readonly db: string;
  readonly collection: string;
  readonly docId: string;
  readonly digest: string;
}

const SHA1_HEX = /^[0-9a-f]{40}$/;

export function blobPath(target: BlobTarget, fileName: string): string {
  const hex = Buffer.from(target.digest.replace(/^sha1-/, ''), 'base64').toString('hex');
  return `/${target.db}/${target.collection}/${target.docId}/${hex}/${fileName}`;
}

export function parseBlobPath(path: string): (BlobTarget & { readonly fileName: string }) | undefined {
  const parts = (path.startsWith('/') ? path.slice(1) : path).split('/');
  if (parts.length < 5) return undefined;
  const [db, collection] = parts as [string, string];
  const fileName = parts[parts.length - 1]!;
  const hex = parts[parts.length - 2]!;
  const docId = parts.slice(2, -2).join('/');
  if (!db || !collection || !docId || !fileName || !SHA1_HEX.test(hex)) return undefined;
  return { db, collection, docId, digest: `sha1-${Buffer.from(hex, 'hex').toString('base64')}`, fileName };
}
