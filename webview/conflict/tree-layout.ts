/**
 * Lays out a document's revision tree for drawing: generations as rows (oldest at the top),
 * branches as columns (the winning branch in column 0, then the other leaves newest first).
 * Pure functions: no DOM.
 */
import type { RevisionView } from './messages';

export type RevisionInput = RevisionView;

export interface PlacedRevision extends RevisionInput {
  readonly generation: number;
  readonly row: number;
  readonly column: number;
}

export interface TreeLayout {
  readonly nodes: readonly PlacedRevision[];
  /** child → parent, only where both are in the tree (older ancestors may have been pruned). */
  readonly edges: readonly { readonly from: string; readonly to: string }[];
  readonly rows: number;
  readonly columns: number;
}

export function generationOf(revId: string): number {
  const n = Number.parseInt(revId.slice(0, revId.indexOf('-')), 10);
  return Number.isFinite(n) ? n : 0;
}

function compareLeaves(a: RevisionInput, b: RevisionInput): number {
  if (a.winner !== b.winner) return a.winner ? -1 : 1;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  const g = generationOf(b.revId) - generationOf(a.revId);
  if (g !== 0) return g;
  return a.revId < b.revId ? 1 : a.revId > b.revId ? -1 : 0;
}

export function layoutRevisionTree(input: readonly RevisionInput[]): TreeLayout {
  const byId = new Map(input.map((n) => [n.revId, n]));
  const column = new Map<string, number>();
  const leaves = input.filter((n) => n.leaf).sort(compareLeaves);
  let columns = 0;
  const claim = (start: RevisionInput): void => {
    if (column.has(start.revId)) return;
    const col = columns++;
    for (let n: RevisionInput | undefined = start; n && !column.has(n.revId); n = n.parentRevId ? byId.get(n.parentRevId) : undefined) {
      column.set(n.revId, col);
    }
  };
  for (const leaf of leaves) claim(leaf);
  // Revisions no leaf reaches (should not happen in a well-formed tree) still get drawn.
  for (const n of [...input].sort((a, b) => generationOf(b.revId) - generationOf(a.revId))) claim(n);

  const generations = [...new Set(input.map((n) => generationOf(n.revId)))].sort((a, b) => a - b);
  const rowOf = new Map(generations.map((g, i) => [g, i]));
  const nodes = input.map((n): PlacedRevision => {
    const generation = generationOf(n.revId);
    return { ...n, generation, row: rowOf.get(generation)!, column: column.get(n.revId)! };
  });
  nodes.sort((a, b) => a.row - b.row || a.column - b.column);
  const edges = input.filter((n) => n.parentRevId !== null && byId.has(n.parentRevId)).map((n) => ({ from: n.revId, to: n.parentRevId! }));
  return { nodes, edges, rows: generations.length, columns };
}
