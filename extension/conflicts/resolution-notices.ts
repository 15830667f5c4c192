/**
 * Tells the user when a replication resolved conflicts on its own (any resolver but `manual`): at
 * most one notification per 5 s; resolutions that arrive in between are summed up in the next one.
 */
import type * as vscode from 'vscode';
import type * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import type { ResolvedConflictsView } from '../views/resolved-conflicts-view';
import { resolutionNotice } from './resolution-text';

export const NOTICE_INTERVAL_MS = 5000;

export class ResolutionNotices implements vscode.Disposable {
  private pending: P.ResolvedConflict[] = [];
  private lastShown = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly ctx: Ctx,
    private readonly view: ResolvedConflictsView,
  ) {
    this.sub = ctx.onServerEvent((e) => {
      if (e.kind === 'conflictResolved' && e.resolution.resolver !== 'manual') this.add(e.resolution);
    });
  }

  private add(record: P.ResolvedConflict): void {
    this.pending.push(record);
    if (this.timer) return;
    const wait = Math.max(0, this.lastShown + NOTICE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const records = this.pending;
    this.pending = [];
    if (records.length === 0) return;
    this.lastShown = Date.now();
    const newest = records[records.length - 1]!;
    void this.ctx.ui.showInformationMessage(resolutionNotice(records), 'Show').then((choice) => {
      if (choice === 'Show') void this.view.revealRecord(newest);
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
  }
}
