/**
 * The control socket through which the CLI reaches the server holding a database: hello and
 * application requests round-trip; the socket is private to its owner wherever it lives; a dead
 * server's socket is replaced; clients are bounded; a silent server fails loudly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { createMessageConnection, RequestType, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { connectControlSocket, ControlHelloRequest, controlSocketPath, ControlSocketServer, MAX_CONTROL_CLIENTS, type ControlClient, type ControlHello } from '../../../server/control/control-socket';
import { ROOT } from '../../helpers/cli';
import { tempDir } from '../../helpers/temp-dir';
import { poll, withTimeout } from '../../helpers/wait';

const skip = process.platform === 'win32' && 'Unix domain sockets';
const ORIGINAL_TMPDIR = process.env.TMPDIR;
const HELLO: ControlHello = { pid: process.pid, database: 'notes', version: '0.1.0' };
const Echo = new RequestType<{ text: string }, { text: string }, void>('test/echo');

async function listen(t: TestContext, dbDir: string, onConnection: (conn: MessageConnection) => void = () => {}): Promise<ControlSocketServer> {
  const server = await withTimeout(ControlSocketServer.listen(dbDir, onConnection, HELLO), 'control socket listen');
  t.after(() => server.close());
  return server;
}

async function connect(t: TestContext, dbDir: string): Promise<ControlClient> {
  const client = await withTimeout(connectControlSocket(dbDir), 'control socket connect');
  assert.ok(client, 'a server listens');
  t.after(() => client.close());
  return client;
}

/** A database-like directory: private, as the store creates them. */
function dbDirIn(t: TestContext, ...names: string[]): string {
  const dir = join(tempDir(t), ...names);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Points os.tmpdir() at a fresh directory for the rest of the test, so the per-user fallback folder is the test's own. */
function privateTmp(t: TestContext): string {
  const tmp = tempDir(t);
  process.env.TMPDIR = tmp;
  t.after(() => {
    if (ORIGINAL_TMPDIR === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = ORIGINAL_TMPDIR;
  });
  return tmp;
}

/** A directory whose control.sock would not fit in a socket address. */
function longDbDir(t: TestContext): string {
  const dir = dbDirIn(t, 'd'.repeat(50), 'e'.repeat(50));
  assert.ok(Buffer.byteLength(join(dir, 'control.sock')) > 100);
  return dir;
}

test('hello and an application request round-trip; the socket is in the database directory, mode 0600', { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  const server = await listen(t, dir, (conn) => conn.onRequest(Echo, (params) => ({ text: params.text.toUpperCase() })));
  assert.equal(server.path, join(realpathSync(dir), 'control.sock'));
  assert.equal(controlSocketPath(dir), server.path);
  assert.equal(statSync(server.path).mode & 0o777, 0o600);

  const client = await connect(t, dir);
  assert.deepEqual(client.hello, HELLO);
  assert.deepEqual(await withTimeout(client.conn.sendRequest(Echo, { text: 'hi' }), 'echo'), { text: 'HI' });
});

test('a directory too long for a socket address falls back to a private per-user folder in the temp directory', { skip }, async (t) => {
  const dir = longDbDir(t);
  const tmp = privateTmp(t);
  const folder = join(tmp, `peersync-${process.getuid!()}`);
  const server = await listen(t, dir);
  assert.match(server.path, /^.*\/[0-9a-f]{24}\.sock$/);
  assert.equal(server.path, join(folder, server.path.slice(folder.length + 1)));
  assert.ok(Buffer.byteLength(server.path) <= 100);
  assert.equal(statSync(folder).mode & 0o777, 0o700);
  assert.equal(statSync(server.path).mode & 0o777, 0o600);
  assert.equal(controlSocketPath(dir), server.path, 'deterministic');

  const client = await connect(t, dir);
  assert.deepEqual(client.hello, HELLO);
});

test('a fallback folder someone else could write to, or a symlink in its place, is refused', { skip }, async (t) => {
  const dir = longDbDir(t);
  const tmp = privateTmp(t);
  const folder = join(tmp, `peersync-${process.getuid!()}`);
  mkdirSync(folder);
  chmodSync(folder, 0o755);
  assert.throws(() => controlSocketPath(dir), /refusing control socket folder .*mode 0700 .*mode 755/);
  await assert.rejects(
    ControlSocketServer.listen(dir, () => {}, HELLO),
    /refusing control socket folder/,
  );
  await assert.rejects(connectControlSocket(dir), /refusing control socket folder/);

  chmodSync(folder, 0o700);
  assert.ok(controlSocketPath(dir).startsWith(folder), 'a private folder of ours is used');

  const tmp2 = privateTmp(t);
  symlinkSync(folder, join(tmp2, `peersync-${process.getuid!()}`));
  assert.throws(() => controlSocketPath(dir), /non-directory/);
});

test("a killed server's socket file is replaced by the next listen", { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  const script = `
const { ControlSocketServer } = require('./server/control/control-socket.ts');
ControlSocketServer.listen(process.argv[1], () => {}, { pid: process.pid, database: 'child', version: '0' }).then(
  () => console.log('listening'),
  (e) => { console.log('failed ' + e.message); process.exit(1); },
);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [line] = (await withTimeout(once(createInterface({ input: child.stdout }), 'line'), 'child listening', 20_000)) as [string];
  assert.equal(line, 'listening');

  const live = await connect(t, dir);
  assert.equal(live.hello.pid, child.pid);
  await assert.rejects(
    ControlSocketServer.listen(dir, () => {}, HELLO),
    /another process already serves/,
    'a live server is never displaced',
  );

  child.kill('SIGKILL');
  await withTimeout(once(child, 'exit'), 'child exit');
  const path = controlSocketPath(dir);
  assert.ok(existsSync(path), 'a killed server leaves its socket file behind');
  assert.equal(await withTimeout(connectControlSocket(dir), 'connect to a dead socket'), undefined);

  const server = await listen(t, dir);
  assert.equal(statSync(server.path).mode & 0o777, 0o600);
  assert.equal((await connect(t, dir)).hello.pid, process.pid);
});

test('nothing listening means undefined; close() removes the socket file and ends its clients', { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  assert.equal(await withTimeout(connectControlSocket(dir), 'connect with no socket'), undefined);
  assert.equal(await withTimeout(connectControlSocket(join(dir, 'missing')), 'connect to a missing directory'), undefined);

  const server = await listen(t, dir);
  const client = await connect(t, dir);
  const ended = new Promise<void>((resolve) => client.conn.onClose(() => resolve()));
  await withTimeout(server.close(), 'close');
  assert.equal(existsSync(server.path), false);
  await withTimeout(ended, 'the client to see its connection end');
  assert.equal(await withTimeout(connectControlSocket(dir), 'connect after close'), undefined);
});

test(`at most ${MAX_CONTROL_CLIENTS} clients at once; the next is turned away until one leaves`, { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  await listen(t, dir);
  const clients: ControlClient[] = [];
  for (let i = 0; i < MAX_CONTROL_CLIENTS; i++) clients.push(await connect(t, dir));
  await assert.rejects(withTimeout(connectControlSocket(dir), 'connect beyond the limit'), /ended the control connection before saying hello/);

  clients[0]!.close();
  // The server learns of the departure asynchronously and announces it to nobody: retry until a slot is free.
  const next = await poll(() => connectControlSocket(dir).catch(() => undefined), 5000, 'a freed slot');
  t.after(() => next.close());
  assert.deepEqual(next.hello, HELLO);
});

test('a server that accepts but never answers fails loudly after the timeout', { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  // Accepted sockets are kept to be ended at cleanup: a socket nobody reads does not keep the test alive.
  const accepted: Socket[] = [];
  const mute = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => mute.listen(controlSocketPath(dir), resolve));
  t.after(() => {
    for (const socket of accepted) socket.destroy();
    return new Promise<void>((resolve) => mute.close(() => resolve()));
  });
  await assert.rejects(withTimeout(connectControlSocket(dir, { timeoutMs: 200 }), 'connect to a mute server'), /did not answer within 200 ms/);
});

test('a file that is not a socket is neither replaced nor connected to', { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  writeFileSync(join(dir, 'control.sock'), 'not a socket');
  await assert.rejects(
    ControlSocketServer.listen(dir, () => {}, HELLO),
    /not a socket is in the way/,
  );
  await assert.rejects(connectControlSocket(dir), /not a socket owned by uid/);
});

test('a client sending something other than JSON-RPC is dropped, and a failing onConnection only costs its own client', { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  let calls = 0;
  const server = await listen(t, dir, () => {
    if (++calls === 1) throw new Error('handler registration failed');
  });
  await assert.rejects(withTimeout(connectControlSocket(dir), 'connect while onConnection throws'), /ended the control connection before saying hello/);

  const raw = createConnection(server.path);
  raw.on('error', () => {});
  raw.write('this is not a header\r\n\r\n');
  await withTimeout(once(raw, 'close'), 'the server to drop a garbage-sending client');

  assert.deepEqual((await connect(t, dir)).hello, HELLO);
});

test('a listener whose hello is not a PeerSync hello, or that knows no hello, is refused', { skip }, async (t) => {
  const dir = dbDirIn(t, 'db');
  let knowsHello = true;
  const impostor = createServer((socket) => {
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    if (knowsHello) conn.onRequest(ControlHelloRequest.method, () => ({ greeting: 'hi' }));
    conn.listen();
  });
  await new Promise<void>((resolve) => impostor.listen(controlSocketPath(dir), resolve));
  t.after(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
  await assert.rejects(withTimeout(connectControlSocket(dir), 'connect to an impostor'), /is not a PeerSync control server: its hello was \{"greeting":"hi"\}/);
  knowsHello = false;
  await assert.rejects(withTimeout(connectControlSocket(dir), 'connect to a JSON-RPC server without hello'), /is not a PeerSync control server: Unhandled method peersync\/control\/hello/);
});
