import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir';
import { cbliteGet, cbliteList, cbliteOk, makeCbliteDb, runCblite } from './harness/cblite';
import { interopTest } from './harness/interop-test';
import { makePeersyncDb, peersyncGet, PeersyncPeer, peersyncPut } from './harness/peersync';
import { startServe } from '../helpers/serve';

interopTest('cblite pushes its documents to peersync serve', async (t) => {
  const dir = tempDir(t);
  const phone = await makeCbliteDb(dir, 'phone', { apple: { type: 'fruit', name: 'apple', qty: 3 }, pear: { type: 'fruit', name: 'pear', qty: 0 } });
  const shop = makePeersyncDb(join(dir, 'shop'));
  const serve = await startServe(t, shop);

  await cbliteOk(['push', phone, serve.url]);
  assert.equal(await serve.stop(), 0);

  assert.deepEqual(peersyncGet(shop, 'apple')?.body, { type: 'fruit', name: 'apple', qty: 3 });
  assert.deepEqual(peersyncGet(shop, 'pear')?.body, { type: 'fruit', name: 'pear', qty: 0 });
});

interopTest('cblite pulls the documents of peersync serve', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'), { milk: { type: 'dairy', litres: 1 }, eggs: { type: 'poultry', count: 12, nested: { a: [1, 2, { b: null }] } } });
  const phone = await makeCbliteDb(dir, 'phone');
  const serve = await startServe(t, shop);

  await cbliteOk(['pull', phone, serve.url]);

  assert.deepEqual(await cbliteGet(phone, 'milk'), { type: 'dairy', litres: 1 });
  assert.deepEqual(await cbliteGet(phone, 'eggs'), { type: 'poultry', count: 12, nested: { a: [1, 2, { b: null }] } });
});

interopTest('push and pull with edits on both sides: new documents cross, a conflict is refused and the session ends', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'), { shared: { v: 'base' } });
  const phone = await makeCbliteDb(dir, 'phone');
  const serve = await startServe(t, shop);
  await cbliteOk(['pull', phone, serve.url]);
  assert.deepEqual(await cbliteGet(phone, 'shared'), { v: 'base' });

  // The same document edited on both sides since the last sync, plus one new document on each side.
  await cbliteOk(['put', phone, 'shared', JSON.stringify({ v: 'edited in cblite' })]);
  await cbliteOk(['put', phone, 'from-cblite', JSON.stringify({ side: 'cblite' })]);
  const other = new PeersyncPeer(join(dir, 'other'), serve.url);
  other.edit((db) => {
    peersyncPut(db, 'shared', { v: 'edited in peersync' });
    peersyncPut(db, 'from-peersync', { side: 'peersync' });
  });

  // -v -v makes cblite report each document that failed, with the status the listener answered.
  const bidi = await runCblite(['cp', '--bidi', '-v', '-v', phone, serve.url]);
  t.diagnostic(`cblite cp --bidi exited with ${bidi.code} after ${bidi.elapsedMs} ms`);

  // cblite has no conflict resolver: it keeps its own revision and flags the document as conflicted.
  assert.deepEqual(await cbliteGet(phone, 'shared'), { v: 'edited in cblite' });
  assert.equal((await cbliteList(phone)).get('shared')?.conflicted, true, 'cblite marks the document conflicted');
  assert.deepEqual(await cbliteGet(phone, 'from-peersync'), { side: 'peersync' });
  // The listener refuses the conflicting push with 409, as a Couchbase Lite listener does; LiteCore
  // logs the document's end as "(6/409)" (WebSocket domain, status 409).
  assert.match(bidi.output, /documentEnded shared 2-\S+ flags=\S+ \(6\/409\)|Error pushing doc "shared": .*409/, bidi.output);
  assert.equal(await serve.stop(), 0);

  const shared = peersyncGet(shop, 'shared');
  assert.deepEqual(shared?.body, { v: 'edited in peersync' });
  assert.equal(shared?.conflicted, false, 'the refused revision is not stored as a conflict on the listener');
  assert.deepEqual(peersyncGet(shop, 'from-cblite')?.body, { side: 'cblite' });
});
