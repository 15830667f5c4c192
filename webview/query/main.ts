/**
 * The query results panel: the query, its status (rows, elapsed time, a truncation warning) or its
 * error, export buttons, and a paged grid sortable by any column. Rows whose id column holds a
 * document id open that document. Every control is a button, so the grid works from the keyboard.
 */
import type { ResultFormat } from '../../server/query/format-results';
import { byId, h, replaceChildren } from '../shared/dom';
import { messenger } from '../shared/vscode-api';
import { cellView, count, idColumn, nextSort, pageOf, sortRows, type SortKey } from './grid';
import { QueryMessageType as T, type QueryExtensionToWebview, type QueryPanelState, type QueryWebviewToExtension } from './messages';
import './styles.css';

const vscode = messenger<QueryWebviewToExtension, QueryExtensionToWebview, Record<string, never>>();
const PAGE_SIZE = 100;

let state: QueryPanelState | undefined;
let sort: SortKey | undefined;
let page = 0;
let sorted: readonly Record<string, unknown>[] = [];

function show(next: QueryPanelState): void {
  const sameColumns = state?.type === T.results && next.type === T.results && state.columns.join('\0') === next.columns.join('\0');
  state = next;
  page = 0;
  if (!sameColumns) sort = undefined;
  sorted = next.type === T.results ? sortRows(next.rows, sort) : [];
  render();
}

function render(): void {
  const s = state;
  byId('query').textContent = s ? `${s.db} › ${s.query}` : '';
  byId('error').textContent = s?.type === T.error ? s.message : '';
  const results = s?.type === T.results ? s : undefined;
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('button.export'))) b.disabled = !results;
  byId('status').textContent =
    s === undefined
      ? 'Run a query with ▶ Run Query or Ctrl+Enter.'
      : s.type === T.running
        ? 'Running…'
        : s.type === T.error
          ? 'The query failed.'
          : `${count(s.rows.length)} ${s.rows.length === 1 ? 'row' : 'rows'} in ${formatMs(s.elapsedMs)}${s.truncated ? ` — truncated at ${count(s.rows.length)} rows` : ''}`;
  const view = pageOf(sorted.length, page, PAGE_SIZE);
  page = view.page;
  byId('page-label').textContent = results ? view.label : '';
  byId<HTMLButtonElement>('prev').disabled = !results || view.page === 0;
  byId<HTMLButtonElement>('next').disabled = !results || view.page >= view.pageCount - 1;
  if (!results) {
    replaceChildren(byId('grid'));
    return;
  }
  const idCol = results.canOpen ? idColumn(results.columns, results.rows) : undefined;
  const header = h(
    'tr',
    {},
    h('th', { scope: 'col' }, h('span', { class: 'muted' }, '#')),
    ...results.columns.map((c) => {
      const dir = sort?.column === c ? sort.direction : undefined;
      return h(
        'th',
        { scope: 'col', 'aria-sort': dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none' },
        h('button', { class: 'sort', 'data-column': c, title: `Sort by ${c}`, onClick: () => sortBy(c) }, c, dir === 'asc' ? ' ▲' : dir === 'desc' ? ' ▼' : ''),
      );
    }),
  );
  const body = sorted.slice(view.start, view.end).map((row, i) =>
    h(
      'tr',
      {},
      h('td', { class: 'row-number' }, view.start + i + 1),
      ...results.columns.map((c) => {
        const cell = cellView(row[c]);
        const value = row[c];
        const content =
          c === idCol && typeof value === 'string'
            ? h('button', { class: 'open-doc', title: `Open document ${value}`, onClick: () => vscode.post({ type: T.openDocument, docId: value }) }, cell.text)
            : cell.text;
        return h('td', { class: cell.kind, title: cell.title }, content);
      }),
    ),
  );
  replaceChildren(byId('grid'), h('thead', {}, header), h('tbody', {}, ...body));
}

function sortBy(column: string): void {
  if (state?.type !== T.results) return;
  sort = nextSort(sort, column);
  sorted = sortRows(state.rows, sort);
  page = 0;
  render();
  document.querySelector<HTMLButtonElement>(`button.sort[data-column="${CSS.escape(column)}"]`)?.focus();
}

function turn(delta: number): void {
  page += delta;
  render();
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function exportButton(format: ResultFormat, label: string): HTMLButtonElement {
  return h('button', { class: 'small secondary export', 'data-format': format, disabled: true, onClick: () => vscode.post({ type: T.export, format }) }, label);
}

function layout(): void {
  replaceChildren(
    byId('app'),
    h('pre', { id: 'query', class: 'query mono' }),
    h(
      'div',
      { class: 'toolbar' },
      h('span', { id: 'status', class: 'status', role: 'status' }),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted' }, 'Export:'),
      exportButton('csv', 'CSV'),
      exportButton('jsonl', 'JSON lines'),
      exportButton('json', 'JSON array'),
    ),
    h('div', { id: 'error', class: 'error-box', role: 'alert' }),
    h(
      'div',
      { class: 'toolbar' },
      h('button', { id: 'prev', class: 'small secondary', onClick: () => turn(-1) }, '‹ Prev'),
      h('button', { id: 'next', class: 'small secondary', onClick: () => turn(1) }, 'Next ›'),
      h('span', { id: 'page-label', class: 'status muted' }),
    ),
    h('div', { class: 'grid-scroll' }, h('table', { id: 'grid', class: 'grid' })),
  );
}

function probe(requestId: number, click: string | undefined): void {
  const target = click === undefined ? null : document.querySelector<HTMLButtonElement>(click);
  target?.click();
  vscode.post({
    type: T.probeResult,
    requestId,
    clicked: target !== null,
    headers: Array.from(document.querySelectorAll('#grid button.sort')).map((b) => (b as HTMLElement).dataset['column'] ?? ''),
    cells: Array.from(document.querySelectorAll('#grid tbody tr')).map((tr) =>
      Array.from(tr.querySelectorAll('td'))
        .slice(1)
        .map((td) => td.textContent ?? ''),
    ),
    pageLabel: byId('page-label').textContent ?? '',
    status: byId('status').textContent ?? '',
    error: byId('error').textContent ?? '',
  });
}

vscode.onMessage((m) => {
  if (m.type === T.probe) probe(m.requestId, m.click);
  else show(m);
});

layout();
render();
vscode.post({ type: T.ready });
