/**
 * The database LOCK with real, separate processes: a running owner is never displaced; a LOCK left
 * by a killed process, or naming a PID now used by an unrelated process, is taken over at once; a
 * LOCK whose owner cannot be checked (another host) is trusted while its owner keeps touching it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { Database } from '../../server/store';
import { currentProcess } from '../../server/store/process-identity';
import { ROOT } from '../helpers/cli';
import { tempDir } from '../helpers/temp-dir';

const OPEN_AND_HOLD = `
const { Database } = require('./server/store/index.ts');
Database.open(process.argv[1]).then(
  (db) => {
    console.log('open');
    process.stdin.on('end', () => { db.close(); process.exit(0); });
    process.stdin.resume();
  },
  (e) => { console.log('refused ' + e.code); process.exit(1); },
);`;

function startNode(t: TestContext, script: string, args: string[] = []): { child: ChildProcess; firstLine: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before printing anything`)));
  });
  return { child, firstLine };
}

const linux = currentProcess().start !== undefined;

test('a second process is refused while the first runs; the LOCK of a killed process is taken over', async (t) => {
  const path = join(tempDir(t), 'db');
  const first = startNode(t, OPEN_AND_HOLD, [path]);
  assert.equal(await first.firstLine, 'open');

  const second = startNode(t, OPEN_AND_HOLD, [path]);
  assert.equal(await second.firstLine, 'refused LOCKED');
  await assert.rejects(Database.open(path), { code: 'LOCKED', message: /in use by another process \(pid \d+/ });

  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  assert.ok(existsSync(join(path, 'LOCK')), 'a killed process leaves its LOCK behind');
  const db = await Database.open(path);
  db.close();
  assert.equal(existsSync(join(path, 'LOCK')), false, 'closing releases it');
});

test('a LOCK naming a live, unrelated process (a reused PID) is taken over', { skip: !linux && 'needs /proc' }, async (t) => {
  const path = join(tempDir(t), 'db');
  (await Database.open(path)).close();
  const unrelated = startNode(t, "console.log('up'); setInterval(() => {}, 1 << 30);");
  assert.equal(await unrelated.firstLine, 'up');
  const me = currentProcess();
  // The PID runs, on this host, this boot and this PID namespace — but it started at another time.
  writeFileSync(join(path, 'LOCK'), JSON.stringify({ pid: unrelated.child.pid, host: hostname(), boot: me.boot, pidNamespace: me.pidNamespace, start: '1' }));
  const db = await Database.open(path);
  assert.equal((JSON.parse(readFileSync(join(path, 'LOCK'), 'utf8')) as { pid: number }).pid, process.pid);
  db.close();
});

test('a LOCK from another host holds while it is touched, and is taken over once it is not', async (t) => {
  const path = join(tempDir(t), 'db');
  (await Database.open(path)).close();
  const lock = join(path, 'LOCK');
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: `not-${hostname()}`, since: new Date().toISOString() }));
  await assert.rejects(Database.open(path), { code: 'LOCKED', message: /on not-/ });
  const longAgo = new Date(Date.now() - 10 * 60_000);
  utimesSync(lock, longAgo, longAgo);
  const db = await Database.open(path);
  db.close();
});

test('the owner touches its LOCK, so it stays fresh for processes that cannot check its PID', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path);
  t.after(() => db.close());
  const lock = join(path, 'LOCK');
  const longAgo = new Date(Date.now() - 10 * 60_000);
  utimesSync(lock, longAgo, longAgo);
  t.mock.timers.tick(10_000);
  const { mtimeMs } = statSync(lock);
  assert.ok(mtimeMs > longAgo.getTime() + 60_000, 'touched by the heartbeat');
});
