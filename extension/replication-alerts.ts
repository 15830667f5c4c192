/**
 * Tells the user, once, when a continuous replication goes offline or stops with an error, with
 * the reason and a way to fix it (a one-shot run reports its end itself, under its progress).
 * The same error again (every retry) stays quiet until the replication has recovered.
 */
import * as vscode from 'vscode';
import type * as P from '../server/rpc/protocol';
import type { Ctx } from './ctx';
import { explainReplicationError } from './replication-reason';

export class ReplicationAlerts implements vscode.Disposable {
  private readonly shown = new Map<string, string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.subscription = ctx.onReplicatorStatus((r) => this.onStatus(r));
  }

  private onStatus(r: P.ReplicatorInfo): void {
    if (!r.continuous) return;
    if (r.activity === 'idle' || r.activity === 'busy') {
      this.shown.delete(r.id);
      return;
    }
    if (!r.error || (r.activity !== 'offline' && r.activity !== 'stopped')) return;
    if (this.shown.get(r.id) === r.error.message) return;
    this.shown.set(r.id, r.error.message);
    const text = `Replication with ${r.target} ${r.activity === 'stopped' ? 'stopped' : 'is offline'}: ${explainReplicationError(r.error.message)}`;
    const shown = r.error.transient ? this.ctx.ui.showWarningMessage(text, {}, 'Edit Replication…', 'Show Logs') : this.ctx.ui.showErrorMessage(text, 'Edit Replication…', 'Show Logs');
    void shown.then((choice) => {
      if (choice === 'Edit Replication…') void vscode.commands.executeCommand('peersync.editReplication', r.id);
      else if (choice === 'Show Logs') this.ctx.log.show();
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
