/**
 * What the `peersync replicate` command tells its user, with real processes: an edit is never
 * reported as replicated when the listener refused it, and a run that leaves documents behind
 * exits non-zero and names them.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../../helpers/cli';
import { startServe } from '../../helpers/serve';
import { tempDir } from '../../helpers/temp-dir';

function body(db: string, id: string): unknown {
  const r = cli(['db', 'get', id, '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('an edit to a document the listener got from another peer: push-only fails and says so, push-and-pull delivers it', async (t) => {
  const dir = tempDir(t);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n)) as [string, string, string];
  for (const db of [a, c]) assert.equal(cli(['db', 'create', '--db', db]).status, 0);
  const listenerA = await startServe(t, a);
  assert.equal(cli(['db', 'put', 'doc', '{"v":"from c"}', '--db', c]).status, 0);
  assert.equal(cli(['replicate', '--db', c, '--target', listenerA.url, '--push']).status, 0);
  const listenerC = await startServe(t, c);
  assert.equal(cli(['replicate', '--db', b, '--target', listenerC.url, '--pull']).status, 0);
  assert.equal(cli(['db', 'put', 'doc', '{"v":"edited on b"}', '--db', b]).status, 0);

  const pushOnly = cli(['replicate', '--db', b, '--target', listenerA.url, '--push']);
  assert.equal(pushOnly.status, 10, `exit code 10 when documents failed\n${pushOnly.stdout}${pushOnly.stderr}`);
  assert.match(pushOnly.stdout, /replicated 0\/1 document .*; 1 failed:/);
  assert.match(pushOnly.stdout, /push doc: conflict/);
  assert.match(pushOnly.stderr, /1 document did not replicate/);

  const both = cli(['replicate', '--db', b, '--target', listenerA.url]);
  assert.equal(both.status, 0, both.stdout + both.stderr);
  assert.doesNotMatch(both.stdout, /failed/);
  await listenerA.stop();
  assert.deepEqual(body(a, 'doc'), { v: 'edited on b' });
});

test('a fresh database served at the same URL receives everything again', async (t) => {
  const dir = tempDir(t);
  const x = join(dir, 'x');
  const phone = join(dir, 'phone');
  assert.equal(cli(['db', 'create', '--db', phone]).status, 0);
  const docs = Array.from({ length: 500 }, (_, i) => JSON.stringify({ _id: `d${i}`, i })).join('\n');
  assert.equal(cli(['db', 'import', '-', '--db', phone], { input: docs }).status, 0);
  const first = await startServe(t, x);
  const r1 = cli(['replicate', '--db', phone, '--target', first.url, '--push', '--json']);
  assert.equal(r1.status, 0, r1.stderr);
  await first.stop();
  rmSync(x, { recursive: true, force: true });

  const port = new URL(first.url).port;
  const second = await startServe(t, x, { args: ['--port', port] });
  assert.equal(second.url, first.url, 'served again at the same URL');
  const r2 = cli(['replicate', '--db', phone, '--target', second.url, '--push', '--json']);
  assert.equal(r2.status, 0, r2.stderr);
  const done = JSON.parse(r2.stdout.trim().split('\n').at(-1)!) as { event: string; completed: number; failed: number };
  assert.equal(done.event, 'done');
  assert.equal(done.failed, 0);
  await second.stop();
  const info = cli(['db', 'info', '--db', x, '--json']);
  assert.match(info.stdout, /"documents":\s*500|"count":\s*500/, info.stdout);
});
