import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * sun_path holds 108 bytes including the terminating NUL on Linux and only 104 on macOS; staying
 * at or under 100 keeps one rule for both.
 */
export const MAX_SOCKET_PATH_BYTES = 100;

/**
 * Where the server holding `dbDir` listens for local control clients. Server and client compute it
 * independently, so it depends on nothing but the directory: `<dbDir>/control.sock` (private
 * because the database directory is 0700), or, when that is too long for a socket address, a file
 * named by a hash of the directory in a per-user folder under the temp directory.
 *
 * The directory is canonicalised first so that two spellings of one directory (a symlink, a
 * relative path) agree on the fallback name.
 */
export function controlSocketPath(dbDir: string): string {
  if (process.platform === 'win32') {
    // A named pipe's default ACL lets other users open it; owner-only access is not available from Node.
    throw new Error('control sockets are not supported on Windows');
  }
  const dir = canonical(dbDir);
  const inside = join(dir, 'control.sock');
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH_BYTES) return inside;
  const uid = process.getuid!();
  const folder = join(tmpdir(), `peersync-${uid}`);
  const fallback = join(folder, `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.sock`);
  if (Buffer.byteLength(fallback) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`no usable control socket path for ${dir}: both ${inside} and ${fallback} exceed ${MAX_SOCKET_PATH_BYTES} bytes (set TMPDIR to a shorter directory)`);
  }
  ensurePrivateFolder(folder, uid);
  return fallback;
}

function canonical(dbDir: string): string {
  try {
    return realpathSync(dbDir);
  } catch {
    // Not there (yet): a client asking about a missing database simply finds no socket.
    return resolve(dbDir);
  }
}

/**
 * The temp directory is shared by every user, so another one could create our folder first and
 * then read or replace the socket in it: an existing folder is used only if it is ours and closed
 * to everyone else.
 */
function ensurePrivateFolder(folder: string, uid: number): void {
  let created = true;
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    created = false;
  }
  // A restrictive umask could leave the new folder without the owner's own write bit.
  if (created) chmodSync(folder, 0o700);
  const st = lstatSync(folder);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new Error(
      `refusing control socket folder ${folder}: it must be a directory owned by uid ${uid} with mode 0700 (found ${st.isDirectory() ? 'directory' : 'non-directory'}, owner ${st.uid}, mode ${mode})`,
    );
  }
}
