import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Database, canonicalJson, computeRevId } from '../../server/store';
import { CHILD_HANG_GUARD_MS, CLI, cli, spawn } from '../helpers/cli';
import { tempDir } from '../helpers/temp-dir';

test('db create / put / get / ls / history / delete round trip, with --json', (t) => {
  const db = join(tempDir(t), 'inv');
  assert.equal(cli(['db', 'create', '--db', db]).status, 0);
  const again = cli(['db', 'create', '--db', db]);
  assert.equal(again.status, 8);
  assert.match(again.stderr, /already exists/);

  const put = cli(['db', 'put', 'apple', '{"qty":10}', '--db', db, '--json']);
  assert.equal(put.status, 0, put.stderr);
  const saved = JSON.parse(put.stdout) as { id: string; rev: string; sequence: number };
  assert.equal(saved.id, 'apple');
  assert.match(saved.rev, /^1-[0-9a-f]{40}$/);

  const put2 = cli(['db', 'put', 'apple', '-', '--db', db, '--json'], { input: '{"qty":11}' });
  assert.equal(put2.status, 0, put2.stderr);
  const rev2 = (JSON.parse(put2.stdout) as { rev: string }).rev;
  assert.match(rev2, /^2-/);

  assert.deepEqual(JSON.parse(cli(['db', 'get', 'apple', '--db', db]).stdout), { qty: 11 });
  const stale = cli(['db', 'put', 'apple', '{"qty":0}', '--rev', saved.rev, '--fail-on-conflict', '--db', db]);
  assert.equal(stale.status, 4);
  assert.match(stale.stderr, /changed since revision/);

  const ls = cli(['db', 'ls', '--db', db, '--json'])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; rev: string });
  assert.deepEqual(
    ls.map((d) => [d.id, d.rev]),
    [['apple', rev2]],
  );
  const history = JSON.parse(cli(['db', 'history', 'apple', '--db', db, '--json']).stdout) as { revId: string; winner: boolean }[];
  assert.deepEqual(
    history.map((h) => h.revId),
    [rev2, saved.rev],
  );

  assert.equal(cli(['db', 'delete', 'apple', '--db', db]).status, 0);
  assert.equal(cli(['db', 'get', 'apple', '--db', db]).status, 3);
  assert.equal(cli(['db', 'get', 'apple', '--include-deleted', '--db', db, '--json']).status, 0);
});

test('bad input gets a one-line error and a distinct exit code', (t) => {
  const db = join(tempDir(t), 'inv');
  cli(['db', 'create', '--db', db]);
  const cases: [string[], number, RegExp][] = [
    [['db', 'put', 'x', '{nope', '--db', db], 9, /not valid JSON/],
    [['db', 'put', 'x', '[1,2]', '--db', db], 9, /must be a JSON object/],
    [['db', 'put', 'x'.repeat(300), '{}', '--db', db], 9, /1–240 bytes/],
    [['db', 'get', 'missing', '--db', db], 3, /not found/],
    [['serve', '--max-failed-logins', '0', '--db', db], 2, /--max-failed-logins must be a positive integer/],
    [['db', 'ls', '--db', join(db, 'nope')], 3, /no database at/],
    [['db', 'ls', '--bogus', '--db', db], 2, /Unknown option/],
    [['db', 'frobnicate'], 2, /unknown command.*subcommands: create/],
    [['db', 'resolve', 'x', '--db', db], 2, /exactly one of/],
    [['db', 'resolve', 'x', '--delete', '--db', db], 3, /not found/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = cli(args);
    assert.equal(r.status, code, `${args.join(' ')} → ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

test('--help on every command', () => {
  for (const cmd of [
    'db create',
    'db create-collection',
    'db delete-collection',
    'db info',
    'db put',
    'db get',
    'db delete',
    'db purge',
    'db ls',
    'db history',
    'db conflicts',
    'db resolve',
    'db resolved',
    'db restore',
    'db schema',
    'db import',
    'db export',
    'serve',
    'replicate',
    'identity create',
    'identity import',
    'identity export',
    'identity ls',
    'identity rm',
    'users add',
    'users rm',
    'users ls',
  ]) {
    const r = cli([...cmd.split(' '), '--help']);
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, new RegExp(`^Usage: peersync ${cmd}`), cmd);
    assert.match(r.stdout, /--db PATH/);
  }
  assert.match(cli(['--help']).stdout, /Commands:/);
  for (const group of ['db', 'identity', 'users']) {
    const r = cli([group, '--help']);
    assert.equal(r.status, 0, `${group} --help`);
    assert.match(r.stdout, new RegExp(`^Usage: peersync ${group} <command>`));
    assert.match(r.stdout, new RegExp(`${group} ls`));
    assert.equal(cli([group]).status, 2, `${group} alone is a usage error that shows the same help`);
  }
});

test('import JSON lines and a JSON array in batches, export round-trips', (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'inv');
  cli(['db', 'create', '--db', db]);
  const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ _id: `doc${String(i).padStart(5, '0')}`, n: i })).join('\n');
  const imp = cli(['db', 'import', '-', '--batch', '1000', '--db', db, '--json'], { input: lines });
  assert.equal(imp.status, 0, imp.stderr);
  assert.deepEqual(JSON.parse(imp.stdout), { imported: 2500, batches: 3 });

  const arrayFile = join(dir, 'arr.json');
  writeFileSync(arrayFile, JSON.stringify([{ _id: 'a1', v: 1 }, { v: 2 }], null, 2));
  assert.equal(JSON.parse(cli(['db', 'import', arrayFile, '--db', db, '--json']).stdout).imported, 2);

  const out = join(dir, 'out.jsonl');
  assert.equal(cli(['db', 'export', out, '--db', db]).status, 0);
  const exported = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(exported.length, 2502);
  assert.deepEqual(exported.find((d) => d._id === 'doc00042')?.n, 42);
  assert.match(String(exported[0]?._rev), /^1-/);

  const db2 = join(dir, 'copy');
  cli(['db', 'create', '--db', db2]);
  assert.equal(JSON.parse(cli(['db', 'import', out, '--db', db2, '--json']).stdout).imported, 2502);
  assert.deepEqual(JSON.parse(cli(['db', 'get', 'doc00042', '--db', db2]).stdout), { n: 42 });
});

test('an invalid line stops the import with its line number and keeps the batches before it', (t) => {
  const db = join(tempDir(t), 'inv');
  cli(['db', 'create', '--db', db]);
  const input = ['{"_id":"a"}', '{"_id":"b"}', '{"_id": oops}', '{"_id":"d"}'].join('\n');
  const r = cli(['db', 'import', '-', '--batch', '1', '--db', db], { input });
  assert.equal(r.status, 9);
  assert.match(r.stderr, /line 3: invalid JSON.*2 documents imported before it/);
  assert.equal(cli(['db', 'ls', '--db', db, '--json']).stdout.trim().split('\n').length, 2);
});

test('conflicts are listed and resolved from the command line', async (t) => {
  const db = join(tempDir(t), 'inv');
  // Create a conflict through the store API (replication is what normally makes them).
  const d = await Database.open(db);
  const base = d.defaultCollection.save({ id: 'c', body: { v: 0 } });
  d.defaultCollection.save({ id: 'c', revId: base.revId, body: { v: 'local' } });
  const remote = computeRevId(base.revId, false, canonicalJson({ v: 'remote' }));
  d.defaultCollection.insertRevisionWithHistory({ id: 'c', body: { v: 'remote' } }, [remote, base.revId]);
  d.close();
  const listed = JSON.parse(cli(['db', 'conflicts', '--db', db, '--json']).stdout) as { docId: string }[];
  assert.deepEqual(
    listed.map((c) => c.docId),
    ['c'],
  );
  const r = cli(['db', 'resolve', 'c', '--merged', '{"v":"both"}', '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(cli(['db', 'get', 'c', '--db', db]).stdout), { v: 'both' });
  assert.equal(cli(['db', 'conflicts', '--db', db]).stdout.trim(), '(no conflicts)');
});

test('serve --demo seeds the inventory list, reports where the data is, and shuts down cleanly on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, [CLI, 'serve', '--demo', '--json', '--port', '0', '--interface', '127.0.0.1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  t.after(() => clearTimeout(timer));
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error(`serve exited before it was ready: ${stderr}`);
    }),
  ])) as [string];
  const ready = JSON.parse(first) as { event: string; path: string; seeded: boolean };
  assert.equal(ready.event, 'ready');
  assert.equal(ready.path, join(dir, '.peersync', 'inventory'));
  assert.equal(ready.seeded, true);
  const beside = cli(['db', 'info', '--db', ready.path]);
  assert.equal(beside.status, 0, `db info goes through the running server: ${beside.stderr}`);
  assert.match(beside.stdout, /served by PeerSync process \d+/);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
  const list = JSON.parse(cli(['db', 'get', 'list', '--db', ready.path]).stdout) as { type: string; list: { key: string; image: { digest: string } }[] };
  assert.equal(list.type, 'list');
  assert.deepEqual(
    list.list.map((i) => i.key),
    ['Apples', 'oranges'],
  );
  assert.match(list.list[0]!.image.digest, /^sha1-/);
});
