/**
 * Edit Replication…: the replication's settings as a menu of fields with their current values;
 * each field opens its own prompt, "Save changes" sends only what changed (UpdateReplication).
 */
import * as P from '../../server/rpc/protocol';
import { normalizePeerUrl, validatePeerUrl } from '../remote-peers';
import type { Services } from '../services';
import { DetailNode, typeLabel } from '../views/replications-view';
import { replicatorFrom } from './network-commands';
import { pick, type Picked } from './pickers';

type Field = 'target' | 'type' | 'continuous' | 'collections' | 'documentIds' | 'filter' | 'resolver' | 'save';

interface Draft {
  target: string;
  type: P.StartReplicationParams['type'];
  continuous: boolean;
  collections: readonly string[];
  documentIds: readonly string[];
  /** A channel-like field filter as typed: `channel: a, b` (empty: none). */
  filter: string;
  resolver: P.BuiltInResolverName | undefined;
  /** wss:// only: accept the peer's self-signed certificate (PeerSync and Couchbase Lite listeners present one). */
  selfSigned: boolean;
}

const RESOLVERS: readonly { name: P.BuiltInResolverName; description: string }[] = [
  { name: 'default', description: 'the revision with more edits wins (Couchbase Lite’s default)' },
  { name: 'localWins', description: 'this database’s revision wins' },
  { name: 'remoteWins', description: 'the peer’s revision wins' },
  { name: 'merge', description: 'merge both revisions’ properties' },
  { name: 'manual', description: 'keep the conflict for you to resolve' },
];

export const EDIT_TITLE = 'Edit Replication';

const list = (values: readonly string[], none: string): string => (values.length === 0 ? none : values.join(', '));
const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function draftOf(r: P.ReplicatorInfo): Draft {
  const p = r.params;
  return {
    target: p?.target ?? r.target,
    type: p?.type ?? r.type,
    continuous: p?.continuous ?? r.continuous,
    collections: p?.collections ?? [],
    documentIds: p?.documentIds ?? [],
    filter: p?.filterField ? `${p.filterField}: ${(p.filterValues ?? []).join(', ')}` : '',
    resolver: p?.resolver,
    selfSigned: p?.acceptOnlySelfSignedServerCertificate === true,
  };
}

/** `channel: a, b` as the server's filter settings; an empty filter removes it (an empty field name). */
export function fieldFilterChange(text: string): Partial<P.StartReplicationParams> {
  const at = text.indexOf(':');
  if (text.trim() === '' || at < 0) return { filterField: '', filterValues: [] };
  return { filterField: text.slice(0, at).trim(), filterValues: splitList(text.slice(at + 1)) };
}

/** Only the fields the user changed. */
export function changesBetween(before: Draft, after: Draft): Partial<P.StartReplicationParams> {
  return {
    ...(after.target !== before.target ? { target: after.target } : {}),
    ...(after.type !== before.type ? { type: after.type } : {}),
    ...(after.continuous !== before.continuous ? { continuous: after.continuous } : {}),
    ...(!sameList(after.collections, before.collections) ? { collections: after.collections } : {}),
    ...(!sameList(after.documentIds, before.documentIds) ? { documentIds: after.documentIds } : {}),
    ...(after.filter !== before.filter ? fieldFilterChange(after.filter) : {}),
    ...(after.resolver !== before.resolver && after.resolver !== undefined ? { resolver: after.resolver } : {}),
    ...(after.selfSigned !== before.selfSigned ? { acceptOnlySelfSignedServerCertificate: after.selfSigned } : {}),
  };
}

function menu(d: Draft, changed: number): Picked<Field>[] {
  return [
    { label: `Target: ${d.target}`, value: 'target' },
    { label: `Direction: ${typeLabel(d.type)}`, value: 'type' },
    { label: `Mode: ${d.continuous ? 'continuous' : 'one-shot'}`, value: 'continuous' },
    { label: `Collections: ${list(d.collections, 'all')}`, value: 'collections' },
    { label: `Document IDs: ${list(d.documentIds, 'all')}`, value: 'documentIds' },
    { label: `Field filter: ${d.filter || 'none'}`, value: 'filter' },
    { label: `Resolver: ${d.resolver ?? 'default'}`, value: 'resolver' },
    { label: '$(check) Save changes', description: changed === 0 ? 'nothing changed yet' : `${changed} ${changed === 1 ? 'change' : 'changes'}`, value: 'save' },
  ];
}

/** Asks for one field; a dismissed prompt leaves it as it was (the menu comes back). */
async function editField(s: Services, r: P.ReplicatorInfo, field: Exclude<Field, 'save'>, d: Draft): Promise<void> {
  const ui = s.ctx.ui;
  switch (field) {
    case 'target': {
      const v = await ui.showInputBox({ title: `${EDIT_TITLE}: target`, prompt: 'The peer’s database URL (ws:// or wss://)', value: d.target, validateInput: validatePeerUrl, ignoreFocusOut: true });
      if (v === undefined) return;
      d.target = normalizePeerUrl(v);
      // A new wss:// target without a trust decision would fail on a self-signed certificate: ask.
      const p = r.params;
      const trustChosen = p?.pinnedServerCertificate !== undefined || p?.trustedRootCertificatesFile !== undefined;
      if (d.target.startsWith('wss:') && !trustChosen) {
        const selfSigned = await pick(s, `${EDIT_TITLE}: server certificate`, [
          { label: 'Accept the peer’s self-signed certificate', description: 'PeerSync and Couchbase Lite listeners use one by default', value: true },
          { label: 'Verify with the system’s certificate authorities', value: false },
        ]);
        if (selfSigned !== undefined) d.selfSigned = selfSigned;
      }
      return;
    }
    case 'type': {
      const v = await pick(s, `${EDIT_TITLE}: direction`, [
        { label: 'Push and pull', description: 'both ways', value: 'pushAndPull' as const },
        { label: 'Push', description: 'send local changes to the peer', value: 'push' as const },
        { label: 'Pull', description: 'fetch the peer’s changes', value: 'pull' as const },
      ]);
      if (v !== undefined) d.type = v;
      return;
    }
    case 'continuous': {
      const v = await pick(s, `${EDIT_TITLE}: mode`, [
        { label: 'Continuous', description: 'keep in sync until stopped', value: true },
        { label: 'One-shot', description: 'catch up once, then stop', value: false },
      ]);
      if (v !== undefined) d.continuous = v;
      return;
    }
    case 'collections': {
      const known = (await s.ctx.request(P.ListDatabases)).find((db) => db.name === r.db)?.collections.map((c) => c.name) ?? [];
      const v = await ui.showInputBox({
        title: `${EDIT_TITLE}: collections`,
        prompt: `Collections to replicate, comma-separated (empty: all). In ${r.db}: ${known.join(', ')}`,
        value: d.collections.join(', '),
        ignoreFocusOut: true,
        validateInput: (text) => {
          const unknown = splitList(text).filter((c) => !known.includes(c));
          return unknown.length === 0 ? undefined : `Not a collection of ${r.db}: ${unknown.join(', ')}`;
        },
      });
      if (v !== undefined) d.collections = splitList(v);
      return;
    }
    case 'documentIds': {
      const v = await ui.showInputBox({
        title: `${EDIT_TITLE}: document IDs`,
        prompt: 'Only these documents, comma-separated (empty: every document)',
        value: d.documentIds.join(', '),
        placeHolder: 'order-1, order-2',
        ignoreFocusOut: true,
      });
      if (v !== undefined) d.documentIds = splitList(v);
      return;
    }
    case 'filter': {
      const v = await ui.showInputBox({
        title: `${EDIT_TITLE}: field filter`,
        prompt: 'Only documents whose field holds one of the values, like channels: field: value, value (empty: no filter)',
        value: d.filter,
        placeHolder: 'channel: kitchen, garden',
        ignoreFocusOut: true,
        validateInput: (text) => (text.trim() === '' || /^[^:,]+:\s*[^,\s]/.test(text) ? undefined : 'Write the field, a colon, then the values: channel: kitchen, garden'),
      });
      if (v !== undefined) d.filter = v.trim();
      return;
    }
    case 'resolver': {
      const v = await pick(
        s,
        `${EDIT_TITLE}: conflict resolver`,
        RESOLVERS.map((x) => ({ label: x.name, description: x.description, value: x.name })),
      );
      if (v !== undefined) d.resolver = v;
      return;
    }
  }
}

/** The password to send when the replication signs in: from secret storage, else asked for. */
async function passwordFor(s: Services, r: P.ReplicatorInfo, target: string): Promise<string | null | undefined> {
  if (r.username === undefined) return null;
  for (const url of [target, r.target]) {
    const saved = await s.credentials.get(url);
    if (saved?.username === r.username) return saved.password;
  }
  const password = await s.ctx.ui.showInputBox({ title: `${EDIT_TITLE}: password`, prompt: `Password for ${r.username} at ${target}`, password: true, ignoreFocusOut: true });
  if (password !== undefined) await s.credentials.store(target, { username: r.username, password });
  return password;
}

export async function editReplication(s: Services, arg?: unknown): Promise<P.ReplicatorInfo | undefined> {
  const chosen = await replicatorFrom(s, arg instanceof DetailNode ? arg.replicatorId : arg, EDIT_TITLE);
  if (!chosen) return undefined;
  // The tree item may predate an earlier edit: start from what the server has now.
  const r = await s.ctx.request(P.GetReplication, { id: chosen.id }).catch(() => chosen);
  const before = draftOf(r);
  const draft: Draft = { ...before };
  for (;;) {
    const changes = changesBetween(before, draft);
    const field = await pick(s, EDIT_TITLE, menu(draft, Object.keys(changes).length), `${r.db} ⇄ ${r.target}: choose a setting to change`);
    if (field === undefined) return undefined;
    if (field !== 'save') {
      await editField(s, r, field, draft);
      continue;
    }
    if (Object.keys(changes).length === 0) return r;
    const password = await passwordFor(s, r, draft.target);
    if (password === undefined) continue;
    const updated = await s.ctx.request(P.UpdateReplication, { id: r.id, changes, ...(password !== null ? { password } : {}) });
    if (changes.target !== undefined && !(await s.ctx.request(P.ListListeners)).some((l) => l.urls.includes(draft.target))) await s.peers.add(draft.target);
    s.ctx.log.info(`replicator ${r.id}: changed ${Object.keys(changes).join(', ')}`);
    return updated;
  }
}
