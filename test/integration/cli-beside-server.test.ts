/**
 * The command line beside a running server: while `peersync serve` holds a database, `peersync db …`
 * and `peersync replicate` go through the server's control socket instead of being refused; a
 * process that is not a PeerSync server still makes them fail with "locked" (exit 5).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { controlSocketPath } from '../../server/control/control-socket';
import { cli, CHILD_HANG_GUARD_MS, ROOT } from '../helpers/cli';
import { startServe } from '../helpers/serve';
import { tempDir } from '../helpers/temp-dir';

test('db commands and a one-shot replication work through a running serve, and what they write is served', async (t) => {
  const dir = tempDir(t);
  const served = join(dir, 'served');
  assert.equal(cli(['db', 'create', '--db', served]).status, 0);
  const server = await startServe(t, served);

  const socket = controlSocketPath(served);
  assert.equal(statSync(socket).mode & 0o777, 0o600, 'only the owner may talk to the server');

  const put = cli(['db', 'put', 'note', '{"text":"written beside the server"}', '--db', served, '--json']);
  assert.equal(put.status, 0, put.stderr);
  const saved = JSON.parse(put.stdout) as { rev: string };
  const got = cli(['db', 'get', 'note', '--db', served, '--json']);
  assert.equal(got.status, 0, got.stderr);
  assert.deepEqual((JSON.parse(got.stdout) as { body: unknown; revId: string }).body, { text: 'written beside the server' });

  const info = cli(['db', 'info', '--db', served]);
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /served by PeerSync process \d+/);
  assert.match(info.stdout, /_default\._default: 1 document,/);

  // A stale edit is refused by the server's rules exactly as in process.
  const stale = cli(['db', 'put', 'note', '{"text":"stale"}', '--rev', '1-0000', '--fail-on-conflict', '--db', served]);
  assert.equal(stale.status, 4, stale.stderr);

  // What the CLI wrote through the server is what its listener serves.
  const other = join(dir, 'other');
  const pulled = cli(['replicate', '--db', other, '--target', server.url, '--pull', '--json']);
  assert.equal(pulled.status, 0, pulled.stderr);
  const copy = JSON.parse(cli(['db', 'get', 'note', '--db', other, '--json']).stdout) as { revId: string };
  assert.equal(copy.revId, saved.rev);

  // A one-shot replication of the served database runs inside the server and ends there too.
  assert.equal(cli(['db', 'put', 'back', '{"from":"other"}', '--db', other]).status, 0);
  const otherServer = await startServe(t, other);
  const push = cli(['replicate', '--db', served, '--target', otherServer.url, '--pull', '--json']);
  assert.equal(push.status, 0, push.stderr);
  const done = push.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; completed?: number })
    .find((e) => e.event === 'done');
  assert.ok(done && done.completed! >= 1, push.stdout);
  assert.equal(JSON.parse(cli(['db', 'get', 'back', '--db', served, '--json']).stdout).body.from, 'other');

  // serve itself is refused with the running server named, not a bare "locked".
  const second = cli(['serve', '--db', served, '--port', '0', '--no-tls']);
  assert.equal(second.status, 5);
  assert.match(second.stderr, /already served by PeerSync \(process \d+\)/);

  assert.equal(await server.stop(), 0);
  assert.throws(() => statSync(socket), { code: 'ENOENT' }, 'the socket goes with the server');
  await otherServer.stop();
});

test('a holder that is not a PeerSync server is refused: exit 5, and nothing is written', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'held');
  assert.equal(cli(['db', 'create', '--db', path]).status, 0);
  // A process that opens the database with the store alone: it holds the LOCK but offers no control socket.
  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `require('${join(ROOT, 'server/store').replace(/\\/g, '/')}').Database.open(${JSON.stringify(path)}).then(() => { console.log('held'); setInterval(() => {}, 1000); })`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const guard = setTimeout(() => holder.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  t.after(() => {
    clearTimeout(guard);
    holder.kill('SIGKILL');
  });
  await once(holder.stdout, 'data');
  const r = cli(['db', 'put', 'x', '{}', '--db', path]);
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /in use by another process/);
});
