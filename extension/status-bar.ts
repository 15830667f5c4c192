/** Status bar: listener state, port and connection count; click for a quick pick of actions. */
import * as vscode from 'vscode';
import * as P from '../server/rpc/protocol';
import type { Ctx } from './ctx';
import { plural } from './plural';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('peersync.status', vscode.StatusBarAlignment.Left, 50);
  private readonly listeners = new Map<string, P.ListenerInfo>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'PeerSync';
    this.item.command = 'peersync.statusBarActions';
    this.disposables.push(
      ctx.onDidChangeServerState(() => void this.reload()),
      ctx.onListenerStatus((l) => {
        if (l.state === 'stopped') this.listeners.delete(l.id);
        else this.listeners.set(l.id, l);
        this.render();
      }),
      ctx.onServerEvent((e) => {
        if (e.kind === 'listenerStarted') this.listeners.set(e.listener.id, e.listener);
        else if (e.kind === 'listenerStopped') this.listeners.delete(e.id);
        else return;
        this.render();
      }),
    );
    this.render();
    this.item.show();
  }

  async reload(): Promise<void> {
    this.listeners.clear();
    if (this.ctx.isRunning()) {
      try {
        for (const l of await this.ctx.request(P.ListListeners)) this.listeners.set(l.id, l);
      } catch {
        /* rendered as "no listener" */
      }
    }
    this.render();
  }

  /** The text shown (tests read it). */
  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    if (this.ctx.state === 'starting') {
      item.text = '$(loading~spin) PeerSync';
      item.tooltip = 'PeerSync: starting the sync server…';
      return;
    }
    if (this.ctx.state === 'stopped') {
      item.text = '$(debug-disconnect) PeerSync: server stopped';
      item.tooltip = 'The PeerSync server is not running. Click for actions.';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    const ls = [...this.listeners.values()].filter((l) => l.state === 'listening');
    if (ls.length === 0) {
      item.text = '$(radio-tower) PeerSync: no listener';
      item.tooltip = 'PeerSync: no listener running. Click for actions.';
      return;
    }
    const connections = ls.reduce((n, l) => n + l.connectionCount, 0);
    const ports = ls.map((l) => `:${l.port}`).join(' ');
    item.text = `$(radio-tower) PeerSync ${ports} · ${plural(connections, 'connection')}`;
    item.tooltip = new vscode.MarkdownString(
      ls
        .map((l) => `**${l.db}** listening${l.tls ? ' (TLS)' : ''}${l.readOnly ? ', read-only' : ''}: ${l.urls.map((u) => `\`${u}\``).join(', ')} — ${plural(l.connectionCount, 'connection')}`)
        .join('\n\n'),
    );
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
