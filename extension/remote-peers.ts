/**
 * Remote peers the user added by URL, with the certificate pinned for each. The server keeps them in
 * its data folder's configuration (so the command line and other windows see the same list); this
 * is a cache of its last answer, refreshed by its peersChanged events.
 */
import * as vscode from 'vscode';
import * as P from '../server/rpc/protocol';
import type { Ctx } from './ctx';
import { errorMessage } from './log';

/** Where earlier versions kept the peer URLs; moved to the server once, then cleared. */
const LEGACY_KEY = 'peersync.remotePeers';

export class RemotePeers implements vscode.Disposable {
  private peers: readonly P.RemotePeer[] = [];
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChange = this._onDidChange.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly memento: vscode.Memento,
  ) {
    this.disposables.push(
      ctx.onServerEvent((e) => e.kind === 'peersChanged' && this.set(e.peers)),
      ctx.onDidChangeServerState((state) => {
        if (state === 'running') void this.reload();
        else if (state === 'stopped') this.set([]);
      }),
    );
  }

  list(): P.RemotePeer[] {
    return [...this.peers];
  }

  urls(): string[] {
    return this.peers.map((p) => p.url);
  }

  find(url: string): P.RemotePeer | undefined {
    const u = normalizePeerUrl(url);
    return this.peers.find((p) => p.url === u);
  }

  /** Adds the peer; with a certificate, pins it (a peer added again without one keeps its pin). */
  async add(url: string, pinnedCertificate?: string): Promise<void> {
    const u = normalizePeerUrl(url);
    if (pinnedCertificate === undefined && this.find(u)) return;
    this.set(await this.ctx.request(P.AddPeer, { url: u, ...(pinnedCertificate !== undefined ? { pinnedCertificate } : {}) }));
  }

  async remove(url: string): Promise<void> {
    this.set(await this.ctx.request(P.RemovePeer, { url }));
  }

  /** Moves peers saved by earlier versions to the server, then reads the server's list. */
  async reload(): Promise<void> {
    try {
      const legacy = this.memento.get<unknown>(LEGACY_KEY);
      if (Array.isArray(legacy)) {
        for (const url of legacy) {
          if (typeof url !== 'string') continue;
          await this.ctx.request(P.AddPeer, { url: normalizePeerUrl(url) }).catch((e: unknown) => this.ctx.log.warn(`could not keep the saved peer ${url}: ${errorMessage(e)}`));
        }
        await this.memento.update(LEGACY_KEY, undefined);
      }
      this.set(await this.ctx.request(P.ListPeers));
    } catch (e) {
      this.ctx.log.warn(`listing the remote peers: ${errorMessage(e)}`);
    }
  }

  private set(peers: readonly P.RemotePeer[]): void {
    this.peers = peers;
    this._onDidChange.fire();
  }

  dispose(): void {
    this._onDidChange.dispose();
    for (const d of this.disposables) d.dispose();
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
