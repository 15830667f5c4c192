/**
 * The conflict editor: the revision tree as a graph, the conflicting leaves side by side with their
 * differences, and a merged editor. Resolving goes through the extension (ResolveConflict); the panel
 * reloads this view when the server reports the document changed.
 */
import { byId, h, replaceChildren, s } from '../shared/dom';
import { messenger } from '../shared/vscode-api';
import { keepChoices, shallowMergeAll, shortRev } from './branches';
import { canonicalLines, changedLinesOf, diffLines, sideBySide } from './json-diff';
import { ConflictMessageType as T, type ConflictExtensionToWebview, type ConflictView, type ConflictWebviewState, type ConflictWebviewToExtension, type LeafView } from './messages';
import { layoutRevisionTree } from './tree-layout';
import './styles.css';

const vscode = messenger<ConflictWebviewToExtension, ConflictExtensionToWebview, ConflictWebviewState>();
let view: ConflictView | undefined;
let mergedTouched = false;

function roleLabel(leaf: LeafView): string {
  return leaf.role === 'local' ? 'Local' : 'From peer';
}

function bodyLines(leaf: LeafView): string[] {
  return leaf.deleted ? ['(deleted)'] : canonicalLines(leaf.body ?? {});
}

// ---- revision tree ----

const COL_W = 150;
const ROW_H = 36;
const PAD = 18;

function renderTree(v: ConflictView): SVGSVGElement {
  const layout = layoutRevisionTree(v.tree);
  const width = Math.max(1, layout.columns) * COL_W + PAD;
  const height = Math.max(1, layout.rows) * ROW_H + PAD;
  const at = new Map(layout.nodes.map((n) => [n.revId, { x: PAD + n.column * COL_W, y: PAD + n.row * ROW_H }]));
  const svg = s('svg', { id: 'tree-graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Revision tree' });
  for (const e of layout.edges) {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    // Up from the child, across between the rows (clear of the parent's label), up into the parent.
    const mid = b.y + ROW_H / 2;
    const d = a.x === b.x ? `M${a.x} ${a.y} V${b.y}` : `M${a.x} ${a.y} V${mid} H${b.x} V${b.y}`;
    svg.append(s('path', { class: 'edge', d }));
  }
  for (const n of layout.nodes) {
    const { x, y } = at.get(n.revId)!;
    const classes = ['node', n.leaf ? 'leaf' : '', n.winner ? 'winner' : '', n.deleted ? 'deleted' : '', n.conflict ? 'conflict' : ''].filter(Boolean).join(' ');
    const flags = [n.winner ? 'winner' : '', n.leaf ? 'leaf' : '', n.conflict ? 'conflict' : '', n.deleted ? 'deleted (tombstone)' : '', n.hasBody ? '' : 'body pruned'].filter(Boolean).join(', ');
    const g = s('g', { class: classes, 'data-rev-id': n.revId, transform: `translate(${x} ${y})` }, s('title', {}, `${n.revId}${flags ? ` — ${flags}` : ''}`));
    if (n.deleted) {
      g.append(s('rect', { x: -7, y: -7, width: 14, height: 14 }), s('path', { class: 'cross', d: 'M-5 -5 L5 5 M5 -5 L-5 5' }));
    } else {
      g.append(s('circle', { r: n.winner ? 8 : 6 }));
    }
    g.append(s('text', { x: 14, y: 4 }, shortRev(n.revId) + (n.winner ? ' ★' : '')));
    svg.append(g);
  }
  return svg;
}

// ---- leaves side by side ----

function keepButton(leaf: LeafView, label = 'Keep this leaf'): HTMLButtonElement {
  return h('button', { class: 'keep-leaf', 'data-rev-id': leaf.revId, title: `Resolve with ${leaf.revId}`, onClick: () => vscode.post({ type: T.keepRevision, revId: leaf.revId }) }, label);
}

function renderCompare(v: ConflictView): HTMLElement {
  const local = v.leaves.find((l) => l.role === 'local') ?? v.leaves[0];
  const remote = v.leaves.find((l) => l.role === 'remote') ?? v.leaves.find((l) => l !== local);
  const container = h('div', { class: 'compare' });
  if (!local) return container;
  const head = (leaf: LeafView): HTMLElement =>
    h(
      'th',
      { class: `leaf-head ${leaf.role}`, 'data-rev-id': leaf.revId },
      h('span', { class: 'role' }, roleLabel(leaf)),
      ' ',
      h('code', { class: 'rev', title: leaf.revId }, shortRev(leaf.revId)),
      leaf.winner ? h('span', { class: 'badge winner' }, 'current winner') : null,
      leaf.deleted ? h('span', { class: 'badge deleted' }, 'deleted') : null,
      ' ',
      keepButton(leaf),
    );
  if (remote) {
    const rows = sideBySide(diffLines(bodyLines(local), bodyLines(remote)));
    const changes = rows.filter((r) => r.left?.changed || r.right?.changed).length;
    const cell = (c: { no: number; text: string; changed: boolean } | null, side: string): HTMLElement[] =>
      c
        ? [h('td', { class: `ln ${side}` }, c.no), h('td', { class: `code ${side}${c.changed ? ' changed' : ''}` }, c.text)]
        : [h('td', { class: `ln ${side} empty` }), h('td', { class: `code ${side} empty` })];
    const table = h(
      'table',
      { class: 'diff', id: 'leaf-diff', 'data-changes': changes },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          (() => {
            const th = head(local);
            th.setAttribute('colspan', '2');
            return th;
          })(),
          (() => {
            const th = head(remote);
            th.setAttribute('colspan', '2');
            return th;
          })(),
        ),
      ),
      h('tbody', {}, ...rows.map((r) => h('tr', { class: r.left?.changed || r.right?.changed ? 'changed' : '' }, ...cell(r.left, 'left'), ...cell(r.right, 'right')))),
    );
    container.append(h('p', { class: 'summary' }, changes === 0 ? 'The two revisions have the same content.' : `${changes} line${changes === 1 ? '' : 's'} differ.`), table);
  }
  // Further leaves (three or more branches): each against the local one.
  const others = v.leaves.filter((l) => l !== local && l !== remote);
  for (const leaf of others) {
    const lines = bodyLines(leaf);
    const changed = changedLinesOf(bodyLines(local), lines);
    container.append(
      h(
        'div',
        { class: 'leaf-card', 'data-rev-id': leaf.revId },
        h('div', { class: 'leaf-card-head' }, h('span', { class: 'role' }, roleLabel(leaf)), ' ', h('code', { title: leaf.revId }, shortRev(leaf.revId)), ' ', keepButton(leaf)),
        h('pre', { class: 'code-block' }, ...lines.map((text, i) => h('div', { class: changed.has(i + 1) ? 'line changed' : 'line' }, text))),
      ),
    );
  }
  return container;
}

// ---- merged editor ----

function initialMerged(v: ConflictView): string {
  const local = v.leaves.find((l) => l.role === 'local' && !l.deleted) ?? v.leaves.find((l) => !l.deleted);
  return JSON.stringify(local?.body ?? {}, null, 2);
}

/** Keys of every live branch; the local value wins on shared keys (a starting point to edit). */
function shallowMerge(v: ConflictView): string {
  return JSON.stringify(shallowMergeAll(v.leaves), null, 2);
}

function validateMerged(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'A document must be a JSON object.';
    return undefined;
  } catch (e) {
    return `Not valid JSON: ${(e as Error).message}`;
  }
}

// ---- page ----

function render(v: ConflictView, notice?: string): void {
  view = v;
  vscode.setState({ ref: v.ref });
  const app = byId('app');
  const status = v.conflicted
    ? h('p', { id: 'status', class: 'status conflicted', 'data-state': 'conflicted' }, `${v.leaves.length} conflicting revisions. Choose one, merge them, or delete the document.`)
    : h('p', { id: 'status', class: 'status resolved', 'data-state': 'resolved' }, v.currentRevId ? `No conflict: revision ${v.currentRevId} is current.` : 'The document no longer exists.');
  // One button per branch: with three or more, "Keep remote" would not say which.
  const actions = h(
    'div',
    { class: 'actions' },
    ...keepChoices(v).map((c) =>
      h(
        'button',
        { id: c.id, class: 'keep-choice', 'data-rev-id': c.revId, title: `Resolve with ${c.revId}`, disabled: !v.conflicted, onClick: () => vscode.post({ type: T.keepRevision, revId: c.revId }) },
        c.label,
      ),
    ),
    h('button', { id: 'merge-all', class: 'secondary', disabled: !v.conflicted, onClick: () => startFromMerge() }, v.leaves.length > 2 ? `Merge all ${v.leaves.length}` : 'Merge'),
    h('button', { id: 'delete-doc', class: 'secondary', disabled: !v.conflicted, onClick: () => vscode.post({ type: T.deleteDocument }) }, 'Delete document'),
  );

  const textarea = h('textarea', { id: 'merged', spellcheck: 'false', rows: 14, 'aria-label': 'Merged document JSON' });
  const mergeError = h('div', { id: 'merge-error', class: 'merge-error', role: 'alert' });
  const existing = document.getElementById('merged') as HTMLTextAreaElement | null;
  textarea.value = mergedTouched && existing ? existing.value : initialMerged(v);
  textarea.addEventListener('input', () => {
    mergedTouched = true;
    mergeError.textContent = validateMerged(textarea.value) ?? '';
  });
  const merge = h(
    'section',
    { class: 'merge' },
    h('h2', {}, 'Merged document'),
    textarea,
    mergeError,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          id: 'save-merged',
          disabled: !v.conflicted,
          onClick: () => {
            const problem = validateMerged(textarea.value);
            mergeError.textContent = problem ?? '';
            if (!problem) vscode.post({ type: T.saveMerged, json: textarea.value });
          },
        },
        'Save merged',
      ),
      h(
        'button',
        {
          class: 'secondary',
          disabled: !v.conflicted,
          onClick: () => {
            textarea.value = initialMerged(v);
            mergedTouched = false;
            mergeError.textContent = '';
          },
        },
        'Start from local',
      ),
      h('button', { class: 'secondary', disabled: !v.conflicted, onClick: () => startFromMerge() }, 'Start from shallow merge'),
    ),
  );
  function startFromMerge(): void {
    textarea.value = shallowMerge(v);
    mergedTouched = true;
    mergeError.textContent = '';
    textarea.focus();
  }

  replaceChildren(
    app,
    h(
      'header',
      {},
      h('h1', {}, v.ref.docId),
      h('div', { class: 'sub' }, `${v.ref.db} · ${v.ref.collection}`),
      status,
      notice ? h('p', { id: 'notice', class: 'notice' }, notice) : null,
      v.conflicted ? actions : null,
    ),
    h(
      'section',
      { class: 'tree' },
      h('h2', {}, 'Revision tree'),
      h('div', { class: 'graph-scroll' }, renderTree(v)),
      h(
        'p',
        { class: 'legend' },
        h('span', { class: 'key winner' }, '● winner'),
        h('span', { class: 'key conflict' }, '● conflicting leaf'),
        h('span', { class: 'key deleted' }, '☒ tombstone'),
        h('span', { class: 'key' }, '○ ancestor'),
      ),
    ),
    v.conflicted ? h('section', {}, h('h2', {}, 'Conflicting revisions'), renderCompare(v)) : null,
    v.conflicted ? merge : null,
  );
}

function setBusy(busy: boolean): void {
  document.body.classList.toggle('busy', busy);
  for (const b of Array.from(document.querySelectorAll('button'))) {
    if (busy) b.setAttribute('data-busy', '');
    else b.removeAttribute('data-busy');
  }
}

vscode.onMessage((m) => {
  switch (m.type) {
    case T.load:
      setBusy(false);
      render(m.view, m.notice);
      break;
    case T.busy:
      setBusy(m.busy);
      break;
    case T.error: {
      setBusy(false);
      const el = document.getElementById('merge-error') ?? byId('app');
      el.textContent = m.message;
      break;
    }
  }
});

if (view === undefined) replaceChildren(byId('app'), h('p', { class: 'loading' }, 'Loading…'));
vscode.post({ type: T.ready });
