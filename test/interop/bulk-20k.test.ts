import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/temp-dir';
import { cbliteCount, cbliteGet, cbliteOk, makeCbliteDb } from './harness/cblite';
import { interopTest } from './harness/interop-test';
import { makePeersyncDb, peersyncCount, peersyncGet, writeJsonLines } from './harness/peersync';
import { startServe } from '../helpers/serve';

const COUNT = 20_000;
const BODY_BYTES = 1024;

/** Rates are reported, never asserted: the machine is shared and timings vary. */
function rate(count: number, ms: number): string {
  return `${Math.round((count * 1000) / ms)} docs/s (${count} docs in ${ms} ms wall clock, including process start)`;
}

interopTest(`bulk: ${COUNT} documents of 1 KB pushed from cblite and pulled back into a fresh cblite`, async (t) => {
  const dir = tempDir(t);
  const docs = writeJsonLines(dir, 'docs.json', COUNT, BODY_BYTES);
  const source = join(dir, 'source.cblite2');
  await cbliteOk(['cp', docs, source], { timeoutMs: 120_000 });
  // An import does not create the Attachments folder, and LiteCore's replicator stops with
  // "not found" without it.
  mkdirSync(join(source, 'Attachments'));
  assert.equal(await cbliteCount(source), COUNT);
  const shop = makePeersyncDb(join(dir, 'shop'));
  const serve = await startServe(t, shop);

  const push = await cbliteOk(['push', source, serve.url]);
  t.diagnostic(`push: ${rate(COUNT, push.elapsedMs)}`);

  const target = await makeCbliteDb(dir, 'target');
  const pull = await cbliteOk(['pull', target, serve.url]);
  t.diagnostic(`pull: ${rate(COUNT, pull.elapsedMs)}`);
  assert.equal(await cbliteCount(target), COUNT);
  const sample = await cbliteGet(target, 'doc-012345');
  assert.equal(sample?.n, 12345);
  assert.equal(JSON.stringify({ _id: 'doc-012345', ...sample }).length, BODY_BYTES);

  assert.equal(await serve.stop(), 0);
  assert.equal(peersyncCount(shop), COUNT);
  assert.equal(peersyncGet(shop, 'doc-019999')?.body.n, 19_999);
});

interopTest(`bulk: ${COUNT} documents of 1 KB pulled by cblite from a PeerSync database`, async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'));
  const imported = cli(['db', 'import', writeJsonLines(dir, 'docs.json', COUNT, BODY_BYTES), '--db', shop]);
  assert.equal(imported.status, 0, imported.stderr);
  const serve = await startServe(t, shop);
  const phone = await makeCbliteDb(dir, 'phone');

  const pull = await cbliteOk(['pull', phone, serve.url]);
  t.diagnostic(`pull: ${rate(COUNT, pull.elapsedMs)}`);
  assert.equal(await cbliteCount(phone), COUNT);
  assert.equal((await cbliteGet(phone, 'doc-000042'))?.name, 'document 42');
});
