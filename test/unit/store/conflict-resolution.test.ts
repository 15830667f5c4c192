import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { canonicalJson, computeRevId, defaultResolver, localWins, mergeResolver, remoteWins, type Collection, type Conflict, type JsonObject, type RevId } from '../../../server/store';
import { openTempDb } from '../../helpers/open-db';

/** Builds a conflict: base → local edit(s) here, and a remote branch from base arriving by replication. */
async function conflicted(
  t: TestContext,
  opts: { local?: JsonObject | 'deleted'; remote?: JsonObject | 'deleted'; localEdits?: number; remoteEdits?: number } = {},
): Promise<{ c: Collection; base: RevId; localRev: RevId; remoteRev: RevId }> {
  const { db } = await openTempDb(t);
  const c = db.defaultCollection;
  const base = c.save({ id: 'doc', body: { v: 'base', shared: 0 } }).revId;
  let localRev: RevId = base;
  const localEdits = opts.localEdits ?? 1;
  for (let i = 0; i < localEdits; i++) {
    const last = i === localEdits - 1;
    if (last && opts.local === 'deleted') localRev = c.delete('doc', { revId: localRev }).revId;
    else localRev = c.save({ id: 'doc', revId: localRev, body: last && opts.local && opts.local !== 'deleted' ? opts.local : { v: 'local', i } }).revId;
  }
  const history: RevId[] = [base];
  const remoteEdits = opts.remoteEdits ?? 1;
  let body: JsonObject = {};
  let deleted = false;
  for (let i = 0; i < remoteEdits; i++) {
    const last = i === remoteEdits - 1;
    deleted = last && opts.remote === 'deleted';
    body = deleted ? {} : last && opts.remote && opts.remote !== 'deleted' ? opts.remote : { v: 'remote', i };
    history.unshift(computeRevId(history[0]!, deleted, canonicalJson(body)));
  }
  c.insertRevisionWithHistory({ id: 'doc', body, deleted }, history);
  assert.equal(c.get('doc', { includeDeleted: true })?.conflicted, true);
  return { c, base, localRev, remoteRev: history[0]! };
}

function conflictOf(c: Collection): Conflict {
  const conflict = c.getConflict('doc');
  assert.ok(conflict, 'document should be in conflict');
  return conflict;
}

test('default resolver: a deletion wins', async (t) => {
  const { c, remoteRev } = await conflicted(t, { remote: 'deleted', localEdits: 3 });
  assert.deepEqual(await defaultResolver.resolve(conflictOf(c)), { winner: remoteRev });
  const { c: c2, localRev } = await conflicted(t, { local: 'deleted', remoteEdits: 3 });
  assert.deepEqual(await defaultResolver.resolve(conflictOf(c2)), { winner: localRev });
});

test('default resolver: otherwise the higher generation, then the larger revision ID', async (t) => {
  const a = await conflicted(t, { localEdits: 1, remoteEdits: 3 });
  assert.deepEqual(await defaultResolver.resolve(conflictOf(a.c)), { winner: a.remoteRev });
  const b = await conflicted(t, { localEdits: 4, remoteEdits: 2 });
  assert.deepEqual(await defaultResolver.resolve(conflictOf(b.c)), { winner: b.localRev });
  const tie = await conflicted(t, { localEdits: 2, remoteEdits: 2 });
  const larger = tie.localRev > tie.remoteRev ? tie.localRev : tie.remoteRev;
  assert.deepEqual(await defaultResolver.resolve(conflictOf(tie.c)), { winner: larger });
});

test('remote wins: the remote revision becomes current and the local branch is closed', async (t) => {
  const { c, remoteRev, localRev } = await conflicted(t);
  const doc = await c.resolveWith('doc', remoteWins);
  assert.equal(doc?.revId, remoteRev);
  assert.deepEqual(c.get('doc')?.body, { v: 'remote', i: 0 });
  assert.equal(c.get('doc')?.conflicted, false);
  assert.deepEqual(c.conflicts(), []);
  const tree = c.getRevisionHistory('doc')!;
  const localTomb = tree.find((r) => r.parentRevId === localRev);
  assert.ok(localTomb?.deleted && localTomb.leaf, 'the losing branch ends in a tombstone');
});

test('local wins: a new revision on the remote branch carries the local body, so a push is not a conflict', async (t) => {
  const { c, remoteRev } = await conflicted(t, { local: { v: 'mine' } });
  const doc = await c.resolveWith('doc', localWins);
  assert.deepEqual(doc?.body, { v: 'mine' });
  assert.deepEqual(c.getAncestry('doc')?.slice(1, 2), [remoteRev], 'the resolution descends from the remote revision');
  assert.equal(c.get('doc')?.conflicted, false);
});

test('merge resolver: shallow merge with the preferred side winning shared keys; a deletion still wins', async (t) => {
  const { c, remoteRev } = await conflicted(t, { local: { a: 1, shared: 'L' }, remote: { b: 2, shared: 'R' } });
  const doc = await c.resolveWith('doc', mergeResolver('remote'));
  assert.deepEqual(doc?.body, { a: 1, b: 2, shared: 'R' });
  assert.equal(c.getAncestry('doc')?.[1], remoteRev);

  const other = await conflicted(t, { local: { a: 1, shared: 'L' }, remote: { b: 2, shared: 'R' } });
  assert.deepEqual((await other.c.resolveWith('doc', mergeResolver('local')))?.body, { a: 1, b: 2, shared: 'L' });

  const del = await conflicted(t, { remote: 'deleted' });
  const resolved = await del.c.resolveWith('doc', mergeResolver());
  assert.equal(resolved?.deleted, true);
  assert.equal(del.c.get('doc'), undefined);
});

test('custom resolver functions may return a body, null (delete) or a resolution', async (t) => {
  const a = await conflicted(t);
  const seen: Conflict[] = [];
  const doc = await a.c.resolveWith('doc', async (conflict) => {
    seen.push(conflict);
    return { combined: [conflict.local.body?.v ?? null, conflict.remote.body?.v ?? null] };
  });
  assert.deepEqual(doc?.body, { combined: ['local', 'remote'] });
  assert.equal(seen[0]?.docId, 'doc');
  assert.equal(seen[0]?.collection, '_default._default');

  const b = await conflicted(t);
  assert.equal((await b.c.resolveWith('doc', () => null))?.deleted, true);

  const d = await conflicted(t);
  assert.equal((await d.c.resolveWith('doc', (x) => ({ winner: x.remote.revId })))?.revId, d.remoteRev);

  const e = await conflicted(t);
  await assert.rejects(
    e.c.resolveWith('doc', () => 42 as never),
    /neither a resolution/,
  );
  assert.equal(e.c.get('doc')?.conflicted, true, 'a failing resolver leaves the conflict in place');
});

test('resolveConflict validates its input and refuses documents that are not in conflict', async (t) => {
  const { c } = await conflicted(t);
  assert.throws(() => c.resolveConflict('doc', { winner: '9-nope' as RevId }), { code: 'INVALID_ARGUMENT' });
  c.resolveConflict('doc', { delete: true });
  assert.equal(c.get('doc'), undefined);
  assert.throws(() => c.resolveConflict('doc', { delete: true }), { code: 'NOT_IN_CONFLICT' });
  assert.throws(() => c.resolveConflict('nope', { delete: true }), { code: 'NOT_FOUND' });
  assert.equal(await c.resolveWith('doc', remoteWins), undefined);
});

test('remote wins adds no revision on the winning branch: the current revision is the one the peer already has', async (t) => {
  // So a push afterwards offers the peer its own current revision (answered 304), not a new conflict.
  const { c, remoteRev } = await conflicted(t);
  await c.resolveWith('doc', remoteWins);
  const winner = c.get('doc')!;
  assert.equal(winner.revId, remoteRev);
  assert.equal(c.changesSince(0).at(-1)?.revId, remoteRev);
});
