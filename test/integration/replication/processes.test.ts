import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../../helpers/cli';
import { startServe } from '../../helpers/serve';
import { tempDir } from '../../helpers/temp-dir';

test('two processes: 10k documents pulled and then pushed over ws with the CLI', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'inventory');
  const b = join(dir, 'phone');
  const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ _id: `item-${i}`, n: i, name: `item ${i}`, pad: 'p'.repeat(200) })).join('\n');
  writeFileSync(join(dir, 'items.jsonl'), lines);
  cli(['db', 'create', '--db', a]);
  assert.equal(cli(['db', 'import', join(dir, 'items.jsonl'), '--db', a]).status, 0);
  cli(['db', 'create', '--db', b]);

  const server = await startServe(t, a);
  assert.equal(server.url.endsWith('/inventory'), true);
  const pull = cli(['replicate', '--db', b, '--target', server.url, '--pull', '--json']);
  assert.equal(pull.status, 0, pull.stderr);
  const done = JSON.parse(pull.stdout.trim().split('\n').at(-1)!) as { event: string; completed: number; total: number; elapsedMs: number };
  assert.equal(done.event, 'done');
  assert.equal(done.completed, 10_000);
  t.diagnostic(`pulled 10k documents in ${done.elapsedMs} ms`);

  for (let i = 0; i < 3; i++) assert.equal(cli(['db', 'put', `new-${i}`, `{"i":${i}}`, '--db', b]).status, 0);
  const push = cli(['replicate', '--db', b, '--target', server.url, '--push', '--json']);
  assert.equal(push.status, 0, push.stderr);
  assert.equal((JSON.parse(push.stdout.trim().split('\n').at(-1)!) as { completed: number }).completed, 3, 'only the new documents are pushed');
  assert.equal(await server.stop(), 0);

  const infoA = JSON.parse(cli(['db', 'info', '--db', a, '--json']).stdout) as { collections: { documents: number }[] };
  const infoB = JSON.parse(cli(['db', 'info', '--db', b, '--json']).stdout) as { collections: { documents: number }[] };
  assert.equal(infoA.collections[0]!.documents, 10_003);
  assert.equal(infoB.collections[0]!.documents, 10_003);
  assert.deepEqual(JSON.parse(cli(['db', 'get', 'item-4321', '--db', b]).stdout), { n: 4321, name: 'item 4321', pad: 'p'.repeat(200) });
});

test('replicate reports a wrong database name and an unreachable peer with distinct exit codes', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'inventory');
  const b = join(dir, 'phone');
  cli(['db', 'create', '--db', b]);
  const server = await startServe(t, a);
  const wrong = cli(['replicate', '--db', b, '--target', server.url.replace('/inventory', '/nope')]);
  assert.equal(wrong.status, 10);
  assert.match(wrong.stderr, /404/);
  await server.stop();
  const down = cli(['replicate', '--db', b, '--target', server.url, '--max-attempts', '1']);
  assert.equal(down.status, 11);
  assert.match(down.stderr, /ECONNREFUSED|gave up/);
  const bad = cli(['replicate', '--db', b, '--target', 'http://x/db']);
  assert.equal(bad.status, 10);
  assert.match(bad.stderr, /ws:\/\/ or wss:\/\//);
});

test('serve --read-only refuses a push from another process', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'shop');
  const b = join(dir, 'phone');
  cli(['db', 'create', '--db', b]);
  cli(['db', 'put', 'x', '{}', '--db', b]);
  const server = await startServe(t, a, { args: ['--read-only'] });
  const push = cli(['replicate', '--db', b, '--target', server.url, '--push']);
  assert.equal(push.status, 10);
  assert.match(push.stderr, /read-only/);
  await server.stop();
  assert.equal(JSON.parse(cli(['db', 'info', '--db', a, '--json']).stdout).collections[0].documents, 0);
});
