import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/temp-dir';
import { cbliteGet, makeCbliteDb, runCblite } from './harness/cblite';
import { interopTest } from './harness/interop-test';
import { makePeersyncDb, peersyncGet } from './harness/peersync';
import { startServe } from '../helpers/serve';

interopTest('Basic auth: serve --users lets the right password replicate and refuses a wrong one', async (t) => {
  const dir = tempDir(t);
  const users = join(dir, 'users.json');
  const added = cli(['users', 'add', 'bob', '--file', users, '--password-env', 'BOB_PASSWORD'], { env: { BOB_PASSWORD: 's3cret pass' } });
  assert.equal(added.status, 0, added.stderr);
  const shop = makePeersyncDb(join(dir, 'shop'), { price: { eur: 3 } });
  const serve = await startServe(t, shop, { args: ['--users', users] });

  const intruder = await makeCbliteDb(dir, 'intruder', { graffiti: { by: 'mallory' } });
  const wrong = await runCblite(['cp', '--bidi', '--user', 'bob:wrong', intruder, serve.url]);
  assert.notEqual(wrong.code, 0, `a wrong password must fail:\n${wrong.output}`);
  assert.match(wrong.output, /401|unauthorized/i);
  assert.equal(await cbliteGet(intruder, 'price'), undefined, 'nothing pulled with a wrong password');
  const anonymous = await runCblite(['cp', '--bidi', intruder, serve.url]);
  assert.notEqual(anonymous.code, 0, `no credentials must fail:\n${anonymous.output}`);

  const phone = await makeCbliteDb(dir, 'phone', { order: { qty: 2 } });
  const right = await runCblite(['cp', '--bidi', '--user', 'bob:s3cret pass', phone, serve.url]);
  assert.equal(right.code, 0, right.output);
  assert.deepEqual(await cbliteGet(phone, 'price'), { eur: 3 });
  assert.match(serve.stderr(), /refused 127\.0\.0\.1: 401/, 'the listener reports the refusals');
  assert.equal(await serve.stop(), 0);

  assert.deepEqual(peersyncGet(shop, 'order')?.body, { qty: 2 });
  assert.equal(peersyncGet(shop, 'graffiti'), undefined, 'nothing pushed with a wrong password');
});
