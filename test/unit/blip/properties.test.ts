import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PROPERTIES_SIZE } from '../../../server/blip/constants';
import { decodeMessagePayload, encodeMessagePayload, requestProperties } from '../../../server/blip/message';
import { decodeProperties, encodeProperties } from '../../../server/blip/properties';
import { plain, protocolError, text, toHex } from './helpers';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('properties', () => {
  it('encodes as NUL-terminated key/value strings in insertion order, without tokens', () => {
    const encoded = encodeProperties({ Profile: 'getCheckpoint', client: 'x' });
    assert.equal(text(encoded), 'Profile\0getCheckpoint\0client\0x\0');
  });

  it('round-trips, including empty strings and non-ASCII text', () => {
    const props = { Profile: 'rev', '': 'empty key', empty: '', unicode: 'café ☕ 𝄞' };
    assert.deepStrictEqual(plain(decodeProperties(encodeProperties(props))), props);
  });

  it('encodes and decodes an empty map as zero bytes', () => {
    assert.equal(encodeProperties({}).length, 0);
    assert.deepStrictEqual(plain(decodeProperties(new Uint8Array(0))), {});
  });

  it('treats __proto__ and inherited names as plain keys', () => {
    const decoded = decodeProperties(bytes('__proto__\0x\0toString\0y\0'));
    assert.equal(Object.getPrototypeOf(decoded), null);
    assert.equal(decoded['__proto__'], 'x');
    assert.equal(decoded['toString'], 'y');
    assert.equal(decoded['constructor'], undefined);
  });

  it('keeps the first of duplicate keys', () => {
    assert.equal(decodeProperties(bytes('a\x001\0a\x002\0'))['a'], '1');
  });

  it('rejects properties that are not NUL-terminated', () => {
    assert.throws(() => decodeProperties(bytes('Profile\0x')), protocolError('BAD_PROPERTIES'));
  });

  it('rejects a key without a value', () => {
    assert.throws(() => decodeProperties(bytes('a\x001\0b\0')), protocolError('BAD_PROPERTIES'));
  });

  it('rejects invalid UTF-8', () => {
    assert.throws(() => decodeProperties(Uint8Array.of(0x61, 0, 0xff, 0xfe, 0)), protocolError('BAD_PROPERTIES'));
  });

  it('refuses to encode NUL inside a string', () => {
    assert.throws(() => encodeProperties({ 'a\0b': 'c' }), TypeError);
    assert.throws(() => encodeProperties({ a: 'b\0c' }), TypeError);
  });

  it('limits encoded properties to 100 KiB in both directions', () => {
    const atLimit = { k: 'v'.repeat(MAX_PROPERTIES_SIZE - 3) }; // "k\0" + value + "\0"
    assert.equal(encodeProperties(atLimit).length, MAX_PROPERTIES_SIZE);
    assert.throws(() => encodeProperties({ k: 'v'.repeat(MAX_PROPERTIES_SIZE - 2) }), protocolError('PROPERTIES_TOO_LARGE'));
    const tooBig = new Uint8Array(MAX_PROPERTIES_SIZE + 2);
    assert.throws(() => decodeProperties(tooBig), protocolError('PROPERTIES_TOO_LARGE'));
  });
});

describe('message payload', () => {
  it('is varint(props length) + props + body, with the length present when zero', () => {
    assert.equal(toHex(encodeMessagePayload({}, undefined)), '00');
    assert.equal(toHex(encodeMessagePayload({}, 'hi')), '006869');
    const payload = encodeMessagePayload({ a: 'b' }, Uint8Array.of(1, 2));
    assert.equal(toHex(payload), '04' + '6100' + '6200' + '0102');
    const decoded = decodeMessagePayload(payload);
    assert.deepStrictEqual(plain(decoded.properties), { a: 'b' });
    assert.deepStrictEqual([...decoded.body], [1, 2]);
  });

  it('uses a two-byte length for properties of 128 bytes or more', () => {
    const payload = encodeMessagePayload({ k: 'v'.repeat(200) }, undefined);
    assert.equal(toHex(payload.subarray(0, 2)), 'cb01'); // 203 = "k\0" + 200 + "\0"
  });

  it('rejects a properties length running past the message', () => {
    assert.throws(() => decodeMessagePayload(Uint8Array.of(5, 0x61, 0)), protocolError('TRUNCATED_MESSAGE'));
    assert.throws(() => decodeMessagePayload(new Uint8Array(0)), protocolError('TRUNCATED_MESSAGE'));
  });

  it('puts Profile first, and an explicit profile wins over a Profile property', () => {
    assert.deepStrictEqual(Object.keys(requestProperties('p', { z: '1', Profile: 'other', a: '2' })), ['Profile', 'z', 'a']);
    assert.equal(requestProperties('p', { Profile: 'other' })['Profile'], 'p');
    assert.equal(requestProperties(undefined, { Profile: 'other' })['Profile'], 'other');
  });
});
