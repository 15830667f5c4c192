import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { CHILD_HANG_GUARD_MS, CLI, cli, spawn } from '../../helpers/cli';
import { tempDir } from '../../helpers/temp-dir';

async function serve(t: TestContext, args: string[]): Promise<{ ready: { urls: string[]; tls: boolean; certificateFingerprint?: string }; stop: () => Promise<number>; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--interface', '127.0.0.1', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  t.after(() => {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    once(child, 'exit').then(() => {
      throw new Error(`serve exited: ${stderr}`);
    }),
  ])) as [string];
  return {
    ready: JSON.parse(line) as { urls: string[]; tls: boolean; certificateFingerprint?: string },
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return ((await once(child, 'exit')) as [number])[0];
    },
  };
}

test('TLS is on by default; a replicator must be told how to trust the anonymous certificate', async (t) => {
  const dir = tempDir(t);
  const phone = join(dir, 'phone');
  cli(['db', 'create', '--db', phone]);
  const server = await serve(t, ['--db', join(dir, 'inventory'), '--demo']);
  assert.equal(server.ready.tls, true);
  assert.match(server.ready.urls[0]!, /^wss:\/\/127\.0\.0\.1:\d+\/inventory$/);
  const refused = cli(['replicate', '--db', phone, '--target', server.ready.urls[0]!]);
  assert.equal(refused.status, 10);
  assert.match(refused.stderr, /not trusted|self-signed|pin/i);
  const ok = cli(['replicate', '--db', phone, '--target', server.ready.urls[0]!, '--self-signed-only']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(cli(['db', 'get', 'list', '--db', phone]).stdout).type, 'list');
  assert.equal(await server.stop(), 0);
});

test('identity commands: create, list, export to pin, and serve with it', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'inventory');
  cli(['db', 'create', '--db', db]);
  const created = cli(['identity', 'create', 'listener', '--cn', 'inventory.local', '--db', db, '--json']);
  assert.equal(created.status, 0, created.stderr);
  const info = JSON.parse(created.stdout) as { fingerprintSha256: string };
  assert.match(JSON.parse(cli(['identity', 'ls', '--db', db, '--json']).stdout)[0].label, /^listener$/);
  const keyFile = readdirKeystore(db);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'key file is private');
  const pem = join(dir, 'listener.pem');
  assert.equal(cli(['identity', 'export', 'listener', pem, '--db', db]).status, 0);
  assert.match(readFileSync(pem, 'utf8'), /BEGIN CERTIFICATE/);

  const server = await serve(t, ['--db', db, '--identity', 'listener']);
  assert.equal(server.ready.certificateFingerprint, info.fingerprintSha256);
  const phone = join(dir, 'phone');
  cli(['db', 'create', '--db', phone]);
  assert.equal(cli(['replicate', '--db', phone, '--target', server.ready.urls[0]!, '--pin', pem]).status, 0);
  const otherPem = join(dir, 'other.pem');
  cli(['identity', 'create', 'other', '--db', phone]);
  cli(['identity', 'export', 'other', otherPem, '--db', phone]);
  const wrong = cli(['replicate', '--db', phone, '--target', server.ready.urls[0]!, '--pin', otherPem]);
  assert.equal(wrong.status, 10);
  assert.match(wrong.stderr, /pinned/);
  await server.stop();
});

test('users file: add with --password-env, serve --users, replicate --user with the right and a wrong password', async (t) => {
  const dir = tempDir(t);
  const users = join(dir, 'users.json');
  assert.equal(cli(['users', 'add', 'alice', '--file', users, '--password-env', 'PW'], { env: { PW: 's3cret!' } }).status, 0);
  assert.ok(!readFileSync(users, 'utf8').includes('s3cret!'));
  assert.deepEqual(JSON.parse(cli(['users', 'ls', '--file', users, '--json']).stdout), ['alice']);
  const noPassword = cli(['users', 'add', 'bob', '--file', users]);
  assert.equal(noPassword.status, 2, 'no terminal to prompt on and no --password-env');
  assert.match(noPassword.stderr, /--password-env/);

  const server = await serve(t, ['--db', join(dir, 'inventory'), '--no-tls', '--users', users]);
  const phone = join(dir, 'phone');
  cli(['db', 'create', '--db', phone]);
  const good = cli(['replicate', '--db', phone, '--target', server.ready.urls[0]!, '--user', 'alice', '--password-env', 'PW'], { env: { PW: 's3cret!' } });
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stderr, /warning: HTTP Basic credentials are sent unencrypted over ws:\/\//);
  assert.ok(!`${good.stdout}${good.stderr}`.includes('s3cret!'), 'the password is never printed');
  assert.match(server.stderr(), /warning: clients send their HTTP Basic passwords unencrypted over ws:\/\//);
  const bad = cli(['replicate', '--db', phone, '--target', server.ready.urls[0]!, '--user', 'alice', '--password-env', 'PW'], { env: { PW: 'guess' } });
  assert.equal(bad.status, 10);
  assert.match(bad.stderr, /401/);
  await server.stop();
  assert.match(server.stderr(), /refused 127\.0\.0\.1: 401/, 'the failure is logged with the remote address');
});

test('replicate refuses a target URL with credentials in it, without sending or printing them', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, ['--db', join(dir, 'inventory'), '--no-tls']);
  const url = new URL(server.ready.urls[0]!);
  url.username = 'alice';
  url.password = 'hunter2';
  const phone = join(dir, 'phone');
  cli(['db', 'create', '--db', phone]);
  for (const args of [
    ['--target', url.toString()],
    ['--target', url.toString(), '--json'],
    ['--target', url.toString().replace('alice:hunter2@', 'hunter2@')],
  ]) {
    const r = cli(['replicate', '--db', phone, ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /must not contain a user name or password.*--user/);
    assert.ok(!`${r.stdout}${r.stderr}`.includes('hunter2'), `the password is not printed:\n${r.stdout}${r.stderr}`);
  }
  await server.stop();
  assert.ok(!server.stderr().includes('hunter2') && !server.stderr().includes('refused'), 'nothing reached the listener');
});

test('users add refuses reserved names and saves every accepted one', async (t) => {
  const users = join(tempDir(t), 'users.json');
  for (const name of ['__proto__', 'constructor', 'prototype']) {
    const r = cli(['users', 'add', name, '--file', users, '--password-env', 'PW'], { env: { PW: 'pw' } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`user name "${name}" is reserved`));
    assert.doesNotMatch(r.stdout, /added/);
  }
  assert.equal(cli(['users', 'add', 'toString', '--file', users, '--password-env', 'PW'], { env: { PW: 'pw' } }).status, 0);
  assert.deepEqual(JSON.parse(cli(['users', 'ls', '--file', users, '--json']).stdout), ['toString']);
});

function readdirKeystore(db: string): string {
  const dir = join(db, 'keystore');
  return join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.json'))!,
  );
}
