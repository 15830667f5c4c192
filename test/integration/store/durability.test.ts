import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Database } from '../../../server/store';
import { tempDir } from '../../helpers/temp-dir';
import { flipBits } from '../../helpers/corrupt';

const fill = (i: number) => ({ i, text: 'x'.repeat(200) });

/** A 1 MiB tmpfs, unmounted when the test ends; undefined (and the test skipped) without root. */
function smallDisk(t: TestContext): string | undefined {
  const mnt = mkdtempSync(join(tmpdir(), 'peersync-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  t.after(() => {
    if (mounted.status === 0) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  if (mounted.status !== 0) {
    t.skip('needs root to mount a small tmpfs');
    return undefined;
  }
  return mnt;
}

/** Opens the database again (closed when the test ends): it must hold `count` documents and be consistent. */
async function reopenHolding(t: TestContext, path: string, count: number): Promise<Database> {
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  t.after(() => db.close());
  assert.equal(db.defaultCollection.count(), count);
  assert.deepEqual(db.check(), []);
  return db;
}

test('data survives close and reopen: close keeps the journal for replay, close({ snapshot: true }) folds it in', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  db.inBatch(() => {
    for (let i = 0; i < 50; i++) db.defaultCollection.save({ id: `d${i}`, body: fill(i) });
  });
  const uuid = db.uuid;
  const journalBytes = db.info().journalBytes;
  assert.ok(db.info().imageBytes > 50 * 200, 'the image holds the documents');
  db.close();
  assert.equal(readFileSync(join(path, 'journal.log')).length, journalBytes, 'a plain close leaves the journal as it was');
  assert.ok(!readdirSync(path).some((f) => f.startsWith('snapshot-')), 'and writes no snapshot');
  const again = await Database.open(path, { snapshotIntervalMs: 0 });
  assert.equal(again.uuid, uuid);
  assert.equal(again.defaultCollection.count(), 50, 'replayed from the journal');
  assert.deepEqual(again.defaultCollection.get('d7')?.body, fill(7));
  again.close({ snapshot: true });
  assert.equal(readFileSync(join(path, 'journal.log')).length, 8, 'journal emptied after the closing snapshot');
  assert.ok(readdirSync(path).some((f) => f.startsWith('snapshot-')));
  const third = await Database.open(path, { snapshotIntervalMs: 0 });
  t.after(() => third.close());
  assert.equal(third.defaultCollection.count(), 50, 'read from the snapshot');
  assert.deepEqual(third.defaultCollection.get('d7')?.body, fill(7));
  assert.deepEqual(third.check(), []);
});

test('past its threshold the journal is rotated at once and the snapshot written in the background', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0, snapshotThresholdBytes: 20_000 });
  t.after(() => db.close());
  // About 40 saves fill 20 kB of journal: the rest go to the fresh one while the snapshot is written.
  for (let i = 0; i < 60; i++) db.defaultCollection.save({ id: `d${i}`, body: fill(i) });
  assert.ok(existsSync(join(path, 'journal.prev')), 'the full journal was set aside');
  assert.ok(readFileSync(join(path, 'journal.log')).length < 20_000, 'writes went on in a fresh journal');
  await db.engine.whenSnapshotSettled();
  const snapshots = readdirSync(path).filter((f) => f.startsWith('snapshot-'));
  assert.equal(snapshots.length, 1, `one snapshot, no temp file left: ${readdirSync(path).join(', ')}`);
  assert.ok(!existsSync(join(path, 'journal.prev')), 'the frozen journal is gone once the snapshot is durable');
  assert.ok(db.engine.journalBytes < 20_000 + 1000);
  db.close();
  await reopenHolding(t, path, 60);
});

test('a background snapshot cut short (closed, or crashed) leaves the frozen journal, which the next open replays first', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0, snapshotThresholdBytes: 20_000 });
  for (let i = 0; i < 120; i++) db.defaultCollection.save({ id: `d${i}`, body: fill(i) });
  assert.ok(existsSync(join(path, 'journal.prev')), 'rotated');
  db.close(); // before the background write could finish: it must not touch the directory afterwards
  assert.ok(existsSync(join(path, 'journal.prev')));
  const again = await Database.open(path, { snapshotIntervalMs: 0, snapshotThresholdBytes: 1 << 30 });
  assert.equal(again.defaultCollection.count(), 120, 'frozen journal + current journal replayed in order');
  assert.deepEqual(again.defaultCollection.get('d0')?.body, fill(0));
  again.close({ snapshot: true });
  assert.ok(!existsSync(join(path, 'journal.prev')), 'a snapshot folds the frozen journal in');
  await reopenHolding(t, path, 120);
});

test('a crash between the two renames of a rotation leaves journal.log.next, taken as the journal', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  for (let i = 0; i < 5; i++) db.defaultCollection.save({ id: `d${i}`, body: fill(i) });
  db.close();
  renameSync(join(path, 'journal.log'), join(path, 'journal.log.next'));
  const again = await Database.open(path, { snapshotIntervalMs: 0 });
  t.after(() => again.close());
  assert.equal(again.defaultCollection.count(), 5);
  assert.ok(existsSync(join(path, 'journal.log')) && !existsSync(join(path, 'journal.log.next')));
});

test('journal records already in the snapshot are skipped on replay (crash between snapshot and journal reset)', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  for (let i = 0; i < 5; i++) db.defaultCollection.save({ id: `d${i}`, body: fill(i) });
  const saved = join(tempDir(t), 'journal.copy');
  copyFileSync(join(path, 'journal.log'), saved);
  db.snapshot();
  db.close();
  copyFileSync(saved, join(path, 'journal.log'));
  const again = await Database.open(path, { snapshotIntervalMs: 0 });
  t.after(() => again.close());
  assert.equal(again.defaultCollection.count(), 5);
  assert.equal(again.defaultCollection.lastSequence, 5);
  assert.deepEqual(again.check(), []);
});

test('a corrupt snapshot is reported and no file is changed (never an empty database over existing data)', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  db.defaultCollection.save({ id: 'keep', body: { v: 1 } });
  db.close({ snapshot: true });
  const snap = readdirSync(path).find((f) => f.startsWith('snapshot-'))!;
  const bytes = readFileSync(join(path, snap));
  flipBits(bytes, bytes.length >> 1, 0x55);
  writeFileSync(join(path, snap), bytes);
  const before = Object.fromEntries(readdirSync(path).map((f) => [f, readFileSync(join(path, f)).toString('base64')]));
  await assert.rejects(Database.open(path), { code: 'CORRUPT', message: /fails its checksum.*left untouched/ });
  const after = Object.fromEntries(readdirSync(path).map((f) => [f, readFileSync(join(path, f)).toString('base64')]));
  assert.deepEqual(after, before);
});

test('a journal that does not continue any snapshot is refused', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  db.snapshot();
  db.defaultCollection.save({ id: 'a', body: {} });
  const journalCopy = readFileSync(join(path, 'journal.log'));
  db.close();
  for (const f of readdirSync(path)) if (f.startsWith('snapshot-')) rmSync(join(path, f));
  writeFileSync(join(path, 'journal.log'), journalCopy);
  await assert.rejects(Database.open(path), { code: 'CORRUPT', message: /snapshot it continues is missing/ });
});

test('a second opener is refused while the database is open, in this process and in another', async (t) => {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  t.after(() => db.close());
  await assert.rejects(Database.open(path), { code: 'LOCKED', message: new RegExp(`pid ${process.pid}`) });
  const child = spawnSync(process.execPath, ['dist/cli.js', 'db', 'info', '--db', path], { encoding: 'utf8' });
  assert.equal(child.status, 5);
  assert.match(child.stderr, /in use by another process/);
});

test('a lock left by a killed process is taken over', async (t) => {
  const path = join(tempDir(t), 'db');
  mkdirSync(path);
  const dead = spawn(process.execPath, ['-e', '0']);
  const pid = dead.pid!;
  await new Promise((r) => dead.on('exit', r));
  writeFileSync(join(path, 'LOCK'), JSON.stringify({ pid, host: (await import('node:os')).hostname(), since: 'then' }));
  const db = await Database.open(path, { snapshotIntervalMs: 0 });
  db.close();
});

test('a full disk fails the write with a clear error and loses nothing acknowledged', async (t) => {
  const mnt = smallDisk(t);
  if (!mnt) return;
  const path = join(mnt, 'db');
  const filler = join(mnt, 'filler');
  writeFileSync(filler, Buffer.alloc(100_000));
  const db = await Database.open(path, { snapshotIntervalMs: 0, snapshotThresholdBytes: 1 << 30 });
  const acked: string[] = [];
  let failure: unknown;
  for (let i = 0; i < 10_000 && failure === undefined; i++) {
    try {
      db.defaultCollection.save({ id: `d${i}`, body: { i, pad: 'p'.repeat(2000) } });
      acked.push(`d${i}`);
    } catch (e) {
      failure = e;
    }
  }
  assert.ok(failure, 'the disk should fill up');
  assert.equal((failure as { code?: string }).code, 'IO');
  assert.match((failure as Error).message, /disk is full/);
  assert.equal(db.defaultCollection.get(`d${acked.length}`), undefined, 'the failed write is not visible');
  rmSync(filler);
  db.defaultCollection.save({ id: 'after-space-freed', body: {} });
  acked.push('after-space-freed');
  db.close(); // the journal keeps everything
  const again = await Database.open(path, { snapshotIntervalMs: 0 });
  assert.equal(again.defaultCollection.count(), acked.length);
  for (const id of acked) assert.ok(again.defaultCollection.get(id), id);
  assert.deepEqual(again.check(), []);
  again.close();
});

test('on a full disk a failing automatic snapshot is retried later, not at every commit, and nothing is lost', async (t) => {
  const mnt = smallDisk(t);
  if (!mnt) return;
  const path = join(mnt, 'db');
  const warnings: string[] = [];
  const db = await Database.open(path, { snapshotIntervalMs: 0, snapshotThresholdBytes: 4096, onWarning: (m) => warnings.push(m) });
  // Leave room for journal records (a few hundred bytes each) but not for a snapshot of the image.
  const free = (): number => {
    const s = statfsSync(mnt);
    return s.bavail * s.bsize;
  };
  const room = 24 * 1024;
  assert.ok(db.info().imageBytes > room, 'the image is larger than the room left');
  writeFileSync(join(mnt, 'filler'), Buffer.alloc(free() - room));
  for (let i = 0; i < 12; i++) db.defaultCollection.save({ id: `d${i}`, body: { i } });
  await db.engine.whenSnapshotSettled();
  assert.equal(warnings.length, 1, `one failed attempt: ${warnings.join(' | ')}`);
  assert.match(warnings[0]!, /snapshot not written: the disk is full.*next attempt in 5 s/);
  for (let i = 12; i < 30; i++) db.defaultCollection.save({ id: `d${i}`, body: { i } });
  await db.engine.whenSnapshotSettled();
  assert.equal(warnings.length, 1, 'no new attempt at every commit while it waits');
  rmSync(join(mnt, 'filler'));
  db.close();
  const again = await Database.open(path, { snapshotIntervalMs: 0 });
  assert.equal(again.defaultCollection.count(), 30);
  assert.deepEqual(again.check(), []);
  again.close(); // before the tmpfs is unmounted
});
