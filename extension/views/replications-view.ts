/**
 * Every replicator: target, type, continuous flag, activity (with the next retry time when
 * offline, the error when stopped) and progress. Inline Start / Stop / Restart. Refreshed by
 * ReplicatorStatusChanged notifications (throttled).
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { errorMessage } from '../log';
import { plural } from '../plural';
import { explainReplicationError, shortReplicationError } from '../replication-reason';
import type { SavedReplications } from '../saved-replications';
import { MessageNode, ThrottledTreeView } from './common';

const ICONS: Record<P.ReplicatorInfo['activity'], string> = {
  busy: 'sync~spin',
  idle: 'pass',
  connecting: 'loading~spin',
  offline: 'debug-disconnect',
  stopped: 'circle-slash',
};

export function typeLabel(t: P.ReplicatorInfo['type']): string {
  return t === 'pushAndPull' ? 'push and pull' : t;
}

export function activityLabel(r: P.ReplicatorInfo, now = Date.now(), needsPassword = false): string {
  if (needsPassword) return 'paused — needs password';
  const why = r.error && (r.activity === 'offline' || r.activity === 'stopped') ? ` · ${shortReplicationError(r.error.message)}` : '';
  if (r.activity === 'offline' && r.nextAttemptAt !== undefined) {
    const s = Math.max(0, Math.round((r.nextAttemptAt - now) / 1000));
    return `offline${why} · retry at ${new Date(r.nextAttemptAt).toLocaleTimeString()} (in ${s} s)`;
  }
  return `${r.activity}${why}`;
}

export class ReplicatorNode extends vscode.TreeItem {
  override readonly contextValue: 'replicator.running' | 'replicator.stopped';
  constructor(
    readonly info: P.ReplicatorInfo,
    readonly needsPassword = false,
  ) {
    super(info.target, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `replicator:${info.id}`;
    this.contextValue = info.activity === 'stopped' ? 'replicator.stopped' : 'replicator.running';
    const progress = info.total > 0 || info.completed > 0 ? ` · ${info.completed - info.failed}/${info.total}` : '';
    const failedDocs = info.failed > 0 ? ` · ${info.failed} failed` : '';
    this.description = `${info.db} · ${typeLabel(info.type)}${info.continuous ? ' · continuous' : ''} · ${activityLabel(info, Date.now(), needsPassword)}${progress}${failedDocs}`;
    const failed = (info.activity === 'stopped' && info.error) || info.failed > 0;
    this.iconPath = new vscode.ThemeIcon(failed ? 'error' : needsPassword ? 'key' : ICONS[info.activity], failed ? new vscode.ThemeColor('errorForeground') : undefined);
    this.tooltip = new vscode.MarkdownString(
      [
        `**${info.target}** (${info.id})`,
        '',
        `database \`${info.db}\` · ${typeLabel(info.type)} · ${info.continuous ? 'continuous' : 'one-shot'}`,
        '',
        `activity: ${activityLabel(info, Date.now(), needsPassword)}`,
        '',
        `progress: ${info.completed} / ${info.total}`,
        ...(info.pendingDocuments !== undefined ? ['', `pending: ${plural(info.pendingDocuments, 'document')}`] : []),
        ...(info.failed > 0
          ? ['', `**${plural(info.failed, 'document')} did not replicate** (retried on the next run):`, ...(info.failedDocuments ?? []).map((f) => `- ${f.direction} \`${f.docId}\`: ${f.message}`)]
          : []),
        ...(info.error
          ? [
              '',
              `${info.activity === 'offline' || info.activity === 'stopped' ? '**Why:**' : 'last error:'} ${explainReplicationError(info.error.message)}${info.error.transient ? ' (transient: retried)' : ''}`,
            ]
          : []),
        ...(needsPassword ? ['', `Saved replication signing in as \`${info.username ?? ''}\`: Start asks for the password.`] : []),
      ].join('\n'),
    );
  }
}

export class DetailNode extends vscode.TreeItem {
  override readonly contextValue = 'replicatorDetail';
  constructor(
    readonly replicatorId: string,
    label: string,
    value: string,
    icon?: string,
  ) {
    super(label, vscode.TreeItemCollapsibleState.None);
    this.id = `replicator:${replicatorId}:${label}`;
    this.description = value;
    if (icon) this.iconPath = new vscode.ThemeIcon(icon);
  }
}

type Node = ReplicatorNode | DetailNode | MessageNode;

export class ReplicationsView extends ThrottledTreeView<Node> {
  constructor(
    private readonly ctx: Ctx,
    private readonly saved: SavedReplications,
  ) {
    super();
    this.disposables.push(
      saved.onDidChange(() => this.refresh()),
      ctx.onReplicatorStatus(() => this.refresh()),
      ctx.onDidChangeServerState(() => this.refresh()),
      ctx.onServerEvent((e) => (e.kind === 'replicationAdded' || e.kind === 'replicationRemoved') && this.refresh()),
    );
  }

  override async getChildren(node?: Node): Promise<Node[]> {
    if (!this.ctx.isRunning()) return [];
    try {
      if (!node) {
        const list = await this.ctx.request(P.ListReplications);
        return list.map((r) => new ReplicatorNode(r, this.saved.needsPassword(r.id)));
      }
      if (node instanceof ReplicatorNode) {
        const r = node.info;
        const id = r.id;
        return [
          new DetailNode(id, 'Database', r.db, 'database'),
          new DetailNode(id, 'Type', `${typeLabel(r.type)}, ${r.continuous ? 'continuous' : 'one-shot'}`, 'arrow-swap'),
          new DetailNode(id, 'Activity', activityLabel(r, Date.now(), node.needsPassword), 'pulse'),
          new DetailNode(id, 'Progress', `${r.completed} of ${plural(r.total, 'document')}`, 'check-all'),
          ...(r.pendingDocuments !== undefined ? [new DetailNode(id, 'Pending', `${plural(r.pendingDocuments, 'document')} to push`, 'clock')] : []),
          ...(r.username !== undefined ? [new DetailNode(id, 'Signs in as', r.username, 'account')] : []),
          ...(r.params?.clientIdentityLabel !== undefined ? [new DetailNode(id, 'Client certificate', r.params.clientIdentityLabel, 'key')] : []),
          ...(r.params?.documentIds?.length ? [new DetailNode(id, 'Documents', r.params.documentIds.join(', '), 'files')] : []),
          ...(r.persisted ? [new DetailNode(id, 'Saved', 'comes back when the server restarts', 'save')] : []),
          ...(r.error ? [new DetailNode(id, 'Last error', `${explainReplicationError(r.error.message)}${r.error.transient ? ' (transient)' : ''}`, 'warning')] : []),
        ];
      }
    } catch (e) {
      return [new MessageNode(`Could not load: ${errorMessage(e)}`, 'error')];
    }
    return [];
  }
}
