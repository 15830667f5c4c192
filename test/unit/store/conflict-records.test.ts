/**
 * Conflicts are never resolved silently: every resolution is recorded with the branches that
 * competed and the bodies it discarded, and three or more branches are settled one pair at a time.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { builtInResolvers, Database, type Collection, type ResolutionRecord } from '../../../server/store';
import { tempDir } from '../../helpers/temp-dir';

async function openColl(t: TestContext): Promise<{ db: Database; coll: Collection }> {
  const db = await Database.open(tempDir(t));
  t.after(() => db.close());
  return { db, coll: db.defaultCollection };
}

/** A document whose first revision was edited here and, twice over, by peers: three live branches. */
function threeBranches(coll: Collection): { mine: string; a: string; b: string } {
  const first = coll.save({ id: 'doc', body: { v: 0 } });
  const mine = coll.save({ id: 'doc', revId: first.revId, body: { v: 'mine', onlyMine: true } }).revId;
  coll.insertRevisionWithHistory({ id: 'doc', body: { v: 'a', fromA: 1 } }, ['2-aaaa', first.revId]);
  coll.insertRevisionWithHistory({ id: 'doc', body: { v: 'b', fromB: 2 } }, ['2-bbbb', first.revId]);
  return { mine, a: '2-aaaa', b: '2-bbbb' };
}

test('a conflict lists every competing branch, so a person can choose among three', async (t) => {
  const { coll } = await openColl(t);
  const { mine, a, b } = threeBranches(coll);
  const c = coll.getConflict('doc')!;
  assert.equal(c.local.revId, mine);
  assert.deepEqual(c.others?.map((o) => o.revId).sort(), [a, b].sort());
  assert.equal(coll.getConflict('doc', a)?.remote.revId, a, 'a named branch can be looked at');
});

test('a resolver meets three branches pair by pair; each step is recorded with what it discarded', async (t) => {
  const { coll } = await openColl(t);
  const { mine, a, b } = threeBranches(coll);
  const seen: ResolutionRecord[] = [];
  coll.on('resolved', (r) => seen.push(r));
  const result = await coll.resolveWith('doc', builtInResolvers.localWins);
  assert.ok(result);
  assert.equal(coll.getConflict('doc'), undefined, 'no branch is left in conflict');
  assert.deepEqual(coll.get('doc')?.body, { v: 'mine', onlyMine: true }, 'local wins over both');
  const records = coll.resolutions();
  assert.equal(records.length, 2, 'two pairs, two records');
  assert.deepEqual(seen.map((r) => r.id).sort(), records.map((r) => r.id).sort(), 'each one announced');
  const discarded = records.flatMap((r) => r.discarded.map((d) => d.revId)).sort();
  assert.deepEqual(discarded, [a, b].sort(), 'both peers’ edits are kept in the records');
  for (const r of records) {
    assert.equal(r.resolver, 'localWins');
    assert.equal(r.outcome, 'kept');
    assert.equal(r.competing.length, 2);
    assert.ok(r.competing.some((x) => x.body?.v === 'mine'));
  }
  assert.ok(
    records.some((r) => r.discarded.some((d) => d.body?.fromA === 1)),
    'the discarded body itself is there',
  );
  assert.ok(!records.some((r) => r.discarded.some((d) => d.revId === mine)));
});

test('a merge records every live input; a person’s choice among three closes the rest and says so', async (t) => {
  const { coll } = await openColl(t);
  const { a } = threeBranches(coll);
  const doc = coll.resolveConflict('doc', { winner: a as never });
  assert.deepEqual(doc.body, { v: 'a', fromA: 1 });
  assert.equal(coll.getConflict('doc'), undefined);
  const [r] = coll.resolutions();
  assert.equal(r?.resolver, 'manual');
  assert.equal(r?.competing.length, 3);
  assert.equal(r?.discarded.length, 2);
  assert.ok(!r?.discarded.some((d) => d.revId === a));

  const { coll: other } = await openColl(t);
  threeBranches(other);
  await other.resolveWith('doc', builtInResolvers.merge);
  const merged = other.get('doc')?.body ?? {};
  assert.equal(merged.onlyMine, true);
  assert.ok(merged.fromA === 1 && merged.fromB === 2, 'a shallow merge of three branches keeps keys from all of them');
  assert.ok(other.resolutions().every((x) => x.outcome === 'merged' && x.discarded.length === 2));
});

test('records survive reopening and are bounded in number', async (t) => {
  const dir = tempDir(t);
  let db = await Database.open(dir);
  threeBranches(db.defaultCollection);
  await db.defaultCollection.resolveWith('doc', builtInResolvers.default);
  await db.whenDurable();
  db.close();
  db = await Database.open(dir);
  t.after(() => db.close());
  assert.equal(db.defaultCollection.resolutions().length, 2);
});
