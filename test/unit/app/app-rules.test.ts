/**
 * The application layer's rules, in process: what a front end may ask for and what it gets back.
 * The CLI and the RPC server only translate to and from these calls.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isAppError } from '../../../server/app/app-error';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import { CONFIG_FILE } from '../../../server/app/app-config';
import type * as P from '../../../server/rpc/protocol';
import { tempDir } from '../../helpers/temp-dir';
import { withTimeout } from '../../helpers/wait';

function newApp(t: TestContext, dataFolder = tempDir(t)): PeerSyncApp {
  const app = new PeerSyncApp({ dataFolder });
  t.after(() => app.shutdown());
  return app;
}

function code(c: string): (e: unknown) => boolean {
  return (e) => isAppError(e) && e.code === c;
}

test('listener rules: TLS-only options need TLS, one authenticator, files that exist and hold what they should', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('rules');
  const start = (p: Partial<P.StartListenerParams>): Promise<P.ListenerInfo> => app.listeners.start({ db: db.name, port: 0, networkInterface: '127.0.0.1', persist: false, ...p });
  await assert.rejects(start({ tls: false, identityLabel: 'x' }), code('INVALID'));
  await assert.rejects(start({ tls: false, clientCaFile: '/x.pem' }), code('INVALID'));
  await assert.rejects(start({ usersFile: '/a', clientCaFile: '/b' }), /choose one authenticator/);
  await assert.rejects(start({ usersFile: 'relative.json' }), /absolute path/);
  await assert.rejects(start({ usersFile: join(db.path, 'missing.json') }), code('NOT_FOUND'));
  const empty = join(tempDir(t), 'empty.pem');
  writeFileSync(empty, '');
  await assert.rejects(start({ clientCaFile: empty }), /holds no PEM certificate/);
  await assert.rejects(start({ port: 70000 }), /0–65535/);
  await assert.rejects(start({ idleTimeoutSeconds: 1 }), /at least 2/);
  await assert.rejects(start({ identityLabel: 'nobody' }), code('NOT_FOUND'));
  assert.deepEqual(app.listeners.list(), [], 'nothing half-started');
});

test('replication rules: credentials never in a URL, one way to sign in, and settings kept without the password', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('rules');
  const base = { db: db.name, type: 'push' as const, continuous: false, paused: true };
  await assert.rejects(app.replications.start({ ...base, target: 'ws://bob:secret@127.0.0.1:1/x' }), (e: unknown) => isAppError(e, 'INVALID') && !e.message.includes('secret'));
  await assert.rejects(app.replications.start({ ...base, target: 'not a url' }), code('INVALID'));
  await assert.rejects(app.replications.start({ ...base, target: 'ws://127.0.0.1:1/x', username: 'u', clientIdentityLabel: 'c' }), /choose one way to sign in/);
  await assert.rejects(app.replications.start({ ...base, target: 'ws://127.0.0.1:1/x', resolver: 'nope' as P.BuiltInResolverName }), /unknown resolver/);
  await assert.rejects(app.replications.start({ ...base, target: 'ws://127.0.0.1:1/x', db: 'missing' }), code('NOT_FOUND'));

  const info = await app.replications.start({ ...base, target: 'ws://127.0.0.1:1/x', username: 'alice', password: 'hunter2', documentIds: ['a', 'b'] });
  assert.equal(info.activity, 'stopped', 'paused: registered, not started');
  assert.equal(info.username, 'alice');
  assert.deepEqual(info.params?.documentIds, ['a', 'b']);
  assert.equal(JSON.stringify(info).includes('hunter2'), false);
  const saved = readFileSync(join(app.databases.dataFolder!, CONFIG_FILE), 'utf8');
  assert.match(saved, /alice/);
  assert.equal(saved.includes('hunter2'), false, 'the password is never written');
});

test('server events: what changed is announced, whoever asked', async (t) => {
  const app = newApp(t);
  const events: P.ServerEventParams[] = [];
  app.events.on('serverEvent', (e) => events.push(e));
  const db = await app.databases.open('events');
  app.databases.createCollection(db.name, 'store.items');
  const l = await app.listeners.start({ db: db.name, port: 0, networkInterface: '127.0.0.1', tls: false });
  const r = await app.replications.start({ db: db.name, target: `ws://127.0.0.1:${l.port}/events`, type: 'push', continuous: false, paused: true });
  await app.replications.remove(r.id);
  await app.listeners.stop(l.id);
  app.peers.add({ url: 'ws://127.0.0.1:4984/other/' });
  assert.deepEqual(
    events.map((e) => e.kind),
    ['databaseOpened', 'collectionCreated', 'listenerStarted', 'replicationAdded', 'replicationRemoved', 'listenerStopped', 'peersChanged'],
  );
  const peers = events.at(-1);
  assert.ok(peers?.kind === 'peersChanged');
  assert.deepEqual(peers.peers, [{ url: 'ws://127.0.0.1:4984/other' }], 'the URL is normalised');
});

test('conflicts changing is announced once the burst of changes settles', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('c');
  const coll = db.defaultCollection;
  const seen = new Promise<P.ServerEventParams>((resolve) => app.events.on('serverEvent', (e) => e.kind === 'conflictsChanged' && resolve(e)));
  const first = coll.save({ id: 'doc', body: { v: 0 } });
  coll.save({ id: 'doc', revId: first.revId, body: { v: 'mine' } });
  // A peer's edit of the same parent: a second branch, kept as a conflict.
  coll.insertRevisionWithHistory({ id: 'doc', body: { v: 'theirs' } }, ['2-ffff', first.revId]);
  const e = await withTimeout(seen, 'the conflictsChanged event');
  assert.deepEqual(e, { kind: 'conflictsChanged', db: 'c', collection: '_default._default' });
  assert.deepEqual(
    app.documents.listConflicts({ db: 'c' }).map((x) => x.docId),
    ['doc'],
  );
});

test('peers: a pinned certificate must match its fingerprint; peers are saved and survive a restart', async (t) => {
  const folder = tempDir(t);
  const app = newApp(t, folder);
  assert.throws(() => app.peers.add({ url: 'http://x/y' }), /ws:\/\/ or wss:\/\//);
  assert.throws(() => app.peers.add({ url: 'ws://a:b@x:1/y' }), /user name and password/);
  assert.throws(() => app.peers.add({ url: 'ws://x:1' }), /names the remote database/);
  assert.throws(() => app.peers.add({ url: 'wss://x:1/y', pinnedCertificate: 'nonsense' }), code('INVALID'));
  app.peers.add({ url: 'ws://127.0.0.1:4984/inventory' });
  await app.shutdown();
  const again = newApp(t, folder);
  assert.deepEqual(again.peers.list(), [{ url: 'ws://127.0.0.1:4984/inventory' }]);
  again.peers.remove('ws://127.0.0.1:4984/inventory/');
  assert.deepEqual(again.peers.list(), []);
});

test('an unreadable configuration is set aside and the server starts empty', async (t) => {
  const folder = tempDir(t);
  writeFileSync(join(folder, CONFIG_FILE), '{ not json');
  const app = newApp(t, folder);
  assert.deepEqual(app.peers.list(), []);
  app.peers.add({ url: 'ws://127.0.0.1:1/x' });
  assert.equal(JSON.parse(readFileSync(join(folder, CONFIG_FILE), 'utf8')).peers.length, 1);
});

test('import batches are bounded and land whole; export pages carry _id and _rev first', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('io');
  const coll = '_default._default';
  assert.throws(() => app.documents.importBatch({ db: 'io', collection: coll, records: Array.from({ length: 10_001 }, () => ({})) }), code('TOO_LARGE'));
  assert.throws(() => app.documents.importBatch({ db: 'io', collection: coll, records: [{ _id: 'ok' }, { _id: '_bad' }] }), /./);
  assert.equal(db.defaultCollection.count(), 0, 'a batch with a bad record saves nothing');
  assert.deepEqual(app.documents.importBatch({ db: 'io', collection: coll, records: [{ _id: 'a', _rev: 'ignored', n: 1 }, { n: 2 }] }), { imported: 2 });
  const page = app.documents.exportPage({ db: 'io', collection: coll, limit: 10 });
  assert.equal(page.total, 2);
  const a = page.records.find((r) => r._id === 'a')!;
  assert.deepEqual(Object.keys(a), ['_id', '_rev', 'n']);
  assert.notEqual(a._rev, 'ignored');
});

test('databases: names are checked, a taken name from another folder is refused, exclusive create refuses a used folder', async (t) => {
  const app = newApp(t);
  await assert.rejects(app.databases.open('../escape'), code('INVALID'));
  await assert.rejects(app.databases.open('_hidden'), code('INVALID'));
  const db = await app.databases.open('same');
  await assert.rejects(app.databases.openPath(join(tempDir(t), 'same')), code('EXISTS'));
  await assert.rejects(app.databases.open('same', { exclusive: true }), code('EXISTS'));
  assert.equal(await app.databases.open('same'), db, 'opening again returns the open database');
  await assert.rejects(app.databases.openPath(join(tempDir(t), 'missing'), { create: false }), code('NOT_FOUND'));
});

test('saving a document unchanged makes no revision (nothing to replicate); a real edit does', async (t) => {
  const app = newApp(t);
  await app.databases.open('s');
  const ref = { db: 's', collection: '_default._default', docId: 'd' };
  const first = app.documents.save({ ...ref, baseRevId: null, body: { a: 1, b: [1, 2] } });
  const again = app.documents.save({ ...ref, baseRevId: first.revId, body: { b: [1, 2], a: 1 } });
  assert.equal(again.revId, first.revId, 'same content, key order aside: same revision');
  assert.equal(again.sequence, first.sequence);
  const edited = app.documents.save({ ...ref, baseRevId: first.revId, body: { a: 2, b: [1, 2] } });
  assert.notEqual(edited.revId, first.revId);
  assert.throws(() => app.documents.save({ ...ref, baseRevId: first.revId, body: { a: 2, b: [1, 2] } }), code('CONFLICT'), 'a stale base is still a conflict, even with equal content');
});

test('database management: refresh opens folders added on disk; close keeps saved listeners for next time; delete removes everything', async (t) => {
  const folder = tempDir(t);
  const app = newApp(t, folder);
  const other = new PeerSyncApp({ dataFolder: folder, persistConfiguration: false });
  await other.databases.open('copied');
  await other.shutdown();
  const refreshed = await app.databases.openAllInDataFolder();
  assert.deepEqual(refreshed.opened, ['copied']);

  const db = await app.databases.open('work');
  app.databases.createCollection('work', 'store.items');
  assert.throws(() => app.databases.deleteCollection('work', '_default'), /cannot be deleted/);
  app.databases.deleteCollection('work', 'store.items');
  assert.deepEqual(
    db.collections().map((c) => c.fullName),
    ['_default._default'],
  );

  const l = await app.listeners.start({ db: 'work', port: 0, networkInterface: '127.0.0.1', tls: false });
  await app.closeDatabase('work');
  assert.deepEqual(app.listeners.list(), []);
  await app.databases.open('work');
  assert.equal(app.listeners.list()[0]?.id, l.id, 'reopening brings the saved listener back');

  await app.deleteDatabase('work');
  assert.equal(existsSync(db.path), false, 'the folder is gone');
  assert.deepEqual(app.listeners.list(), []);
  assert.equal(readFileSync(join(folder, CONFIG_FILE), 'utf8').includes(l.id), false, 'and so is its saved listener');
});

test('a free port is proposed: the preferred one when free, the next free one when a listener holds it', async (t) => {
  const app = newApp(t);
  await app.databases.open('p');
  const l = await app.listeners.start({ db: 'p', port: 0, networkInterface: '127.0.0.1', tls: false, persist: false });
  const proposed = await app.listeners.freePort(l.port, '127.0.0.1');
  assert.notEqual(proposed, l.port, 'the taken port is not proposed');
  const again = await app.listeners.start({ db: 'p', port: proposed, networkInterface: '127.0.0.1', tls: false, persist: false });
  assert.equal(again.port, proposed, 'the proposed port can be used');
});

test('listing by ID prefix pages through exactly the matching documents', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('pre');
  for (const id of ['a', 'ab', 'abc', 'abd', 'b', 'ab%', 'a_b']) db.defaultCollection.save({ id, body: {} });
  const ids = (prefix: string, after?: string, limit = 10): string[] => app.documents.list({ db: 'pre', collection: '_default', prefix, limit, ...(after ? { after } : {}) }).docs.map((d) => d.id);
  assert.deepEqual(ids('ab'), ['ab', 'ab%', 'abc', 'abd']);
  assert.deepEqual(ids('ab', undefined, 2), ['ab', 'ab%']);
  assert.deepEqual(ids('ab', 'ab%', 2), ['abc', 'abd'], 'the next page');
  assert.deepEqual(ids('a_'), ['a_b'], 'no LIKE wildcards');
  assert.deepEqual(ids(''), ['a', 'a_b', 'ab', 'ab%', 'abc', 'abd', 'b']);
});

test('a collection schema is enforced on saves and imports, with every problem located; replication is not affected', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('sch');
  const where = { db: 'sch', collection: '_default' };
  assert.throws(() => app.schemas.set({ ...where, schema: { type: 'nope' } }), code('INVALID'));
  app.schemas.set({
    ...where,
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, list: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } } } } } },
  });
  const ref = { db: 'sch', collection: '_default._default', docId: 'd' };
  assert.throws(
    () => app.documents.save({ ...ref, baseRevId: null, body: { list: [{ qty: 'many' }] } }),
    (e: unknown) => {
      assert.ok(isAppError(e, 'INVALID'));
      const problems = (e.data as P.SchemaErrorData).schemaErrors;
      assert.deepEqual(problems.map((x) => x.segments).sort(), [[], ['list', '0', 'qty']]);
      assert.ok(problems.some((x) => x.missingProperty === 'name'));
      return true;
    },
  );
  assert.equal(db.defaultCollection.count(), 0, 'nothing saved');
  assert.throws(() => app.documents.importBatch({ db: 'sch', collection: '_default', records: [{ _id: 'ok', name: 'a' }, { _id: 'bad' }] }), code('INVALID'));
  assert.equal(db.defaultCollection.count(), 0, 'a batch with one bad record saves nothing');
  app.documents.save({ ...ref, baseRevId: null, body: { name: 'fine', list: [{ qty: 3 }] } });
  assert.deepEqual(
    app.schemas.problems(db, '_default', { name: 1 }).map((x) => x.path),
    ['name'],
  );
  db.defaultCollection.insertRevisionWithHistory({ id: 'from-peer', body: { anything: true } }, ['1-abcd']);
  assert.ok(db.defaultCollection.get('from-peer'), 'a replicated revision is the peer’s data: not refused');
  app.schemas.set({ ...where, schema: null });
  assert.equal(app.schemas.get(where), null);
  app.documents.save({ ...ref, docId: 'free', baseRevId: null, body: { whatever: 1 } });
});

test('a replication is edited in place: new settings, same ID, saved; bad settings leave it as it was', async (t) => {
  const folder = tempDir(t);
  const app = newApp(t, folder);
  await app.databases.open('e');
  const r = await app.replications.start({ db: 'e', target: 'ws://127.0.0.1:1/a', type: 'push', continuous: true, paused: true });
  await assert.rejects(app.replications.update(r.id, { target: 'ws://u:p@127.0.0.1:1/a' }), code('INVALID'));
  assert.equal(app.replications.info(r.id).target, 'ws://127.0.0.1:1/a');
  const updated = await app.replications.update(r.id, { target: 'ws://127.0.0.1:2/b', type: 'pushAndPull', resolver: 'manual', documentIds: ['x'] });
  assert.equal(updated.id, r.id);
  assert.equal(updated.target, 'ws://127.0.0.1:2/b');
  assert.equal(updated.params?.resolver, 'manual');
  assert.equal(updated.activity, 'stopped', 'a paused replication stays paused');
  const saved = JSON.parse(readFileSync(join(folder, CONFIG_FILE), 'utf8')) as { replications: { id: string; params: P.StartReplicationParams }[] };
  assert.deepEqual(saved.replications.find((x) => x.id === r.id)?.params.documentIds, ['x']);
});

test('listing by a field condition pages in ID order; a condition cannot change what is selected; errors are located', async (t) => {
  const app = newApp(t);
  const db = await app.databases.open('where');
  const coll = db.defaultCollection;
  for (let i = 0; i < 30; i++) coll.save({ id: `d${String(i).padStart(2, '0')}`, body: { type: i % 3 === 0 ? 'list' : 'task', qty: i } });
  coll.delete('d03');
  const page = (where: string, after?: string, limit = 4): string[] => app.documents.list({ db: 'where', collection: '_default', where, limit, ...(after ? { after } : {}) }).docs.map((d) => d.id);
  assert.deepEqual(page("type = 'list' AND qty > 2"), ['d06', 'd09', 'd12', 'd15'], 'deleted d03 is not listed');
  assert.deepEqual(page("type = 'list' AND qty > 2", 'd15'), ['d18', 'd21', 'd24', 'd27']);
  assert.throws(
    () => page('qty > 2 ORDER BY qty DESC'),
    (e: unknown) => isAppError(e, 'INVALID') && /one condition/.test(e.message),
  );
  assert.throws(() => page("type = 'list') OR (1 = 1"), code('INVALID'));
  assert.throws(
    () => page('qty >'),
    (e: unknown) => isAppError(e, 'INVALID') && (e.data as P.QueryErrorData).column === 6,
  );
  assert.equal(coll.count(), 29, 'nothing written');
});

test('a field filter is part of a replication’s settings: set, checked, edited away with an empty field', async (t) => {
  const app = newApp(t);
  await app.databases.open('f');
  const base = { db: 'f', target: 'ws://127.0.0.1:1/x', type: 'pull' as const, continuous: true, paused: true };
  await assert.rejects(app.replications.start({ ...base, filterValues: ['a'] }), /need a filterField/);
  const r = await app.replications.start({ ...base, filterField: 'channel', filterValues: ['a', 'b'] });
  assert.deepEqual([r.params?.filterField, r.params?.filterValues], ['channel', ['a', 'b']]);
  const cleared = await app.replications.update(r.id, { filterField: '', filterValues: [] });
  assert.equal(cleared.params?.filterField, undefined);
  assert.equal(cleared.params?.filterValues, undefined);
});

test('a listener’s failed sign-in limits are options; bad values are refused', async (t) => {
  const app = newApp(t);
  await app.databases.open('lim');
  await assert.rejects(app.listeners.start({ db: 'lim', port: 0, networkInterface: '127.0.0.1', tls: false, persist: false, maxFailedLogins: 0 }), /failed sign-in limit must be a positive integer/);
  const l = await app.listeners.start({ db: 'lim', port: 0, networkInterface: '127.0.0.1', tls: false, persist: false, maxFailedLogins: 3, maxFailedLoginsPerAddress: 7 });
  const limiter = app.listeners.listener(l.id).config.attemptLimiter;
  assert.deepEqual([limiter?.limits.maxFailures, limiter?.limits.maxFailuresPerAddress], [3, 7]);
});
