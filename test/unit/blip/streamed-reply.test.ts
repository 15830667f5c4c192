import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlipError } from '../../../server/blip/errors';
import { compressibleText, connectedPair, plain, pseudoRandomBytes } from './helpers';
import { withTimeout } from '../../helpers/wait';

describe('streamed reply bodies', () => {
  it('hands the body to the sink frame by frame, beyond the message size limit, with the properties on the reply', async () => {
    const { a, b } = connectedPair({ maxMessageSize: 64 * 1024 }, {});
    const content = pseudoRandomBytes(300_000);
    b.onRequest('get', () => ({ properties: { kind: 'blob' }, body: content }));
    const chunks: Uint8Array[] = [];
    const reply = await withTimeout(a.request({ profile: 'get' }, { data: (c) => chunks.push(Buffer.from(c)) }), 'streamed reply');
    assert.deepEqual(plain(reply.properties), { kind: 'blob' });
    assert.equal(reply.body.length, 0);
    assert.ok(chunks.length > 1, 'several pieces');
    assert.ok(Buffer.concat(chunks).equals(content));
    a.close();
  });

  it('inflates compressed frames before the sink sees them', async () => {
    const { a, b } = connectedPair();
    const content = Buffer.from(compressibleText(200_000));
    b.onRequest('get', () => ({ body: content, compressed: true }));
    const chunks: Uint8Array[] = [];
    const reply = await withTimeout(a.request({ profile: 'get' }, { data: (c) => chunks.push(Buffer.from(c)) }), 'compressed reply');
    assert.equal(reply.compressed, true);
    assert.ok(Buffer.concat(chunks).equals(content));
    a.close();
  });

  it('an error reply rejects as usual; a sink that throws fails only its request', async () => {
    const { a, b } = connectedPair();
    b.onRequest('missing', () => {
      throw new BlipError('HTTP', 404, 'no such thing');
    });
    b.onRequest('get', () => ({ body: pseudoRandomBytes(100_000) }));
    b.onRequest('ping', () => ({ body: 'pong' }));
    await assert.rejects(a.request({ profile: 'missing' }, { data: () => assert.fail('no body expected') }), (e: unknown) => e instanceof BlipError && e.code === 404);
    let seen = 0;
    const sink = {
      data: (c: Uint8Array): void => {
        seen += c.length;
        if (seen > 10_000) throw new Error('too much');
      },
    };
    await assert.rejects(withTimeout(a.request({ profile: 'get' }, sink), 'refused reply'), /too much/);
    const pong = await withTimeout(a.request({ profile: 'ping' }), 'next request');
    assert.equal(pong.text(), 'pong');
    a.close();
  });
});
