/**
 * The replication dashboard: every replicator and listener with live progress, a docs/s sparkline
 * over the last minute, pending counts, retry countdowns, last errors, and a "network tab" log of
 * replicated documents. State arrives from the panel as a snapshot and then coalesced updates.
 * Elements carry stable ids and data attributes (data-replicator-id, .completed, .total, …).
 */
import { explainReplicationError } from '../../extension/replication-reason';
import { byId, h, replaceChildren, s } from '../shared/dom';
import { messenger } from '../shared/vscode-api';
import {
  DashboardMessageType as T,
  type DashboardExtensionToWebview,
  type DashboardWebviewToExtension,
  type ListenerView,
  type LogEntryView,
  type ReplicatorActionMessage,
  type ReplicatorView,
} from './messages';
import { formatCountdown, RateWindow, sparklinePath } from './rate';
import './styles.css';

const vscode = messenger<DashboardWebviewToExtension, DashboardExtensionToWebview, Record<string, never>>();
const MAX_LOG_ROWS = 1000;
const SPARK_W = 120;
const SPARK_H = 24;

const replicators = new Map<string, ReplicatorView>();
const listeners = new Map<string, ListenerView>();
const rates = new Map<string, RateWindow>();
let serverRunning = true;

function rateFor(source: string): RateWindow {
  let r = rates.get(source);
  if (!r) rates.set(source, (r = new RateWindow(60)));
  return r;
}

function typeLabel(t: ReplicatorView['type']): string {
  return t === 'pushAndPull' ? 'push and pull' : t;
}

// ---- replicators ----

function replicatorCard(id: string): HTMLElement {
  const existing = document.querySelector<HTMLElement>(`article.replicator[data-replicator-id="${CSS.escape(id)}"]`);
  if (existing) return existing;
  const card = h(
    'article',
    { class: 'replicator card', 'data-replicator-id': id },
    h('div', { class: 'card-head' }, h('span', { class: 'activity' }), h('strong', { class: 'target mono' }), h('span', { class: 'details muted' }), h('span', { class: 'buttons' })),
    h(
      'div',
      { class: 'progress-row' },
      h('progress', { class: 'progress', max: 1, value: 0 }),
      h('span', { class: 'counts' }, h('span', { class: 'completed' }, 0), ' / ', h('span', { class: 'total' }, 0), h('span', { class: 'documents-word' }, ' documents')),
    ),
    h(
      'div',
      { class: 'stats' },
      h('span', { class: 'stat' }, h('span', { class: 'rate' }, '0'), ' docs/s'),
      s('svg', { class: 'sparkline', width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, 'aria-label': 'documents per second, last minute' }, s('path', { d: '' })),
      h('span', { class: 'stat muted' }, 'peak ', h('span', { class: 'peak' }, '0'), '/s in the last minute'),
      h('span', { class: 'stat pending-stat' }, 'pending ', h('span', { class: 'pending' }, '–')),
      h('span', { class: 'stat retry-stat' }, 'next retry ', h('span', { class: 'next-retry' })),
    ),
    h('div', { class: 'last-error error-text' }),
  );
  byId('replicators').append(card);
  return card;
}

function q<T extends Element>(root: Element, sel: string): T {
  return root.querySelector<T>(sel)!;
}

function renderReplicator(r: ReplicatorView): void {
  const card = replicatorCard(r.id);
  card.dataset['activity'] = r.activity;
  const act = q<HTMLElement>(card, '.activity');
  act.textContent = r.activity;
  act.className = `activity ${r.activity}`;
  q<HTMLElement>(card, '.target').textContent = r.target;
  q<HTMLElement>(card, '.details').textContent = `${r.db} · ${typeLabel(r.type)} · ${r.continuous ? 'continuous' : 'one-shot'}`;
  const progress = q<HTMLProgressElement>(card, '.progress');
  progress.max = Math.max(1, r.total);
  progress.value = Math.min(r.completed, Math.max(1, r.total));
  q<HTMLElement>(card, '.completed').textContent = String(r.completed);
  q<HTMLElement>(card, '.total').textContent = String(r.total);
  q<HTMLElement>(card, '.documents-word').textContent = r.total === 1 ? ' document' : ' documents';
  q<HTMLElement>(card, '.pending').textContent = r.pendingDocuments === undefined ? '–' : String(r.pendingDocuments);
  q<HTMLElement>(card, '.last-error').textContent = r.error ? `${r.error.transient ? 'Transient error' : 'Error'}: ${explainReplicationError(r.error.message)}` : '';
  const buttons = q<HTMLElement>(card, '.buttons');
  const want = r.activity === 'stopped' ? 'stopped' : 'running';
  if (buttons.dataset['for'] !== want) {
    buttons.dataset['for'] = want;
    const btn = (label: string, action: ReplicatorActionMessage['action']): HTMLButtonElement =>
      h('button', { class: `small secondary action-${action}`, onClick: () => vscode.post({ type: T.replicatorAction, id: r.id, action }) }, label);
    replaceChildren(buttons, ...(want === 'stopped' ? [btn('Start', 'start')] : [btn('Stop', 'stop'), btn('Restart', 'restart')]), btn('Edit…', 'edit'));
  }
  updateRetry(card, r);
}

function updateRetry(card: HTMLElement, r: ReplicatorView): void {
  const retry = q<HTMLElement>(card, '.retry-stat');
  const show = r.activity === 'offline' && r.nextAttemptAt !== undefined;
  retry.hidden = !show;
  q<HTMLElement>(card, '.next-retry').textContent = show ? formatCountdown(r.nextAttemptAt!, Date.now()) : '';
}

function removeReplicator(id: string): void {
  replicators.delete(id);
  document.querySelector(`article.replicator[data-replicator-id="${CSS.escape(id)}"]`)?.remove();
}

// ---- listeners ----

function renderListener(l: ListenerView): void {
  let card = document.querySelector<HTMLElement>(`article.listener[data-listener-id="${CSS.escape(l.id)}"]`);
  if (!card) {
    card = h(
      'article',
      { class: 'listener card', 'data-listener-id': l.id },
      h('div', { class: 'card-head' }, h('span', { class: 'state' }), h('strong', { class: 'urls mono' }), h('span', { class: 'details muted' })),
      h(
        'div',
        { class: 'stats' },
        h('span', { class: 'stat' }, h('span', { class: 'connections' }, 0), h('span', { class: 'connections-word' }, ' connections'), ' (', h('span', { class: 'active-connections' }, 0), ' active)'),
        h('span', { class: 'stat' }, h('span', { class: 'rate' }, '0'), ' docs/s'),
        s('svg', { class: 'sparkline', width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, 'aria-label': 'documents per second, last minute' }, s('path', { d: '' })),
        h('span', { class: 'stat muted' }, 'peak ', h('span', { class: 'peak' }, '0'), '/s in the last minute'),
      ),
      h('ul', { class: 'clients' }),
    );
    byId('listeners').append(card);
  }
  card.dataset['state'] = l.state;
  const state = q<HTMLElement>(card, '.state');
  state.textContent = l.state;
  state.className = `state ${l.state}`;
  q<HTMLElement>(card, '.urls').textContent = l.urls.join('  ') || `port ${l.port}`;
  q<HTMLElement>(card, '.details').textContent = `${l.db} · port ${l.port} · TLS ${l.tls ? 'on' : 'off'}${l.readOnly ? ' · read-only' : ''}`;
  q<HTMLElement>(card, '.connections').textContent = String(l.connectionCount);
  q<HTMLElement>(card, '.connections-word').textContent = l.connectionCount === 1 ? ' connection' : ' connections';
  q<HTMLElement>(card, '.active-connections').textContent = String(l.activeConnectionCount);
  replaceChildren(
    q<HTMLElement>(card, '.clients'),
    ...l.clients.map((c) =>
      h('li', { class: 'client' }, h('span', { class: 'mono' }, c.remoteAddress), ` connected ${new Date(c.connectedAt).toLocaleTimeString()}`, c.busy ? h('span', { class: 'badge' }, 'busy') : null),
    ),
  );
}

function removeListener(id: string): void {
  listeners.delete(id);
  document.querySelector(`article.listener[data-listener-id="${CSS.escape(id)}"]`)?.remove();
}

// ---- log ----

/** A log entry's source as the user knows it: the replicator's peer, or the listener's port. */
function sourceLabel(source: string): string {
  const r = replicators.get(source);
  if (r) {
    try {
      const u = new URL(r.target);
      return `⇄ ${u.host}${u.pathname}`;
    } catch {
      return r.target;
    }
  }
  const l = listeners.get(source);
  return l ? `listener :${l.port}` : source;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function timeOf(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Column classes (the stylesheet sizes them, and hides some when the panel is narrow) and titles. */
const LOG_COLUMNS = [
  ['time', 'Time'],
  ['source', 'Source'],
  ['direction', 'Direction'],
  ['collection', 'Collection'],
  ['doc', 'Document'],
  ['rev', 'Revision'],
  ['status', 'Result'],
] as const;

function appendLog(entries: readonly LogEntryView[]): void {
  const scroller = byId('log-scroll');
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 24;
  const body = byId('log-body');
  for (const e of entries) {
    rateFor(e.source).add(e.time);
    const status = e.error ? e.error : e.skipped ? 'skipped' : 'ok';
    body.append(
      h(
        'tr',
        { class: `log-entry${e.error ? ' error' : ''}${e.skipped ? ' skipped' : ''}`, 'data-doc-id': e.docId, 'data-source': e.source },
        h('td', { class: 'time mono' }, timeOf(e.time)),
        h('td', { class: 'source', title: e.source }, sourceLabel(e.source)),
        h('td', { class: `direction ${e.direction}` }, e.direction === 'push' ? '↑ push' : '↓ pull'),
        h('td', { class: 'collection', title: e.collection }, e.collection),
        h(
          'td',
          { class: 'doc', title: e.docId },
          h(
            'a',
            {
              href: '#',
              title: 'Open document',
              onClick: (ev: Event) => {
                ev.preventDefault();
                vscode.post({ type: T.openDocument, source: e.source, collection: e.collection, docId: e.docId });
              },
            },
            e.docId,
          ),
        ),
        h('td', { class: 'rev mono', title: e.revId }, e.revId),
        h('td', { class: 'status', title: status }, status),
      ),
    );
  }
  while (body.childElementCount > MAX_LOG_ROWS) body.firstElementChild!.remove();
  byId('log-count').textContent = String(body.childElementCount);
  if (atBottom) scroller.scrollTop = scroller.scrollHeight;
}

// ---- periodic: sparklines and countdowns ----

function tick(): void {
  const now = Date.now();
  for (const card of Array.from(document.querySelectorAll<HTMLElement>('article.card'))) {
    const id = card.dataset['replicatorId'] ?? card.dataset['listenerId'];
    if (!id) continue;
    const w = rateFor(id);
    const series = w.series(now);
    q<SVGPathElement>(card, '.sparkline path').setAttribute('d', sparklinePath(series, SPARK_W, SPARK_H));
    q<HTMLElement>(card, '.peak').textContent = String(Math.max(0, ...series));
    q<HTMLElement>(card, '.rate').textContent = formatRate(w.perSecond(now, 10));
    const r = card.dataset['replicatorId'] ? replicators.get(id) : undefined;
    if (r) updateRetry(card, r);
  }
}

function formatRate(v: number): string {
  return v === 0 ? '0' : v < 10 ? v.toFixed(1) : String(Math.round(v));
}

function renderEmptyStates(): void {
  byId('replicators-empty').hidden = replicators.size > 0;
  byId('listeners-empty').hidden = listeners.size > 0;
  const banner = byId('server-state');
  banner.hidden = serverRunning;
  banner.textContent = serverRunning ? '' : 'PeerSync server is not running: the numbers below are the last ones it reported.';
}

function layout(): void {
  replaceChildren(
    byId('app'),
    h('header', {}, h('h1', {}, 'Replication dashboard'), h('p', { id: 'server-state', class: 'banner error-text', hidden: true })),
    h(
      'section',
      {},
      h('h2', {}, 'Replicators'),
      h('p', { id: 'replicators-empty', class: 'muted' }, 'No replicators. Start one with “PeerSync: Start Replication”.'),
      h('div', { id: 'replicators', class: 'cards' }),
    ),
    h(
      'section',
      {},
      h('h2', {}, 'Listeners'),
      h('p', { id: 'listeners-empty', class: 'muted' }, 'No listeners. Start one with “PeerSync: Start Listener”.'),
      h('div', { id: 'listeners', class: 'cards' }),
    ),
    h(
      'section',
      {},
      h(
        'h2',
        {},
        'Log ',
        h('span', { class: 'muted' }, '(', h('span', { id: 'log-count' }, 0), ' documents)'),
        ' ',
        h(
          'button',
          {
            class: 'small secondary',
            id: 'clear-log',
            onClick: () => {
              replaceChildren(byId('log-body'));
              byId('log-count').textContent = '0';
            },
          },
          'Clear',
        ),
      ),
      h(
        'div',
        { id: 'log-scroll', class: 'log-scroll' },
        h('table', { id: 'log' }, h('thead', {}, h('tr', {}, ...LOG_COLUMNS.map(([cls, t]) => h('th', { class: cls }, t)))), h('tbody', { id: 'log-body' })),
      ),
    ),
  );
}

function probe(requestId: number): void {
  const num = (el: Element | null): number => Number(el?.textContent ?? 'NaN');
  vscode.post({
    type: T.probeResult,
    requestId,
    replicators: Array.from(document.querySelectorAll<HTMLElement>('article.replicator')).map((c) => ({
      id: c.dataset['replicatorId'] ?? '',
      activity: c.querySelector('.activity')?.textContent ?? '',
      completed: num(c.querySelector('.completed')),
      total: num(c.querySelector('.total')),
      pending: c.querySelector('.pending')?.textContent ?? '',
      rate: c.querySelector('.rate')?.textContent ?? '',
    })),
    listeners: Array.from(document.querySelectorAll<HTMLElement>('article.listener')).map((c) => ({
      id: c.dataset['listenerId'] ?? '',
      state: c.querySelector('.state')?.textContent ?? '',
      connections: num(c.querySelector('.connections')),
    })),
    logRows: document.querySelectorAll('#log-body tr').length,
  });
}

vscode.onMessage((m) => {
  switch (m.type) {
    case T.snapshot: {
      serverRunning = m.serverRunning;
      for (const id of [...replicators.keys()]) if (!m.replicators.some((r) => r.id === id)) removeReplicator(id);
      for (const id of [...listeners.keys()]) if (!m.listeners.some((l) => l.id === id)) removeListener(id);
      for (const r of m.replicators) {
        replicators.set(r.id, r);
        renderReplicator(r);
      }
      for (const l of m.listeners) {
        listeners.set(l.id, l);
        renderListener(l);
      }
      appendLog(m.log);
      break;
    }
    case T.update: {
      serverRunning = m.serverRunning;
      for (const id of m.removedReplicators) removeReplicator(id);
      for (const r of m.replicators) {
        replicators.set(r.id, r);
        renderReplicator(r);
      }
      for (const l of m.listeners) {
        if (l.state === 'stopped') removeListener(l.id);
        else {
          listeners.set(l.id, l);
          renderListener(l);
        }
      }
      appendLog(m.log);
      break;
    }
    case T.probe:
      probe(m.requestId);
      return;
  }
  renderEmptyStates();
  tick();
});

layout();
renderEmptyStates();
setInterval(tick, 1000);
vscode.post({ type: T.ready });
