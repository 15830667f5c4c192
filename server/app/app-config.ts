import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as P from '../rpc/protocol';
import { logger } from '../util/log';

const log = logger('app');

export const CONFIG_FILE = 'peersync-config.json';

export interface SavedListener {
  readonly id: string;
  readonly params: P.StartListenerParams;
}

export interface SavedReplication {
  readonly id: string;
  /** Never holds a password: those live in the extension's secret storage or the environment. */
  readonly params: Omit<P.StartReplicationParams, 'password' | 'pinnedServerCertificateFile'>;
  /** It was running when last saved, so it starts again with the server. */
  readonly running: boolean;
}

export interface SavedConfig {
  readonly version: 1;
  readonly listeners: readonly SavedListener[];
  readonly replications: readonly SavedReplication[];
  readonly peers: readonly P.RemotePeer[];
}

const EMPTY: SavedConfig = { version: 1, listeners: [], replications: [], peers: [] };

/**
 * The server's configuration in a data folder: listeners, replications and remote peers with the
 * certificates the user chose to trust. Written atomically (temp file, fsync, rename) with owner-only
 * permissions; a file that cannot be read is set aside, not overwritten, and the server starts empty.
 */
export class ConfigStore {
  private current: SavedConfig;

  constructor(readonly path: string) {
    this.current = load(path);
  }

  static inFolder(dataFolder: string): ConfigStore {
    return new ConfigStore(join(dataFolder, CONFIG_FILE));
  }

  get config(): SavedConfig {
    return this.current;
  }

  update(change: (c: SavedConfig) => SavedConfig): void {
    const next = change(this.current);
    write(this.path, next);
    this.current = next;
  }
}

function load(path: string): SavedConfig {
  if (!existsSync(path)) return EMPTY;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<SavedConfig> | null;
    if (v?.version !== 1 || !Array.isArray(v.listeners) || !Array.isArray(v.replications) || !Array.isArray(v.peers)) throw new Error('not a version 1 PeerSync configuration');
    return { version: 1, listeners: v.listeners, replications: v.replications.map(withoutSecrets), peers: v.peers };
  } catch (e) {
    const aside = `${path}.unreadable-${Date.now()}`;
    renameSync(path, aside);
    log.warn(`the configuration ${path} could not be read (${(e as Error).message}); it was moved to ${aside} and the server starts without saved listeners and replications`);
    return EMPTY;
  }
}

/** A password that reached the file by hand is dropped when read, and never written back. */
function withoutSecrets(r: SavedReplication): SavedReplication {
  const { password: _password, ...params } = r.params as P.StartReplicationParams;
  void _password;
  return { ...r, params };
}

function write(path: string, config: SavedConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ ...config, replications: config.replications.map(withoutSecrets) }, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
