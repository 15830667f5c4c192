import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outcomeText, relativeTime, resolutionDescription, resolutionNotice } from '../../../extension/conflicts/resolution-text';
import type { ResolvedConflict } from '../../../server/rpc/protocol';

const base: ResolvedConflict = {
  id: 7,
  time: 1_000_000,
  db: 'shop',
  collection: '_default._default',
  docId: 'milk',
  resolver: 'default',
  competing: [],
  outcome: 'kept',
  resultRevId: '3-abcdef0123456789',
  discarded: [{ revId: '2-ffff', deleted: false, body: { a: 1 } }],
};

test('relative times grow from seconds to dates', () => {
  const now = Date.UTC(2026, 0, 20);
  assert.equal(relativeTime(now - 10_000, now), 'just now');
  assert.equal(relativeTime(now - 5 * 60_000, now), '5 min ago');
  assert.equal(relativeTime(now - 3 * 3600_000, now), '3 h ago');
  assert.equal(relativeTime(now - 24 * 3600_000, now), '1 day ago');
  assert.equal(relativeTime(now - 30 * 24 * 3600_000, now), '2025-12-21');
  assert.equal(relativeTime(now + 5000, now), 'just now', 'a clock slightly ahead is not "in the future"');
});

test('the outcome names the revision kept or merged', () => {
  assert.equal(outcomeText(base), 'kept 3-abcdef0');
  assert.equal(outcomeText({ ...base, outcome: 'merged' }), 'merged into 3-abcdef0');
  assert.equal(outcomeText({ ...base, outcome: 'deleted' }), 'deleted the document');
  assert.equal(resolutionDescription(base, base.time + 120_000), 'by default · kept · 2 min ago');
});

test('one resolution is named; several are counted', () => {
  assert.equal(resolutionNotice([base]), 'PeerSync resolved a conflict in “milk” (default: kept 3-abcdef0, discarded 1).');
  assert.equal(resolutionNotice([base, { ...base, id: 8, docId: 'eggs' }]), 'PeerSync: 2 conflicts resolved.');
  assert.equal(resolutionNotice([base, { ...base, id: 8 }, { ...base, id: 9, docId: 'eggs' }]), 'PeerSync: 3 conflicts resolved in 2 documents.');
});
