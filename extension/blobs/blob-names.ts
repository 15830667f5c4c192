/**
 * How a blob is named and described for people: a file name whose extension matches its content
 * type (so VS Code opens a PNG in its image preview and JSON as JSON), and sizes in B/KB/MB.
 * No vscode import (unit-tested).
 */

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'image/bmp': 'bmp',
  'image/x-icon': 'ico',
  'image/vnd.microsoft.icon': 'ico',
  'image/avif': 'avif',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/ogg': 'ogg',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'application/json': 'json',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/html': 'html',
  'text/css': 'css',
  'text/csv': 'csv',
  'text/javascript': 'js',
  'application/javascript': 'js',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
};

/** The media type without parameters, lower case (`Text/Plain; charset=utf-8` → `text/plain`). */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function fileExtensionFor(contentType: string | undefined): string {
  const type = mediaType(contentType);
  const known = EXTENSIONS[type];
  if (known) return known;
  if (type.endsWith('+json')) return 'json';
  if (type.endsWith('+xml')) return 'xml';
  if (type.startsWith('text/')) return 'txt';
  // VS Code shows unknown bytes as it does any binary file (with "Open Anyway").
  return 'bin';
}

export function isImage(contentType: string | undefined): boolean {
  return mediaType(contentType).startsWith('image/');
}

/**
 * The file name a blob opens and saves under: its JSON path plus the extension for its type, e.g.
 * `list[0].image.svg` (a key that already ends with that extension keeps it: `photo.png`).
 */
export function blobFileName(jsonPath: string, contentType: string | undefined): string {
  const ext = fileExtensionFor(contentType);
  // File names cannot hold path separators; the rest keeps the path readable in the tab title.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a file name
  const base = jsonPath.replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_') || 'blob';
  return base.toLowerCase().endsWith(`.${ext}`) ? base : `${base}.${ext}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
