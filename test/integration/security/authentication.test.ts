import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ListenerPasswordAuthenticator } from '../../../server/listener/authenticators';
import { AttemptLimiter } from '../../../server/listener/attempt-limiter';
import { Listener, type AuthFailure, type ListenerConfig } from '../../../server/listener/listener';
import { UsersFile } from '../../../server/listener/users-file';
import { Replicator } from '../../../server/replication/replicator';
import { BasicAuthenticator } from '../../../server/replication/replicator-types';
import type { Database } from '../../../server/store';
import { openTempDb } from '../../helpers/open-db';
import { tempDir } from '../../helpers/temp-dir';

async function listen(t: TestContext, database: Database, extra: Partial<ListenerConfig>): Promise<{ listener: Listener; url: string; failures: AuthFailure[] }> {
  const listener = new Listener({ database, networkInterface: '127.0.0.1', disableTLS: true, ...extra });
  const failures: AuthFailure[] = [];
  listener.on('authFailure', (f) => failures.push(f));
  await listener.start();
  t.after(() => listener.stop());
  return { listener, url: listener.urls[0]!, failures };
}

async function pull(database: Database, target: string, auth?: BasicAuthenticator, maxAttempts = 10): Promise<ReturnType<Replicator['whenStopped']>> {
  const r = new Replicator({ database, target, type: 'pull', maxAttempts, ...(auth ? { authenticator: auth } : {}) });
  r.start();
  return r.whenStopped();
}

test('Basic auth: right password replicates; wrong or missing credentials get 401 with a challenge, permanently', async (t) => {
  const { db: server } = await openTempDb(t);
  server.defaultCollection.save({ id: 'secret', body: { v: 1 } });
  const auth = new ListenerPasswordAuthenticator((u, p) => u === 'alice' && p === 'wonderland', 'inventory');
  const { url, failures } = await listen(t, server, { authenticator: auth });

  const { db: good } = await openTempDb(t);
  assert.equal((await pull(good, url, new BasicAuthenticator('alice', 'wonderland'))).error, undefined);
  assert.ok(good.defaultCollection.get('secret'));

  const { db: bad } = await openTempDb(t);
  const s = await pull(bad, url, new BasicAuthenticator('alice', 'nope'));
  assert.equal(s.error?.code, 401);
  assert.equal(s.error?.transient, false, 'no retry storm on bad credentials');
  assert.equal(bad.defaultCollection.count(), 0, 'nothing was received');
  const none = await pull(bad, url);
  assert.equal(none.error?.code, 401);
  assert.equal(bad.defaultCollection.count(), 0);
  assert.ok(
    failures.some((f) => f.status === 401 && f.remoteAddress.includes('127.0.0.1')),
    'failures are reported with the remote address',
  );
});

test('the challenge carries WWW-Authenticate: Basic realm (real clients wait for it before sending credentials)', async (t) => {
  const { db: server } = await openTempDb(t);
  const { url } = await listen(t, server, { authenticator: new ListenerPasswordAuthenticator(() => false, 'inventory') });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url.replace('ws://', 'http://') + '/_blipsync', {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' },
    });
    req.on('response', resolve);
    req.on('upgrade', () => reject(new Error('upgraded without credentials')));
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.statusCode, 401);
  assert.equal(res.headers['www-authenticate'], 'Basic realm="inventory"');
  res.resume();
});

test('a users file stores scrypt hashes (never the password) and authenticates against them', async (t) => {
  const file = join(tempDir(t), 'users.json');
  const users = new UsersFile(file);
  await users.add('bob', 'hunter2');
  await users.add('carol', 'correct horse');
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('hunter2') && !text.includes('correct horse'));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(new UsersFile(file).list(), ['bob', 'carol']);
  assert.equal(await users.verify('bob', 'hunter2'), true);
  assert.equal(await users.verify('bob', 'hunter3'), false);
  assert.equal(await users.verify('mallory', 'hunter2'), false);

  const { db: server } = await openTempDb(t);
  server.defaultCollection.save({ id: 'x', body: {} });
  const { url } = await listen(t, server, { authenticator: users.authenticator() });
  const { db: client } = await openTempDb(t);
  assert.equal((await pull(client, url, new BasicAuthenticator('carol', 'correct horse'))).error, undefined);
  assert.equal(users.remove('carol'), true);
  const { db: client2 } = await openTempDb(t);
  assert.equal((await pull(client2, url, new BasicAuthenticator('carol', 'correct horse'))).error?.code, 401, 'removal applies at once');
});

test('repeated failures from one address get 429 for a cool-down, even with the right password', async (t) => {
  const { db: server } = await openTempDb(t);
  const { url, failures } = await listen(t, server, {
    authenticator: new ListenerPasswordAuthenticator((u, p) => u === 'a' && p === 'b'),
    attemptLimiter: new AttemptLimiter({ maxFailures: 3 }),
  });
  const { db: client } = await openTempDb(t);
  for (let i = 0; i < 3; i++) assert.equal((await pull(client, url, new BasicAuthenticator('a', 'wrong'))).error?.code, 401);
  const locked = await pull(client, url, new BasicAuthenticator('a', 'b'), 1);
  assert.equal(locked.error?.code, 429);
  assert.equal(locked.error?.transient, true);
  assert.ok(failures.some((f) => f.status === 429));
});

test('user names are data, not object keys: toString works, __proto__ is refused when added or found in the file', async (t) => {
  const file = join(tempDir(t), 'users.json');
  const users = new UsersFile(file);
  await users.add('toString', 'pw');
  assert.equal(await users.verify('toString', 'pw'), true);
  assert.equal(await users.verify('__proto__', 'pw'), false);
  assert.equal(await users.verify('constructor', ''), false);
  await assert.rejects(users.add('__proto__', 'pw'), /reserved/);
  assert.deepEqual(new UsersFile(file).list(), ['toString']);
  const record = JSON.parse(readFileSync(file, 'utf8')).users.toString;
  writeFileSync(file, `{"version":1,"users":{"__proto__":${JSON.stringify(record)}}}`);
  assert.throws(() => new UsersFile(file), /entry for "__proto__" is not valid/);
  writeFileSync(file, JSON.stringify({ version: 1, users: { bob: { ...record, N: 2 ** 30 } } }));
  assert.throws(() => new UsersFile(file), /entry for "bob" is not valid/, 'an scrypt cost that would stall every check is refused');
});

test('a replicator refuses credentials in its target URL and warns when Basic credentials would cross ws://', async (t) => {
  const { db } = await openTempDb(t);
  assert.throws(
    () => new Replicator({ database: db, target: 'wss://alice:hunter2@127.0.0.1:4984/db' }),
    (e: Error) => /must not contain a user name or password/.test(e.message) && !e.message.includes('hunter2'),
  );
  assert.throws(
    () => new Replicator({ database: db, target: 'ws://alice:hunter 2@[bad/db' }),
    (e: Error) => !e.message.includes('hunter'),
  );
  assert.deepEqual(new Replicator({ database: db, target: 'wss://127.0.0.1:4984/db', authenticator: new BasicAuthenticator('a', 'b') }).warnings, []);
  assert.match(new Replicator({ database: db, target: 'ws://127.0.0.1:4984/db', authenticator: new BasicAuthenticator('a', 'b') }).warnings.join(), /unencrypted over ws:\/\//);
  assert.match(new Replicator({ database: db, target: 'ws://127.0.0.1:4984/db', headers: { authorization: 'Basic YTpi' } }).warnings.join(), /unencrypted/);
});
