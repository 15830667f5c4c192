import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deflater, stripSyncFlushTrailer } from '../../../server/blip/compression';
import { WindowedInflater } from '../../../server/blip/windowed-inflater';
import { compressibleText, protocolError, pseudoRandomBytes } from './helpers';

/** Frames as a peer sends them: one deflate stream, sync-flushed after each. */
async function deflateFrames(inputs: readonly Uint8Array[], level = 6): Promise<Uint8Array[]> {
  const deflater = new Deflater(level);
  try {
    const out: Uint8Array[] = [];
    for (const input of inputs) out.push(stripSyncFlushTrailer(await deflater.deflate(input)));
    return out;
  } finally {
    deflater.close();
  }
}

describe('WindowedInflater (synchronous, history as the preset dictionary)', () => {
  it('inflates a long stream of frames exactly as one context would, far past the 32 KiB window', async () => {
    // Similar documents, so later frames reference earlier ones; some large, some random.
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 97 === 13) inputs.push(pseudoRandomBytes(3000 + i));
      else if (i % 50 === 7) inputs.push(new Uint8Array(Buffer.from(compressibleText(40_000 + i))));
      else inputs.push(new Uint8Array(Buffer.from(JSON.stringify({ id: `doc-${i}`, n: i, text: compressibleText(200 + (i % 7) * 150) }))));
    }
    for (const level of [1, 6, 9]) {
      const frames = await deflateFrames(inputs, level);
      const inflater = new WindowedInflater();
      frames.forEach((frame, i) => assert.deepEqual(Buffer.from(inflater.inflate(frame, 1 << 20)), Buffer.from(inputs[i]!), `frame ${i} at level ${level}`));
    }
  });

  it('needs the history: a frame that refers back cannot be inflated alone', async () => {
    const data = pseudoRandomBytes(2000);
    const [, second] = await deflateFrames([data, data]);
    assert.throws(() => new WindowedInflater().inflate(second!, 1 << 20), protocolError('BAD_COMPRESSED_DATA'));
  });

  it('refuses to inflate beyond the per-frame cap, and corrupt data, with protocol errors', async () => {
    const [bomb] = await deflateFrames([new Uint8Array(10 * 1024 * 1024)], 9);
    assert.throws(() => new WindowedInflater().inflate(bomb!, 64 * 1024), protocolError('INFLATE_LIMIT'));
    assert.throws(() => new WindowedInflater().inflate(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x00), 1 << 20), protocolError('BAD_COMPRESSED_DATA'));
  });

  it('treats an empty compressed body as no data', () => {
    assert.equal(new WindowedInflater().inflate(new Uint8Array(0), 10).length, 0);
  });
});
