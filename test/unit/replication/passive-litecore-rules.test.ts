/**
 * The listener's answers to what a real LiteCore client sends, message by message: the rules a
 * LiteCore passive peer follows, over an in-memory BLIP pair.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlipError } from '../../../server/blip';
import { Profile, Prop } from '../../../server/replication/protocol';
import { openTempDb } from '../../helpers/open-db';
import { connectRawClient } from '../../helpers/raw-peer';

test('setCheckpoint with an empty rev saves a first checkpoint; the next save must name the returned rev', async (t) => {
  const { db } = await openTempDb(t);
  const client = connectRawClient(t, db);
  const first = await client.request({ profile: Profile.setCheckpoint, properties: { [Prop.client]: 'cp-x', [Prop.rev]: '' }, body: '{"local":5}' });
  const rev = first.properties[Prop.rev];
  assert.ok(rev, 'the reply names the saved revision');
  const got = await client.request({ profile: Profile.getCheckpoint, properties: { [Prop.client]: 'cp-x' } });
  assert.deepEqual(got.json(), { local: 5 });
  const second = await client.request({ profile: Profile.setCheckpoint, properties: { [Prop.client]: 'cp-x', [Prop.rev]: rev }, body: '{"local":9}' });
  assert.notEqual(second.properties[Prop.rev], rev);
  // A stale (or empty) rev once a checkpoint exists is a real conflict.
  await assert.rejects(
    client.request({ profile: Profile.setCheckpoint, properties: { [Prop.client]: 'cp-x', [Prop.rev]: '' }, body: '{"local":1}' }),
    (e: unknown) => e instanceof BlipError && e.code === 409,
  );
  await assert.rejects(
    client.request({ profile: Profile.setCheckpoint, properties: { [Prop.client]: 'cp-x', [Prop.rev]: rev }, body: '{"local":1}' }),
    (e: unknown) => e instanceof BlipError && e.code === 409,
  );
});

test('proposeChanges with no parent over a deleted document says send, and the re-created document is stored', async (t) => {
  const { db } = await openTempDb(t);
  const coll = db.defaultCollection;
  const created = coll.save({ id: 'doc', body: { v: 1 } });
  coll.delete('doc');
  coll.save({ id: 'live', body: { v: 1 } });
  const client = connectRawClient(t, db);
  const proposal = [
    ['doc', '1-aaaa', '', 10],
    ['live', '1-bbbb', '', 10],
  ];
  const reply = await client.request({ profile: Profile.proposeChanges, body: JSON.stringify(proposal) });
  assert.deepEqual(reply.json(), [0, 409], 'a deleted document may be re-created; a live one is a conflict');
  await client.request({ profile: Profile.rev, properties: { [Prop.id]: 'doc', [Prop.rev]: '1-aaaa', [Prop.sequence]: '7' }, body: '{"v":"again"}' });
  const doc = coll.get('doc');
  assert.deepEqual(doc?.body, { v: 'again' });
  assert.equal(doc?.conflicted, false, 'the new branch replaces the tombstone without a conflict');
  assert.notEqual(doc?.revId, created.revId);
  // A live document is still protected: a revision that does not extend it is refused.
  await assert.rejects(
    client.request({ profile: Profile.rev, properties: { [Prop.id]: 'live', [Prop.rev]: '1-bbbb', [Prop.sequence]: '8' }, body: '{"v":2}' }),
    (e: unknown) => e instanceof BlipError && e.code === 409,
  );
  assert.deepEqual(coll.get('live')?.body, { v: 1 });
});
