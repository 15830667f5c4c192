/** How a recorded conflict resolution reads in the tree and in notifications (no vscode: unit-tested). */
import type { ResolvedConflict } from '../../server/rpc/protocol';

export function shortRevId(revId: string): string {
  const dash = revId.indexOf('-');
  return dash < 0 ? revId.slice(0, 10) : revId.slice(0, dash + 1 + 7);
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", then the date. */
export function relativeTime(time: number, now: number): string {
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.round(h / 24);
  if (days < 14) return `${days} day${days === 1 ? '' : 's'} ago`;
  return new Date(time).toISOString().slice(0, 10);
}

/** "kept 3-abc1234", "merged into 4-…", "deleted the document". */
export function outcomeText(r: Pick<ResolvedConflict, 'outcome' | 'resultRevId'>): string {
  if (r.outcome === 'deleted') return 'deleted the document';
  return `${r.outcome === 'merged' ? 'merged into' : 'kept'} ${shortRevId(r.resultRevId)}`;
}

export function resolutionDescription(r: ResolvedConflict, now: number): string {
  return `by ${r.resolver} · ${r.outcome} · ${relativeTime(r.time, now)}`;
}

/** The notification for automatic resolutions: one names the document, several are counted. */
export function resolutionNotice(records: readonly ResolvedConflict[]): string {
  if (records.length === 1) {
    const r = records[0]!;
    return `PeerSync resolved a conflict in “${r.docId}” (${r.resolver}: ${outcomeText(r)}, discarded ${r.discarded.length}).`;
  }
  const docs = new Set(records.map((r) => `${r.db}/${r.collection}/${r.docId}`)).size;
  return `PeerSync: ${records.length} conflicts resolved${docs < records.length ? ` in ${docs} documents` : ''}.`;
}
