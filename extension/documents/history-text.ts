/**
 * The text of the read-only "revision history" document: the revision tree drawn as an indented
 * tree from the oldest revision down, with the winner, conflicts and tombstones marked.
 * No vscode import (unit-tested).
 */
import type { RevisionNode } from '../../server/rpc/protocol';

export type HistoryNode = RevisionNode;

function generation(revId: string): number {
  return Number.parseInt(revId, 10) || 0;
}

function flags(n: HistoryNode): string {
  const f: string[] = [];
  if (n.winner) f.push('★ current winner');
  if (n.conflict) f.push('⚠ conflict');
  if (n.deleted) f.push('✕ deleted');
  if (n.leaf && !n.winner) f.push('leaf');
  if (!n.hasBody) f.push('body pruned');
  f.push(`seq ${n.sequence}`);
  return f.join(' · ');
}

export function renderHistory(title: string, nodes: readonly HistoryNode[]): string {
  const ids = new Set(nodes.map((n) => n.revId));
  const children = new Map<string | null, HistoryNode[]>();
  for (const n of nodes) {
    const parent = n.parentRevId !== null && ids.has(n.parentRevId) ? n.parentRevId : null;
    const list = children.get(parent) ?? [];
    list.push(n);
    children.set(parent, list);
  }
  const order = (a: HistoryNode, b: HistoryNode): number => Number(b.winner) - Number(a.winner) || generation(a.revId) - generation(b.revId) || (a.revId < b.revId ? -1 : 1);
  for (const list of children.values()) list.sort(order);

  const winner = nodes.find((n) => n.winner);
  const leaves = nodes.filter((n) => n.leaf);
  const conflicts = leaves.filter((n) => n.conflict);
  const lines = [
    title,
    `${nodes.length} revision${nodes.length === 1 ? '' : 's'}, ${leaves.length} leaf${leaves.length === 1 ? '' : ' revisions'}${conflicts.length ? `, ${conflicts.length} in conflict` : ''}; current: ${winner ? winner.revId : '(none)'}`,
    '',
  ];
  const walk = (n: HistoryNode, prefix: string, last: boolean, root: boolean): void => {
    lines.push(`${prefix}${root ? '' : last ? '└─ ' : '├─ '}${n.revId}  ${flags(n)}`);
    const kids = children.get(n.revId) ?? [];
    kids.forEach((k, i) => walk(k, root ? prefix : prefix + (last ? '   ' : '│  '), i === kids.length - 1, false));
  };
  const roots = children.get(null) ?? [];
  roots.forEach((r, i) => {
    if (i > 0) lines.push('');
    if (r.parentRevId !== null) lines.push(`(older revisions before ${r.revId} were pruned)`);
    walk(r, '', true, true);
  });
  return lines.join('\n') + '\n';
}
