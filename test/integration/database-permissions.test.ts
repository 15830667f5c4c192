/** Document data is private to its owner: database and blob folders 0700, their files 0600. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Database } from '../../server/store';
import { tempDir } from '../helpers/temp-dir';

const posix = process.platform !== 'win32';

function othersCanRead(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}

test('database folder, journal, snapshots, blobs folder and blob files are readable by their owner only', { skip: !posix && 'POSIX permissions' }, async (t) => {
  const path = join(tempDir(t), 'nested', 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  db.defaultCollection.save({ id: 'doc', body: { secret: true } });
  db.saveBlob(Buffer.from('content'), 'text/plain');
  const streamed = Buffer.from('streamed in pieces');
  const writer = db.blobs.createWriter();
  writer.write(streamed);
  writer.install({ digest: `sha1-${createHash('sha1').update(streamed).digest('base64')}`, length: streamed.length });
  db.snapshot();
  db.defaultCollection.save({ id: 'doc2', body: { secret: true } });
  db.close();
  const files = readdirSync(path);
  assert.ok(
    files.some((f) => f.startsWith('snapshot-')),
    files.join(),
  );
  for (const entry of [path, join(path, 'blobs')]) assert.equal(statSync(entry).mode & 0o777, 0o700, entry);
  for (const f of files.filter((f) => f !== 'blobs')) assert.equal(othersCanRead(join(path, f)), false, f);
  for (const f of readdirSync(join(path, 'blobs'))) assert.equal(othersCanRead(join(path, 'blobs', f)), false, f);
});

test('a database made by an older version (0755 folder, 0644 journal) is tightened when opened', { skip: !posix && 'POSIX permissions' }, async (t) => {
  const path = join(tempDir(t), 'db');
  (await Database.open(path)).close();
  chmodSync(path, 0o755);
  chmodSync(join(path, 'journal.log'), 0o644);
  (await Database.open(path)).close();
  assert.equal(statSync(path).mode & 0o777, 0o700);
  assert.equal(statSync(join(path, 'journal.log')).mode & 0o777, 0o600);
});
