import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { invalid, notFound } from './app-error';

/** A path on the server's machine that a request names: absolute, since the server's working directory is not the caller's. */
export function requireAbsolute(path: unknown, what: string): string {
  if (typeof path !== 'string' || path.length === 0) throw invalid(`${what}: a file path is required`);
  if (!isAbsolute(path)) throw invalid(`${what} must be an absolute path (got ${JSON.stringify(path)})`);
  return path;
}

/** Like requireAbsolute, and the file must exist. */
export function requireExistingFile(path: unknown, what: string): string {
  const p = requireAbsolute(path, what);
  if (!existsSync(p)) throw notFound(`${what} ${p} does not exist`);
  return p;
}
