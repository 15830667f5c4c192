/** Remote peers the user added by URL, kept in workspaceState. */
import * as vscode from 'vscode';

const KEY = 'peersync.remotePeers';

export class RemotePeers implements vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChange = this._onDidChange.event;

  constructor(private readonly memento: vscode.Memento) {}

  list(): string[] {
    return [...this.memento.get<string[]>(KEY, [])];
  }

  async add(url: string): Promise<void> {
    const u = normalizePeerUrl(url);
    const list = this.list();
    if (list.includes(u)) return;
    await this.memento.update(KEY, [...list, u]);
    this._onDidChange.fire();
  }

  async remove(url: string): Promise<void> {
    await this.memento.update(KEY, this.list().filter((u) => u !== url));
    this._onDidChange.fire();
  }

  dispose(): void {
    this._onDidChange.dispose();
  }
}

/** Trims and drops a trailing slash; the URL must be ws:// or wss:// with a database path. */
export function normalizePeerUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

export function validatePeerUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return 'Enter a URL such as ws://192.168.1.20:4984/inventory';
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return 'The URL must start with ws:// or wss://';
  if (u.username || u.password) return 'Leave the user name and password out of the URL: Start Replication asks for them and keeps them in secret storage';
  if (u.pathname === '/' || u.pathname === '') return 'The URL must name the remote database, e.g. ws://host:4984/inventory';
  return undefined;
}
