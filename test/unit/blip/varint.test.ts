import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeVarint, encodeVarint, tryDecodeVarint, varintLength, writeVarint } from '../../../server/blip/varint';
import { fromHex, protocolError, toHex } from './helpers';

const vectors: [number, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '8001'],
  [300, 'ac02'],
  [16383, 'ff7f'],
  [16384, '808001'],
  [2 ** 32, '8080808010'],
  [2 ** 53 - 1, 'ffffffffffffff0f'],
];

describe('varint', () => {
  for (const [value, hex] of vectors) {
    it(`encodes and decodes ${value}`, () => {
      assert.equal(toHex(encodeVarint(value)), hex);
      assert.equal(varintLength(value), hex.length / 2);
      assert.deepEqual(decodeVarint(fromHex(hex)), { value, length: hex.length / 2 });
    });
  }

  it('decodes at an offset and ignores trailing bytes', () => {
    assert.deepEqual(decodeVarint(fromHex('ffac02ff'), 1), { value: 300, length: 2 });
  });

  it('writes into a buffer and returns the next offset', () => {
    const buf = new Uint8Array(4);
    assert.equal(writeVarint(300, buf, 1), 3);
    assert.equal(toHex(buf), '00ac0200');
  });

  it('accepts a non-minimal encoding whose value fits', () => {
    assert.deepEqual(decodeVarint(fromHex('80808080808080808000')), { value: 0, length: 10 });
  });

  it('reports a truncated varint', () => {
    assert.equal(tryDecodeVarint(fromHex('8080')), undefined);
    assert.equal(tryDecodeVarint(new Uint8Array(0)), undefined);
    assert.throws(() => decodeVarint(fromHex('ff')), protocolError('BAD_VARINT'));
  });

  it('rejects a varint longer than 10 bytes', () => {
    assert.throws(() => decodeVarint(fromHex('8080808080808080808000')), protocolError('BAD_VARINT'));
  });

  it('rejects values above 2^53-1', () => {
    assert.throws(() => decodeVarint(fromHex('8080808080808080807f')), protocolError('BAD_VARINT'));
    assert.throws(() => decodeVarint(fromHex('80808080808080808001')), protocolError('BAD_VARINT'));
    assert.throws(() => decodeVarint(fromHex('ffffffffffffff1f')), protocolError('BAD_VARINT'));
  });

  it('refuses to encode negative, fractional or unsafe numbers', () => {
    assert.throws(() => encodeVarint(-1), RangeError);
    assert.throws(() => encodeVarint(1.5), RangeError);
    assert.throws(() => encodeVarint(2 ** 53), RangeError);
  });
});
