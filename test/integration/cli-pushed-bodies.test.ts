/**
 * What a listener refuses never reaches `db get`, `db export` or `db import`: a pushed body nested
 * too deeply, or naming its own `_id`, leaves the database readable and exportable as it was.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BlipError } from '../../server/blip';
import { Database } from '../../server/store';
import { cli } from '../helpers/cli';
import { connectRawClient, nestedJson, pushRev } from '../helpers/raw-peer';
import { tempDir } from '../helpers/temp-dir';

test('pushed bodies the store refuses leave db get / db export / db import working', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'listener');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  try {
    const client = connectRawClient(t, db);
    await pushRev(client, 'plain', '1-aaaa', '{"v":1}');
    const refused = [pushRev(client, 'deep', '1-bbbb', nestedJson(5000)), pushRev(client, 'real', '1-cccc', '{"_id":"impostor","v":2}')];
    for (const push of refused) await assert.rejects(push, (e: unknown) => e instanceof BlipError && e.code === 400);
  } finally {
    db.close();
  }

  assert.equal(cli(['db', 'get', 'deep', '--db', path]).status, 3, 'refused, so not found');
  assert.equal(cli(['db', 'get', 'real', '--db', path]).status, 3);
  assert.deepEqual(JSON.parse(cli(['db', 'get', 'plain', '--db', path]).stdout), { v: 1 });

  const file = join(dir, 'export.jsonl');
  const exported = cli(['db', 'export', file, '--db', path]);
  assert.equal(exported.status, 0, exported.stderr);
  const records = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    records.map((r) => [r['_id'], r['v']]),
    [['plain', 1]],
  );

  const copy = join(dir, 'copy');
  assert.equal(cli(['db', 'create', '--db', copy]).status, 0);
  assert.equal(cli(['db', 'import', file, '--db', copy]).status, 0);
  const listed = cli(['db', 'ls', '--db', copy, '--json'])
    .stdout.trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
  assert.deepEqual(listed, ['plain']);
});
