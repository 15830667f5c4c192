import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { UsersFile } from '../../server/listener/users-file';
import { CHILD_HANG_GUARD_MS, CLI, cli } from '../helpers/cli';
import { startServe } from '../helpers/serve';
import { tempDir } from '../helpers/temp-dir';
import { waitForCondition } from '../helpers/wait';

const WAIT_MS = 60_000;

/** `peersync serve` with human output, its stderr collected line by line. */
async function serveText(t: TestContext, args: string[]): Promise<{ port: number; lines: () => string[]; waitForLine: (re: RegExp, what: string) => Promise<string> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--interface', '127.0.0.1', '--no-tls', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  t.after(() => {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const changes = (notify: () => void): (() => void) => {
    child.stdout.on('data', notify);
    child.stderr.on('data', notify);
    child.on('exit', notify);
    return () => {
      child.stdout.off('data', notify);
      child.stderr.off('data', notify);
      child.off('exit', notify);
    };
  };
  const portOf = (): number | undefined => Number(/listening\s+ws:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout)?.[1] ?? NaN) || undefined;
  await waitForCondition(() => portOf() !== undefined || child.exitCode !== null, changes, WAIT_MS, 'serve to listen');
  assert.ok(portOf(), `serve did not start:\n${stderr}`);
  const lines = (): string[] => stderr.split('\n').filter((l) => l !== '');
  return {
    port: portOf()!,
    lines,
    async waitForLine(re, what) {
      await waitForCondition(() => lines().some((l) => re.test(l)) || child.exitCode !== null, changes, WAIT_MS, what).catch((e: Error) => {
        throw new Error(`${e.message}; stderr:\n${stderr}`);
      });
      const line = lines().find((l) => re.test(l));
      assert.ok(line, `no line for ${what}; stderr:\n${stderr}`);
      return line;
    },
  };
}

/** A WebSocket upgrade to the listener: the upgraded socket, or the HTTP refusal. */
function upgrade(port: number, authorization: string): Promise<{ socket: Duplex } | { response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request(`http://127.0.0.1:${port}/db/_blipsync`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3',
        Authorization: authorization,
      },
    });
    req.on('upgrade', (_res, socket) => resolve({ socket }));
    req.on('response', (response) => {
      response.resume();
      resolve({ response });
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('serve --log-level debug logs a client connecting and closing, and a refusal with its reason', async (t) => {
  const dir = tempDir(t);
  const usersFile = join(dir, 'users.json');
  await new UsersFile(usersFile).add('alice', 's3cret!');
  const serve = await serveText(t, ['--db', join(dir, 'db'), '--users', usersFile, '--log-level', 'debug']);
  await serve.waitForLine(/ store info opened \{path: /, 'the store to log the open');

  const accepted = await upgrade(serve.port, basic('alice', 's3cret!'));
  assert.ok('socket' in accepted, 'right credentials are accepted');
  const connected = await serve.waitForLine(/ listener info client connected /, 'a client connected line');
  assert.match(connected, /^\d\d:\d\d:\d\d\.\d{3} listener info client connected \{address: 127\.0\.0\.1, .*user: alice/);
  accepted.socket.destroy();
  await serve.waitForLine(/ listener (info|warn) client closed \{address: 127\.0\.0\.1, .*code: /, 'a client closed line with its code');

  const refused = await upgrade(serve.port, basic('alice', 'wrong'));
  assert.ok('response' in refused && refused.response.statusCode === 401, 'a wrong password is refused');
  const line = await serve.waitForLine(/ listener info authentication refused /, 'a refusal line');
  assert.match(line, /\{address: 127\.0\.0\.1, user: alice, status: 401, reason: "wrong user name or password"\}$/);
});

test('with --json the log records are JSON lines on stderr', async (t) => {
  const server = await startServe(t, join(tempDir(t), 'db'), { args: ['--log-level', 'info'] });
  await waitForCondition(
    () => server.stderr().includes('"namespace":"listener"'),
    (notify) => {
      const timer = setInterval(notify, 50);
      return () => clearInterval(timer);
    },
    WAIT_MS,
    'a listener record',
  );
  const records = server
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { namespace: string; level: string; message: string; fields?: Record<string, unknown> });
  const listening = records.find((r) => r.namespace === 'listener' && r.message === 'listening');
  assert.ok(listening, server.stderr());
  assert.equal(listening.level, 'info');
  assert.deepEqual(listening.fields?.urls, server.ready.urls);
  await server.stop();
});

test('PEERSYNC_LOG_LEVEL sets the level; --log-level wins over it; only warnings and errors by default', (t) => {
  const db = join(tempDir(t), 'db');
  assert.equal(cli(['db', 'create', '--db', db]).status, 0);
  const quiet = cli(['db', 'ls', '--db', db]);
  assert.equal(quiet.status, 0);
  assert.doesNotMatch(quiet.stderr, / store info /);
  const fromEnv = cli(['db', 'ls', '--db', db], { env: { PEERSYNC_LOG_LEVEL: 'store=info' } });
  assert.match(fromEnv.stderr, / store info opened \{path: .*journalRecordsReplayed: \d+/);
  const overridden = cli(['db', 'ls', '--db', db, '--log-level', 'warn'], { env: { PEERSYNC_LOG_LEVEL: 'debug' } });
  assert.doesNotMatch(overridden.stderr, / store info /);
  const verbose = cli(['db', 'ls', '--db', db, '--verbose']);
  assert.match(verbose.stderr, / store info opened /);
  const bad = cli(['db', 'ls', '--db', db, '--log-level', 'chatty']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--log-level: unknown log level "chatty"/);
});
