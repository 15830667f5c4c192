import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir';
import { cbliteGet, cbliteList, cbliteOk, makeCbliteDb, runCblite } from './harness/cblite';
import { interopTest } from './harness/interop-test';
import { makePeersyncDb, peersyncDelete, peersyncGet, PeersyncPeer, peersyncPut } from './harness/peersync';
import { startServe } from '../helpers/serve';

interopTest('deleted in cblite, re-created in PeerSync: cblite gets the new document back', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'));
  const phone = await makeCbliteDb(dir, 'phone', { cart: { items: 1 } });
  const serve = await startServe(t, shop);
  await cbliteOk(['push', phone, serve.url]);

  await cbliteOk(['rm', phone, 'cart']);
  await cbliteOk(['push', phone, serve.url]);
  const other = new PeersyncPeer(join(dir, 'other'), serve.url);
  other.pull();
  assert.equal(other.get('cart')?.deleted, true, 'the deletion reached PeerSync');
  other.edit((db) => peersyncPut(db, 'cart', { items: 2, recreated: 'in peersync' }));

  const pull = await runCblite(['pull', '-v', '-v', phone, serve.url]);
  assert.deepEqual(await cbliteGet(phone, 'cart'), { items: 2, recreated: 'in peersync' }, pull.output);
  assert.equal(pull.code, 0, pull.output);
  assert.equal(await serve.stop(), 0);
  assert.deepEqual(peersyncGet(shop, 'cart')?.body, { items: 2, recreated: 'in peersync' });
});

interopTest('deleted in PeerSync, re-created in cblite after pulling the deletion: PeerSync gets the new document', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'), { cart: { items: 1 } });
  const phone = await makeCbliteDb(dir, 'phone');
  const serve = await startServe(t, shop);
  await cbliteOk(['pull', phone, serve.url]);

  const other = new PeersyncPeer(join(dir, 'other'), serve.url);
  other.edit((db) => peersyncDelete(db, 'cart'));
  await cbliteOk(['pull', phone, serve.url]);
  assert.equal((await cbliteList(phone)).get('cart')?.deleted, true, 'the deletion reached cblite');
  await cbliteOk(['put', phone, 'cart', JSON.stringify({ items: 3, recreated: 'in cblite' })]);

  const push = await runCblite(['push', '-v', '-v', phone, serve.url]);
  assert.equal(push.code, 0, push.output);
  assert.equal(await serve.stop(), 0);
  assert.deepEqual(peersyncGet(shop, 'cart')?.body, { items: 3, recreated: 'in cblite' }, push.output);
});

interopTest('deleted in PeerSync, created anew in cblite without ever seeing it: PeerSync takes the new document', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'), { cart: { items: 1 } });
  peersyncDelete(shop, 'cart');
  const phone = await makeCbliteDb(dir, 'phone', { cart: { items: 4, created: 'in cblite' } });
  const serve = await startServe(t, shop);

  // cblite proposes the revision with no parent (it has never synced this document with the listener).
  const push = await runCblite(['push', '-v', '-v', phone, serve.url]);
  assert.equal(push.code, 0, push.output);
  assert.equal(await serve.stop(), 0);
  const cart = peersyncGet(shop, 'cart');
  assert.equal(
    cart?.deleted,
    false,
    `the new document replaces the tombstone; cblite printed:\n${push.output
      .split('\n')
      .filter((l) => /cart|409|proposeChanges/.test(l))
      .join('\n')}`,
  );
  assert.deepEqual(cart.body, { items: 4, created: 'in cblite' });
});

interopTest('deleted in cblite, created anew in PeerSync without ever seeing it: cblite receives it as a conflict with its deletion', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'), { cart: { items: 5, created: 'in peersync' } });
  const phone = await makeCbliteDb(dir, 'phone', { cart: { items: 0 } });
  await cbliteOk(['rm', phone, 'cart']);
  const serve = await startServe(t, shop);

  const pull = await runCblite(['pull', '-v', '-v', phone, serve.url]);
  assert.equal(pull.code, 0, pull.output);
  // Unrelated histories: cblite (no conflict resolver) keeps its deletion current and stores the
  // PeerSync revision as a conflicting branch, which an app's resolver would then settle.
  const cart = (await cbliteList(phone)).get('cart');
  assert.deepEqual(
    { deleted: cart?.deleted, conflicted: cart?.conflicted },
    { deleted: true, conflicted: true },
    pull.output
      .split('\n')
      .filter((l) => /cart/.test(l))
      .join('\n'),
  );
  assert.match(pull.output, /Created conflict with 'cart'/);
});
