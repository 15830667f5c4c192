import { StoreError } from './errors';
import { compareRevIds, generationOf, parseRevId } from './rev-id';
import type { RevId, RevisionInfo, Sequence } from './types';

/** One revision in a document's tree. Bodies are JSON text so they are stored without re-serialising. */
export interface RevNode {
  revId: RevId;
  /** Index of the parent in RevTree.nodes, or -1 for a root (original root or pruned ancestry). */
  parent: number;
  deleted: boolean;
  /** Part of a branch that conflicts with the local winner and is not yet resolved. */
  conflict: boolean;
  sequence: Sequence;
  body: string | undefined;
}

const F_DELETED = 1;
const F_CONFLICT = 2;
const F_HAS_BODY = 4;

/** Encoded node: [revId, parent, flags, sequence, body?]. */
type EncodedNode = [string, number, number, number, string?];

export interface InsertResult {
  /** Number of revisions added (0 if the revision was already known). */
  readonly added: number;
  /** The insertion created (or extended) a branch that conflicts with the winner. */
  readonly conflict: boolean;
}

/**
 * A document's revision tree (MVCC: revisions are added, never overwritten). Pure data structure:
 * no storage, no I/O, so it is unit-tested in isolation and reused by every write path.
 */
export class RevTree {
  readonly nodes: RevNode[] = [];

  /** A tree holding one root revision (documents with no history are stored without an encoded tree). */
  static single(revId: RevId, deleted: boolean, sequence: Sequence, body: string): RevTree {
    const tree = new RevTree();
    tree.nodes.push({ revId, parent: -1, deleted, conflict: false, sequence, body });
    return tree;
  }

  static decode(text: string): RevTree {
    const tree = new RevTree();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new StoreError('CORRUPT', 'revision tree is not valid JSON');
    }
    if (!Array.isArray(raw)) throw new StoreError('CORRUPT', 'revision tree is not an array');
    for (const item of raw as EncodedNode[]) {
      const [revId, parent, flags, sequence, body] = item;
      tree.nodes.push({
        revId: revId as RevId,
        parent,
        deleted: (flags & F_DELETED) !== 0,
        conflict: (flags & F_CONFLICT) !== 0,
        sequence: sequence as Sequence,
        body: (flags & F_HAS_BODY) !== 0 ? body : undefined,
      });
    }
    return tree;
  }

  /** Encodes the tree; the winner's body is usually kept elsewhere (the document row), so it can be left out. */
  encode(omitBodyOf?: RevNode): string {
    const out: EncodedNode[] = this.nodes.map((n) => {
      const withBody = n.body !== undefined && n !== omitBodyOf;
      const flags = (n.deleted ? F_DELETED : 0) | (n.conflict ? F_CONFLICT : 0) | (withBody ? F_HAS_BODY : 0);
      return (withBody ? [n.revId, n.parent, flags, n.sequence, n.body] : [n.revId, n.parent, flags, n.sequence]) as EncodedNode;
    });
    return JSON.stringify(out);
  }

  get size(): number {
    return this.nodes.length;
  }

  indexOf(revId: string): number {
    for (let i = 0; i < this.nodes.length; i++) if (this.nodes[i]!.revId === revId) return i;
    return -1;
  }

  get(revId: string): RevNode | undefined {
    const i = this.indexOf(revId);
    return i < 0 ? undefined : this.nodes[i];
  }

  private childFlags(): boolean[] {
    const hasChild = new Array<boolean>(this.nodes.length).fill(false);
    for (const n of this.nodes) if (n.parent >= 0) hasChild[n.parent] = true;
    return hasChild;
  }

  isLeaf(node: RevNode): boolean {
    const i = this.nodes.indexOf(node);
    return i >= 0 && !this.nodes.some((n) => n.parent === i);
  }

  leaves(): RevNode[] {
    const hasChild = this.childFlags();
    return this.nodes.filter((_, i) => !hasChild[i]);
  }

  /**
   * The current revision: leaf beats non-leaf; non-conflict beats conflict; live beats deleted;
   * then the higher revision ID (generation, then digest).
   */
  winner(): RevNode | undefined {
    let best: RevNode | undefined;
    for (const leaf of this.leaves()) if (!best || beats(leaf, best)) best = leaf;
    return best;
  }

  /** Open leaves other than the winner: live ones, or conflict branches not yet resolved. */
  conflictingLeaves(): RevNode[] {
    const w = this.winner();
    return this.leaves()
      .filter((l) => l !== w && (!l.deleted || l.conflict))
      .sort((a, b) => (beats(a, b) ? -1 : 1));
  }

  allLeavesDeleted(): boolean {
    return this.leaves().every((l) => l.deleted);
  }

  isConflicted(): boolean {
    return this.conflictingLeaves().length > 0;
  }

  /** Revision IDs from `revId` back towards the root, newest first, at most `max` of them. */
  history(revId: string, max = Number.MAX_SAFE_INTEGER): RevId[] {
    const out: RevId[] = [];
    let i = this.indexOf(revId);
    while (i >= 0 && out.length < max) {
      const n = this.nodes[i]!;
      out.push(n.revId);
      i = n.parent;
    }
    return out;
  }

  /** Adds a locally created revision as a child of `parent` (null = a new root). */
  addChild(revId: RevId, parent: RevNode | null, body: string, deleted: boolean, sequence: Sequence): RevNode {
    if (this.indexOf(revId) >= 0) throw new StoreError('CONFLICT', `revision ${revId} already exists`);
    const parentIndex = parent ? this.nodes.indexOf(parent) : -1;
    if (parent && parentIndex < 0) throw new StoreError('INVALID_ARGUMENT', 'parent is not part of this tree');
    const node: RevNode = { revId, parent: parentIndex, deleted, conflict: false, sequence, body };
    this.nodes.push(node);
    if (parent) parent.body = undefined;
    return node;
  }

  /**
   * Inserts a revision received from a peer with its ancestry (`history[0]` = the new revision, then
   * its parent, grandparent…). Missing ancestors are added without bodies. When the new branch does
   * not extend the current winner, it is marked as a conflict (if `markConflict`) so the local
   * winner stays current until the conflict is resolved.
   */
  insertWithHistory(history: readonly RevId[], body: string, deleted: boolean, sequence: Sequence, markConflict: boolean): InsertResult {
    validateHistory(history);
    if (this.indexOf(history[0]!) >= 0) return { added: 0, conflict: false };
    let common = -1;
    let commonPos = history.length;
    for (let i = 1; i < history.length; i++) {
      const idx = this.indexOf(history[i]!);
      if (idx >= 0) {
        common = idx;
        commonPos = i;
        break;
      }
    }
    const winner = this.winner();
    const extendsWinner = winner !== undefined && common >= 0 && this.nodes[common] === winner;
    // A document deleted everywhere in this tree may be re-created from scratch (a new root, by a
    // peer that never saw it): that replaces the tombstones. An edit from a shared ancestor that
    // this side deleted is still a conflict.
    const conflict = winner !== undefined && !extendsWinner && !(common < 0 && this.allLeavesDeleted());
    const flag = conflict && markConflict;
    let parent = common;
    for (let i = commonPos - 1; i >= 0; i--) {
      const isNew = i === 0;
      this.nodes.push({
        revId: history[i]!,
        parent,
        deleted: isNew ? deleted : false,
        conflict: flag,
        sequence,
        body: isNew ? body : undefined,
      });
      parent = this.nodes.length - 1;
    }
    if (common >= 0) this.nodes[common]!.body = undefined;
    return { added: commonPos, conflict };
  }

  /** Clears the conflict mark on `node` and all its ancestors (it is now the accepted branch). */
  acceptBranch(node: RevNode): void {
    let i = this.nodes.indexOf(node);
    while (i >= 0) {
      const n = this.nodes[i]!;
      n.conflict = false;
      i = n.parent;
    }
  }

  /** Revisions this tree has that could be ancestors of `revId` (lower generation), leaves first. */
  possibleAncestors(revId: RevId, max = 10): RevId[] {
    const gen = generationOf(revId);
    const hasChild = this.childFlags();
    const candidates = this.nodes
      .map((n, i) => ({ n, leaf: !hasChild[i] }))
      .filter(({ n }) => generationOf(n.revId) < gen)
      .sort((a, b) => (a.leaf !== b.leaf ? (a.leaf ? -1 : 1) : compareRevIds(b.n.revId, a.n.revId)));
    return candidates.slice(0, max).map(({ n }) => n.revId);
  }

  /**
   * Drops revisions more than `maxDepth` steps away from every leaf below them, keeping each
   * branch's newest `maxDepth` revisions. Returns the number removed.
   */
  prune(maxDepth: number): number {
    const n = this.nodes.length;
    if (n <= maxDepth) return 0;
    // distance[i] = shortest distance from node i down to a leaf in its subtree.
    const distance = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
    const hasChild = this.childFlags();
    for (let i = 0; i < n; i++) {
      if (hasChild[i]) continue;
      let d = 0;
      let j = i;
      while (j >= 0 && d < distance[j]!) {
        distance[j] = d;
        d++;
        j = this.nodes[j]!.parent;
      }
    }
    const keep = distance.map((d) => d < maxDepth);
    const removed = keep.filter((k) => !k).length;
    if (removed === 0) return 0;
    const remap = new Array<number>(n).fill(-1);
    const kept: RevNode[] = [];
    for (let i = 0; i < n; i++) {
      if (keep[i]) {
        remap[i] = kept.length;
        kept.push(this.nodes[i]!);
      }
    }
    for (const node of kept) node.parent = node.parent >= 0 ? remap[node.parent]! : -1;
    this.nodes.length = 0;
    this.nodes.push(...kept);
    return removed;
  }

  /** Depth of the longest chain, measured cheaply by generation (trees are pruned by generation). */
  generationSpan(): number {
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const node of this.nodes) {
      const g = generationOf(node.revId);
      if (g < min) min = g;
      if (g > max) max = g;
    }
    return this.nodes.length === 0 ? 0 : max - min + 1;
  }

  describe(): RevisionInfo[] {
    const hasChild = this.childFlags();
    const winner = this.winner();
    return this.nodes.map((n, i) => ({
      revId: n.revId,
      parentRevId: n.parent >= 0 ? this.nodes[n.parent]!.revId : null,
      deleted: n.deleted,
      leaf: !hasChild[i],
      conflict: n.conflict,
      winner: n === winner,
      sequence: n.sequence,
      hasBody: n.body !== undefined,
    }));
  }
}

/** True when a should be preferred over b as the current revision. */
export function beats(a: RevNode, b: RevNode): boolean {
  if (a.conflict !== b.conflict) return !a.conflict;
  if (a.deleted !== b.deleted) return !a.deleted;
  return compareRevIds(a.revId, b.revId) > 0;
}

function validateHistory(history: readonly RevId[]): void {
  if (history.length === 0) throw new StoreError('INVALID_HISTORY', 'revision history is empty');
  let prevGen = -1;
  const seen = new Set<string>();
  for (const rev of history) {
    const { generation } = parseRevId(rev);
    if (prevGen >= 0 && generation !== prevGen - 1) {
      throw new StoreError('INVALID_HISTORY', `revision history is not a chain of consecutive generations at ${rev}`);
    }
    if (seen.has(rev)) throw new StoreError('INVALID_HISTORY', `revision history repeats ${rev}`);
    seen.add(rev);
    prevGen = generation;
  }
}
