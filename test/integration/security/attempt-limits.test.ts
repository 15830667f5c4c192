import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ListenerPasswordAuthenticator, type PasswordCheck } from '../../../server/listener/authenticators';
import { Listener } from '../../../server/listener/listener';
import { UsersFile } from '../../../server/listener/users-file';
import { openTempDb } from '../../helpers/open-db';
import { tempDir } from '../../helpers/temp-dir';
import { withTimeout } from '../../helpers/wait';

/** Authentication attempts against a real listener on loopback, with the default limits. */

async function listen(t: TestContext, check: PasswordCheck): Promise<string> {
  const { db } = await openTempDb(t);
  const listener = new Listener({ database: db, networkInterface: '127.0.0.1', disableTLS: true, authenticator: new ListenerPasswordAuthenticator(check) });
  await listener.start();
  t.after(() => listener.stop());
  return listener.urls[0]!.replace(/^ws:/, 'http:') + '/_blipsync';
}

/** One WebSocket upgrade with Basic credentials: 101 when accepted, else the HTTP status. */
function attempt(url: string, user: string, password: string): Promise<number> {
  let req: ClientRequest | undefined;
  const answer = new Promise<number>((resolve, reject) => {
    req = request(url, {
      agent: false,
      headers: {
        Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3',
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  return withTimeout(answer, 'an answer to the upgrade', 30_000).finally(() => req?.destroy());
}

function count(statuses: number[], status: number): number {
  return statuses.filter((s) => s === status).length;
}

test('60 concurrent wrong passwords from one address: 429s, and the scrypt checks are few and never many at once', async (t) => {
  const users = new UsersFile(join(tempDir(t), 'users.json'));
  await users.add('alice', 'the right one');
  let checks = 0;
  let running = 0;
  let mostAtOnce = 0;
  const url = await listen(t, async (user, password) => {
    checks++;
    mostAtOnce = Math.max(mostAtOnce, ++running);
    try {
      return await users.verify(user, password);
    } finally {
      running--;
    }
  });
  const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt(url, 'alice', `guess ${i}`)));
  assert.equal(count(statuses, 101), 0);
  assert.ok(count(statuses, 429) >= 50, `most guesses get 429 without a check: ${JSON.stringify(statuses)}`);
  assert.ok(checks <= 10, `at most 10 password checks ran (got ${checks})`);
  assert.ok(mostAtOnce <= 2, `at most 2 checks ran at once (got ${mostAtOnce})`);
});

test('9 wrong passwords then the right one, repeated, is blocked: a success does not wipe the failures', async (t) => {
  const url = await listen(t, (u, p) => u === 'bob' && p === 'secret');
  const statuses: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 9; i++) statuses.push(await attempt(url, 'bob', `wrong ${round}.${i}`));
    statuses.push(await attempt(url, 'bob', 'secret'));
  }
  assert.deepEqual(statuses.slice(0, 10), [...Array<number>(9).fill(401), 101]);
  assert.equal(statuses[10], 401, 'the tenth wrong password is still checked');
  assert.deepEqual(statuses.slice(11), Array<number>(9).fill(429), 'then bob is blocked at this address, right password included');
});

test('a success for one user does not reset the count of guesses at another; the other user is not locked out', async (t) => {
  const url = await listen(t, (u, p) => (u === 'alice' && p === 'a') || (u === 'bob' && p === 'b'));
  for (let i = 0; i < 9; i++) assert.equal(await attempt(url, 'bob', `guess ${i}`), 401);
  assert.equal(await attempt(url, 'alice', 'a'), 101);
  assert.equal(await attempt(url, 'bob', 'guess 9'), 401);
  assert.equal(await attempt(url, 'bob', 'b'), 429, 'bob is blocked after 10 wrong guesses');
  assert.equal(await attempt(url, 'alice', 'a'), 101, 'alice, behind the same address, still gets in');
});

test('guessing across many user names from one address is limited too', async (t) => {
  const url = await listen(t, () => false);
  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) statuses.push(await attempt(url, `user${i % 12}`, 'guess'));
  assert.deepEqual(statuses.slice(0, 50), Array<number>(50).fill(401));
  assert.deepEqual(statuses.slice(50), Array<number>(10).fill(429));
});
