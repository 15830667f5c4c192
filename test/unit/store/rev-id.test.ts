import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '../../../server/store/canonical-json';
import { compareRevIds, computeRevId, parseRevId } from '../../../server/store/rev-id';
import type { RevId } from '../../../server/store/types';

// Expected digests were computed outside this code base, with coreutils:
//   printf '\x00\x00{"x":1}' | sha1sum
//   printf '\x2a1-6f9a1fe5dfad0377e089c5e8e0afab815938295d\x00{"x":2}' | sha1sum
//   printf '\x00\x01{}' | sha1sum
//   printf '\x00\x00{"a":[1,"b",{"c":null,"d":true}],"z":"\xc3\xa9"}' | sha1sum
test('revision IDs match known SHA-1 vectors', () => {
  const r1 = computeRevId(null, false, canonicalJson({ x: 1 }));
  assert.equal(r1, '1-6f9a1fe5dfad0377e089c5e8e0afab815938295d');
  assert.equal(computeRevId(r1, false, canonicalJson({ x: 2 })), '2-7416fb2d2cfbba6c2a517187294aed17dd9735da');
  assert.equal(computeRevId(null, true, canonicalJson({})), '1-2187de4ecda0f0bdd6c60ada60e5ec8dca99d88e');
  assert.equal(computeRevId(null, false, canonicalJson({ z: 'é', a: [1, 'b', { d: true, c: null }] })), '1-d7129006b7a00e36daea3dd0e3f6ea9bdee1a16f');
});

test('key order does not change the revision ID; parent and deletion do', () => {
  const a = computeRevId(null, false, canonicalJson({ a: 1, b: { c: 2, d: 3 } }));
  const b = computeRevId(null, false, canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  assert.equal(a, b);
  assert.notEqual(computeRevId(null, true, canonicalJson({ a: 1, b: { c: 2, d: 3 } })), a);
  assert.notEqual(computeRevId('1-abc' as RevId, false, canonicalJson({ a: 1, b: { c: 2, d: 3 } })).slice(2), a.slice(2));
});

test('generation is parent + 1', () => {
  assert.equal(parseRevId(computeRevId('41-ff' as RevId, false, '{}')).generation, 42);
});

test('canonical JSON rejects values JSON cannot hold', () => {
  assert.throws(() => canonicalJson({ n: Number.NaN }), /non-finite/);
  assert.throws(() => canonicalJson({ d: new Date() } as never), /not plain JSON/);
  assert.equal(canonicalJson({ u: undefined, a: [undefined] } as never), '{"a":[null]}');
});

test('canonical JSON sorts keys by string order at every level, integer-like keys included', () => {
  assert.equal(canonicalJson({ b: { d: 1, c: [{ z: 1, y: 2 }] }, a: 'x' }), '{"a":"x","b":{"c":[{"y":2,"z":1}],"d":1}}');
  assert.equal(canonicalJson({ '10': 1, '9': 2, b: { '2': 1, '10': 3 } }), '{"10":1,"9":2,"b":{"10":3,"2":1}}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), '{"a":1,"b":2}');
});

test('revision IDs order by generation numerically, then digest', () => {
  const ids = ['10-aa', '9-ff', '10-ab', '2-zz'] as RevId[];
  assert.deepEqual([...ids].sort(compareRevIds), ['2-zz', '9-ff', '10-aa', '10-ab']);
});

test('malformed revision IDs are rejected with a clear error', () => {
  for (const bad of ['', '0-abc', 'abc', '1-', '-1-a', '1-a,b', '1-a b']) {
    assert.throws(() => parseRevId(bad), { name: 'StoreError', code: 'INVALID_REV_ID' }, bad);
  }
});
