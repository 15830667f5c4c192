/**
 * A small line diff for JSON documents (Myers' O(ND) algorithm), used by the conflict editor to
 * highlight how conflicting revisions differ. Pure functions: no DOM.
 */

export type DiffOp = 'equal' | 'removed' | 'added';

export interface DiffLine {
  readonly op: DiffOp;
  readonly text: string;
  /** 1-based line number in the left (old) text, for equal and removed lines. */
  readonly left?: number;
  /** 1-based line number in the right (new) text, for equal and added lines. */
  readonly right?: number;
}

/** One row of a side-by-side view: a left line, a right line, or both. */
export interface SideBySideRow {
  readonly left: { readonly no: number; readonly text: string; readonly changed: boolean } | null;
  readonly right: { readonly no: number; readonly text: string; readonly changed: boolean } | null;
}

/** Pretty JSON (2 spaces) with object keys sorted, so that key order never shows up as a difference. */
export function canonicalLines(value: unknown): string[] {
  if (value === undefined) return [];
  return JSON.stringify(sortKeys(value), null, 2).split('\n');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** The shortest edit script turning `a` into `b`, as a sequence of equal/removed/added lines. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  // Common prefix and suffix are cheap to strip and keep the O(ND) part small.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ op: 'equal', text: a[i]!, left: i + 1, right: i + 1 });
  for (const [op, i, j] of myers(a.slice(start, endA), b.slice(start, endB))) {
    const ai = start + i;
    const bj = start + j;
    if (op === 'equal') out.push({ op, text: a[ai]!, left: ai + 1, right: bj + 1 });
    else if (op === 'removed') out.push({ op, text: a[ai]!, left: ai + 1 });
    else out.push({ op, text: b[bj]!, right: bj + 1 });
  }
  for (let k = 0; endA + k < a.length; k++) out.push({ op: 'equal', text: a[endA + k]!, left: endA + k + 1, right: endB + k + 1 });
  return out;
}

/** Myers' greedy algorithm with the V snapshots kept for backtracking. Yields [op, indexInA, indexInB]. */
function myers(a: readonly string[], b: readonly string[]): [DiffOp, number, number][] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((_, j): [DiffOp, number, number] => ['added', 0, j]);
  if (m === 0) return a.map((_, i): [DiffOp, number, number] => ['removed', i, 0]);
  const max = n + m;
  const offset = max;
  let v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)) x = v[offset + k + 1]!;
      else x = v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
    v = next;
  }
  trace.push(v);
  // Backtrack from (n, m) through the snapshots.
  const ops: [DiffOp, number, number][] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!)) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push(['equal', x, y]);
    }
    if (d === 0) break;
    if (x === prevX) ops.push(['added', x, prevY]);
    else ops.push(['removed', prevX, y]);
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    ops.push(['equal', x, y]);
  }
  return ops.reverse();
}

/**
 * Pairs a diff into rows for two columns: equal lines side by side, a run of removed lines next to
 * the run of added lines that follows it (a modification), the rest against an empty cell.
 */
export function sideBySide(lines: readonly DiffLine[]): SideBySideRow[] {
  const rows: SideBySideRow[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.op === 'equal') {
      rows.push({ left: { no: line.left!, text: line.text, changed: false }, right: { no: line.right!, text: line.text, changed: false } });
      i++;
      continue;
    }
    const removed: DiffLine[] = [];
    const added: DiffLine[] = [];
    while (i < lines.length && lines[i]!.op === 'removed') removed.push(lines[i++]!);
    while (i < lines.length && lines[i]!.op === 'added') added.push(lines[i++]!);
    for (let r = 0; r < Math.max(removed.length, added.length); r++) {
      const L = removed[r];
      const R = added[r];
      rows.push({
        left: L ? { no: L.left!, text: L.text, changed: true } : null,
        right: R ? { no: R.right!, text: R.text, changed: true } : null,
      });
    }
  }
  return rows;
}

/** Numbers of the lines of `b` that differ from `a` (1-based), for highlighting one column on its own. */
export function changedLinesOf(a: readonly string[], b: readonly string[]): Set<number> {
  const changed = new Set<number>();
  for (const l of diffLines(a, b)) if (l.op === 'added') changed.add(l.right!);
  return changed;
}
