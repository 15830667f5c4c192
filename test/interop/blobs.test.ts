import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir';
import { cbliteGet, cbliteOk, makeCbliteDb, runCblite } from './harness/cblite';
import { cbliteBlobPath, listBlobFiles, peersyncBlobPath, putCbliteBlob, readIfPresent } from './harness/blobs';
import { interopTest } from './harness/interop-test';
import { makePeersyncDb, peersyncGet } from './harness/peersync';
import { startServe } from '../helpers/serve';

interface InventoryList {
  type: string;
  list: { key: string; image: { '@type': 'blob'; digest: string; length: number; content_type: string } }[];
}

interopTest('blobs: cblite pulls the demo inventory list with its images', async (t) => {
  const dir = tempDir(t);
  const shop = join(dir, 'inventory');
  const serve = await startServe(t, shop, { args: ['--demo'] });
  const phone = await makeCbliteDb(dir, 'phone');

  const pull = await runCblite(['pull', '-v', '-v', phone, serve.url]);
  t.diagnostic(`cblite pull exited with ${pull.code}`);
  const list = (await cbliteGet(phone, 'list')) as InventoryList | undefined;
  assert.ok(list, `the list document arrived in cblite; cblite printed:\n${pull.output}`);
  assert.equal(list.list.length, 2);
  for (const item of list.list) {
    const expected = readIfPresent(peersyncBlobPath(shop, item.image.digest));
    assert.ok(expected, `the listener has the blob of ${item.key}`);
    const arrived = readIfPresent(cbliteBlobPath(phone, item.image.digest));
    assert.ok(arrived, `the image of ${item.key} is in cblite's Attachments (found: ${listBlobFiles(join(phone, 'Attachments')).join(', ') || 'none'})`);
    assert.equal(arrived.length, item.image.length);
    assert.deepEqual(arrived, expected);
  }
  assert.equal(pull.code, 0, pull.output);
});

interopTest('blobs: a document with a blob pushed from cblite arrives with the blob content', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'));
  const serve = await startServe(t, shop);
  const phone = await makeCbliteDb(dir, 'phone');
  const content = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg"><text>${'photo from cblite '.repeat(20)}</text></svg>`);
  const photo = putCbliteBlob(phone, content, 'image/svg+xml');
  await cbliteOk(['put', phone, 'receipt', JSON.stringify({ total: 12.5, photo })]);

  const push = await runCblite(['push', '-v', '-v', phone, serve.url]);
  t.diagnostic(`cblite push exited with ${push.code}`);
  assert.equal(await serve.stop(), 0);

  assert.deepEqual(peersyncGet(shop, 'receipt')?.body, { total: 12.5, photo }, `the document arrived; cblite printed:\n${push.output}`);
  const stored = readIfPresent(peersyncBlobPath(shop, photo.digest));
  assert.ok(stored, `PeerSync stored the blob content (blobs/: ${listBlobFiles(join(shop, 'blobs')).join(', ') || 'none'}); cblite printed:\n${push.output}`);
  assert.deepEqual(stored, content);
  assert.equal(push.code, 0, push.output);
});
