import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Journal, JOURNAL_MAGIC } from '../../../server/store/journal';
import { tempDir } from '../../helpers/temp-dir';
import { flipBits } from '../../helpers/corrupt';

function withRecords(dir: string, payloads: string[]): string {
  const path = join(dir, 'journal.log');
  const { journal } = Journal.open(path);
  for (const p of payloads) journal.append(Buffer.from(p));
  journal.close();
  return path;
}

test('records round-trip in order', (t) => {
  const path = withRecords(tempDir(t), ['{"a":1}', '{"b":2}']);
  const { journal, records, tornBytes } = Journal.open(path);
  journal.close();
  assert.deepEqual(records.map(String), ['{"a":1}', '{"b":2}']);
  assert.equal(tornBytes, 0);
  // framing: magic, then u32 length, u32 crc, payload
  const raw = readFileSync(path);
  assert.deepEqual(raw.subarray(0, 8), JOURNAL_MAGIC);
  assert.equal(raw.readUInt32BE(8), 7);
});

test('a torn last record (short write) is discarded and cut off; earlier records survive', (t) => {
  const dir = tempDir(t);
  const path = withRecords(dir, ['{"a":1}', '{"b":2}']);
  truncateSync(path, statSync(path).size - 3);
  const { journal, records, tornBytes } = Journal.open(path);
  assert.deepEqual(records.map(String), ['{"a":1}']);
  assert.equal(tornBytes, 8 + 7 - 3);
  journal.append(Buffer.from('{"c":3}'));
  journal.close();
  assert.deepEqual(Journal.open(path).records.map(String), ['{"a":1}', '{"c":3}'], 'new appends follow the valid data');
  assert.ok(
    readdirSync(dir).some((f) => f.startsWith('journal.log.tail-')),
    'the discarded bytes are kept aside',
  );
});

test('a zero-filled tail (allocated, never written) is treated as torn', (t) => {
  const path = withRecords(tempDir(t), ['{"a":1}']);
  appendFileSync(path, Buffer.alloc(4096));
  const { journal, records, tornBytes } = Journal.open(path);
  journal.close();
  assert.deepEqual(records.map(String), ['{"a":1}']);
  assert.equal(tornBytes, 4096);
});

test('a bad checksum on the last record is a torn write; in the middle it is corruption and nothing is touched', (t) => {
  const dir = tempDir(t);
  const path = withRecords(dir, ['{"a":1}', '{"b":2}', '{"c":3}']);
  const raw = readFileSync(path);
  const lastPayload = raw.length - 2;
  const tornCopy = Buffer.from(raw);
  flipBits(tornCopy, lastPayload, 0xff);
  writeFileSync(path, tornCopy);
  const opened = Journal.open(path);
  opened.journal.close();
  assert.deepEqual(opened.records.map(String), ['{"a":1}', '{"b":2}']);

  const path2 = withRecords(tempDir(t), ['{"a":1}', '{"b":2}', '{"c":3}']);
  const damaged = readFileSync(path2);
  flipBits(damaged, 8 + 8 + 2, 0xff); // inside the first payload
  writeFileSync(path2, damaged);
  assert.throws(() => Journal.open(path2), { code: 'CORRUPT', message: /corrupt at byte 8 .*left untouched/ });
  assert.deepEqual(readFileSync(path2), damaged, 'file unchanged');
});

test('a file that is not a journal is refused', (t) => {
  const path = join(tempDir(t), 'journal.log');
  writeFileSync(path, 'SQLite format 3\u0000 and more');
  assert.throws(() => Journal.open(path), { code: 'CORRUPT', message: /not a PeerSync journal/ });
});

test('group commit: deferred appends are durable once whenDurable() resolves, and survive reopening', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'journal.log');
  const { journal } = Journal.open(path);
  journal.append(Buffer.from('{"a":1}'), false);
  journal.append(Buffer.from('{"b":2}'), false);
  const durable = journal.whenDurable();
  journal.append(Buffer.from('{"c":3}'), false);
  await durable;
  await journal.whenDurable();
  journal.close();
  assert.deepEqual(Journal.open(path).records.map(String), ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('waiters are released when a snapshot empties the journal, and fail once it is closed', async (t) => {
  const { journal } = Journal.open(join(tempDir(t), 'journal.log'));
  journal.append(Buffer.from('{"a":1}'), false);
  const waiting = journal.whenDurable();
  journal.reset();
  await waiting;
  journal.close();
  await assert.rejects(journal.whenDurable(), { code: 'FAILED_STATE' });
});

test('records can be streamed to a callback as they are read (nothing collected); a torn tail still ends the scan', (t) => {
  const path = withRecords(tempDir(t), ['{"a":1}', '{"b":2}', '{"c":3}']);
  truncateSync(path, statSync(path).size - 2);
  const seen: string[] = [];
  const { journal, records, tornBytes } = Journal.open(path, (payload) => seen.push(String(payload)));
  journal.close();
  assert.deepEqual(seen, ['{"a":1}', '{"b":2}']);
  assert.deepEqual(records, [], 'streamed, not collected');
  assert.equal(tornBytes, 8 + 7 - 2);
});
