/**
 * Saved replications that sign in with a password come back paused after a server start: the
 * server never stores passwords. This resumes each one whose password is in secret storage, and
 * remembers the others so the Replications view can say they need one.
 */
import * as vscode from 'vscode';
import * as P from '../server/rpc/protocol';
import type { Credentials } from './credentials';
import type { Ctx } from './ctx';
import { errorMessage } from './log';

/** Saved, signs in with a password, and is stopped without having failed: waiting for the password. */
export function waitsForPassword(r: P.ReplicatorInfo): boolean {
  return r.persisted === true && r.username !== undefined && r.activity === 'stopped' && r.error === undefined;
}

export class SavedReplications implements vscode.Disposable {
  private readonly waiting = new Set<string>();
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChange = this._onDidChange.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly credentials: Credentials,
  ) {
    this.disposables.push(
      ctx.onDidChangeServerState((state) => {
        this.waiting.clear();
        if (state === 'running') void this.resumeAll();
        this._onDidChange.fire();
      }),
      // A database opened later (by the command line, say) brings its saved replications with it.
      ctx.onServerEvent((e) => {
        if (e.kind === 'replicationAdded' && ctx.state === 'running' && waitsForPassword(e.replication)) void this.resume(e.replication);
        else if (e.kind === 'replicationRemoved' && this.waiting.delete(e.id)) this._onDidChange.fire();
      }),
      ctx.onReplicatorStatus((r) => r.activity !== 'stopped' && this.waiting.delete(r.id) && this._onDidChange.fire()),
    );
  }

  /** Paused after a restart because no password for it is stored. */
  needsPassword(id: string): boolean {
    return this.waiting.has(id);
  }

  private async resumeAll(): Promise<void> {
    try {
      for (const r of await this.ctx.request(P.ListReplications)) if (waitsForPassword(r)) await this.resume(r);
    } catch (e) {
      this.ctx.log.warn(`resuming the saved replications: ${errorMessage(e)}`);
    }
  }

  private async resume(r: P.ReplicatorInfo): Promise<void> {
    const saved = await this.credentials.get(r.target);
    if (!saved || saved.username !== r.username) {
      this.waiting.add(r.id);
      this._onDidChange.fire();
      this.ctx.log.info(`the saved replication ${r.id} with ${r.target} waits for ${r.username ?? 'its user'}'s password`);
      return;
    }
    try {
      await this.ctx.request(P.RestartReplication, { id: r.id, password: saved.password });
      this.ctx.log.info(`resumed the saved replication ${r.id} with ${r.target} as ${saved.username}`);
    } catch (e) {
      this.waiting.add(r.id);
      this._onDidChange.fire();
      this.ctx.log.warn(`could not resume the saved replication ${r.id} with ${r.target}: ${errorMessage(e)}`);
    }
  }

  dispose(): void {
    this._onDidChange.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
