/**
 * This peer's listeners (state, URLs, TLS, connection counts, connected clients) and the remote
 * peers added by URL. Refreshed by ListenerStatusChanged notifications and peer-list changes.
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import type { RemotePeers } from '../remote-peers';
import { MessageNode, ThrottledTreeView } from './common';
import { plural } from './databases-view';

export class GroupNode extends vscode.TreeItem {
  constructor(
    readonly group: 'thisPeer' | 'remotePeers',
    count: number,
  ) {
    super(group === 'thisPeer' ? 'This peer' : 'Remote peers', vscode.TreeItemCollapsibleState.Expanded);
    this.id = `group:${group}`;
    this.contextValue = `group.${group}`;
    this.description = group === 'thisPeer' ? plural(count, 'listener') : plural(count, 'peer');
    this.iconPath = new vscode.ThemeIcon(group === 'thisPeer' ? 'home' : 'globe');
  }
}

export class ListenerNode extends vscode.TreeItem {
  override readonly contextValue = 'listener';
  constructor(readonly info: P.ListenerInfo) {
    super(`${info.db} :${info.port}`, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `listener:${info.id}`;
    const auth = info.authentication === 'password' ? 'passwords' : info.authentication === 'clientCertificate' ? 'client certificates' : undefined;
    this.description = `${info.state === 'listening' ? '' : `${info.state} · `}${plural(info.connectionCount, 'connection')} · TLS ${info.tls ? 'on' : 'off'}${auth ? ` · ${auth}` : ''}${info.readOnly ? ' · read-only' : ''}`;
    this.tooltip = new vscode.MarkdownString(
      [
        `**Listener on ${info.db}** (${info.state})`,
        '',
        ...info.urls.map((u) => `- \`${u}\``),
        '',
        `${plural(info.connectionCount, 'connection')}, ${info.activeConnectionCount} active · TLS ${info.tls ? 'on' : 'off'}${info.readOnly ? ' · read-only' : ''}`,
        ...(auth ? ['', `Authentication: ${auth}`] : []),
        ...(info.certificateFingerprint ? ['', `Certificate${info.certificateLabel ? ` \`${info.certificateLabel}\`` : ''} SHA-256: \`${info.certificateFingerprint}\``] : []),
      ].join('\n'),
    );
    this.iconPath = new vscode.ThemeIcon('radio-tower', info.state === 'listening' ? new vscode.ThemeColor('charts.green') : undefined);
  }
}

export class ListenerUrlNode extends vscode.TreeItem {
  override readonly contextValue = 'listenerUrl';
  constructor(
    readonly listener: P.ListenerInfo,
    readonly url: string,
  ) {
    super(url, vscode.TreeItemCollapsibleState.None);
    this.id = `listener:${listener.id}:url:${url}`;
    this.iconPath = new vscode.ThemeIcon('link');
    this.tooltip = `${url} — peers replicate with this URL`;
  }
}

export class ClientNode extends vscode.TreeItem {
  override readonly contextValue = 'peerClient';
  constructor(listener: P.ListenerInfo, client: P.ListenerInfo['clients'][number]) {
    super(client.remoteAddress, vscode.TreeItemCollapsibleState.None);
    this.id = `listener:${listener.id}:client:${client.remoteAddress}:${client.connectedAt}`;
    this.description = `connected ${new Date(client.connectedAt).toLocaleTimeString()}${client.busy ? ' · busy' : ' · idle'}`;
    this.iconPath = new vscode.ThemeIcon('vm-connect');
  }
}

export class RemotePeerNode extends vscode.TreeItem {
  override readonly contextValue = 'remotePeer';
  readonly url: string;
  constructor(
    readonly peer: P.RemotePeer,
    replications: P.ReplicatorInfo[],
  ) {
    super(peer.url, vscode.TreeItemCollapsibleState.None);
    const url = peer.url;
    this.url = url;
    this.id = `peer:${url}`;
    const active = replications.filter((r) => r.activity !== 'stopped');
    this.description =
      replications.length === 0 ? 'not replicating' : `${plural(replications.length, 'replication')}${active.length ? ` · ${active.map((r) => r.activity).join(', ')}` : ' · stopped'}`;
    this.iconPath = new vscode.ThemeIcon('remote');
    if (peer.pinnedFingerprint) this.description += ' · certificate pinned';
    this.tooltip = `${url}${peer.pinnedFingerprint ? `\nPinned certificate SHA-256: ${peer.pinnedFingerprint}` : ''}\nRight-click to replicate with this peer.`;
  }
}

type Node = GroupNode | ListenerNode | ListenerUrlNode | ClientNode | RemotePeerNode | MessageNode;

export class PeersView extends ThrottledTreeView<Node> {
  constructor(
    private readonly ctx: Ctx,
    private readonly peers: RemotePeers,
  ) {
    super();
    this.disposables.push(
      ctx.onListenerStatus(() => this.refresh()),
      ctx.onReplicatorStatus(() => this.refresh()),
      ctx.onDidChangeServerState(() => this.refresh()),
      ctx.onServerEvent(
        (e) => (e.kind === 'listenerStarted' || e.kind === 'listenerStopped' || e.kind === 'peersChanged' || e.kind === 'replicationAdded' || e.kind === 'replicationRemoved') && this.refresh(),
      ),
      peers.onDidChange(() => this.refresh()),
    );
  }

  override async getChildren(node?: Node): Promise<Node[]> {
    try {
      if (!node) {
        const listeners = this.ctx.isRunning() ? await this.ctx.request(P.ListListeners) : [];
        const peers = this.peers.list();
        if (listeners.length === 0 && peers.length === 0) return [];
        return [new GroupNode('thisPeer', listeners.length), new GroupNode('remotePeers', peers.length)];
      }
      if (node instanceof GroupNode) {
        if (node.group === 'thisPeer') {
          const listeners = this.ctx.isRunning() ? await this.ctx.request(P.ListListeners) : [];
          return listeners.length ? listeners.map((l) => new ListenerNode(l)) : [new MessageNode(this.ctx.isRunning() ? 'No listener: start one to let peers connect' : 'Server not running', 'info')];
        }
        const replications = this.ctx.isRunning() ? await this.ctx.request(P.ListReplications) : [];
        const peers = this.peers.list();
        return peers.length
          ? peers.map(
              (p) =>
                new RemotePeerNode(
                  p,
                  replications.filter((r) => r.target === p.url),
                ),
            )
          : [new MessageNode('No remote peers: add one by URL', 'info')];
      }
      if (node instanceof ListenerNode) {
        return [...node.info.urls.map((u) => new ListenerUrlNode(node.info, u)), ...node.info.clients.map((c) => new ClientNode(node.info, c))];
      }
    } catch (e) {
      return [new MessageNode(`Could not load: ${errorMessage(e)}`, 'error')];
    }
    return [];
  }
}
