/** The conflict editor's choices over any number of branches (pure: unit-tested, used by the webview). */
import type { ConflictView, LeafView } from './messages';

export function shortRev(revId: string): string {
  const dash = revId.indexOf('-');
  return dash < 0 ? revId.slice(0, 10) : revId.slice(0, dash + 1 + 7);
}

export interface KeepChoice {
  readonly revId: string;
  readonly label: string;
  readonly id: string;
}

/** "Keep local", then one "Keep <rev> (from peer)" per other branch, so each one can be named. */
export function keepChoices(v: Pick<ConflictView, 'leaves'>): KeepChoice[] {
  const local = v.leaves.find((l) => l.role === 'local');
  const choices: KeepChoice[] = local ? [{ revId: local.revId, label: 'Keep local', id: 'keep-local' }] : [];
  for (const leaf of v.leaves) {
    if (leaf === local) continue;
    const what = leaf.deleted ? 'deletion' : shortRev(leaf.revId);
    choices.push({ revId: leaf.revId, label: `Keep ${what} (from peer)`, id: `keep-${leaf.revId}` });
  }
  return choices;
}

/**
 * Every key of every live branch; on a key several have, local wins, then the branches in the
 * order the server listed them. A starting point for the user to edit, not a resolution.
 */
export function shallowMergeAll(leaves: readonly LeafView[]): Record<string, unknown> {
  const live = leaves.filter((l) => !l.deleted && l.body);
  const ranked = [...live.filter((l) => l.role === 'local'), ...live.filter((l) => l.role !== 'local')];
  const merged: Record<string, unknown> = {};
  for (const leaf of ranked.reverse()) Object.assign(merged, leaf.body);
  return merged;
}
