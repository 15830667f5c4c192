import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { Deflater, Inflater, SYNC_FLUSH_TRAILER, stripSyncFlushTrailer } from '../../../server/blip/compression';
import { BIG_FRAME_SIZE, DEFAULT_FRAME_SIZE } from '../../../server/blip/constants';
import { FrameDecoder } from '../../../server/blip/frame-decoder';
import { FrameEncoder } from '../../../server/blip/frame-encoder';
import { FrameFlag, MessageType, parseFrameHeader, readChecksum } from '../../../server/blip/frame';
import { decodeMessagePayload, encodeMessagePayload } from '../../../server/blip/message';
import { compressibleText, plain, protocolError, pseudoRandomBytes, text, toHex } from './helpers';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('shared compression contexts', () => {
  it('sync-flushes each chunk, ending with 00 00 FF FF, and inflates chunk by chunk', async () => {
    const deflater = new Deflater(6);
    const inflater = new Inflater();
    const chunks = ['{"docs":["alpha","beta"]}', '{"docs":["alpha","beta","gamma"]}', 'x'];
    for (const chunk of chunks) {
      const deflated = await deflater.deflate(utf8(chunk));
      assert.equal(toHex(deflated.subarray(-4)), toHex(SYNC_FLUSH_TRAILER));
      const inflated = await inflater.inflate(stripSyncFlushTrailer(deflated), 1 << 20);
      assert.equal(text(inflated), chunk);
    }
    deflater.close();
    inflater.close();
  });

  it('keeps history across frames, so a repeat compresses far better than the first copy', async () => {
    const deflater = new Deflater(6);
    const data = pseudoRandomBytes(2000);
    const first = await deflater.deflate(data);
    const second = await deflater.deflate(data);
    assert.ok(first.length > 1900, `random data should not shrink (${first.length})`);
    assert.ok(second.length < 100, `repeat should reference history (${second.length})`);
    // A fresh inflater cannot decode the second frame alone: the contexts are truly shared.
    const fresh = new Inflater();
    await assert.rejects(fresh.inflate(stripSyncFlushTrailer(second), 1 << 20), protocolError('BAD_COMPRESSED_DATA'));
    deflater.close();
  });

  it('processes concurrent calls strictly in call order', async () => {
    const deflater = new Deflater(6);
    const inputs = Array.from({ length: 20 }, (_, i) => utf8(`message ${i} `.repeat(50 + i * 37)));
    const outputs = await Promise.all(inputs.map((input) => deflater.deflate(input)));
    const inflater = new Inflater();
    const inflated = await Promise.all(outputs.map((o) => inflater.inflate(stripSyncFlushTrailer(o), 1 << 20)));
    assert.deepStrictEqual(inflated.map(text), inputs.map(text));
    deflater.close();
    inflater.close();
  });

  it('refuses to inflate beyond the per-frame cap (decompression bomb)', async () => {
    const deflater = new Deflater(9);
    const bomb = stripSyncFlushTrailer(await deflater.deflate(new Uint8Array(10 * 1024 * 1024)));
    assert.ok(bomb.length < 20_000);
    const inflater = new Inflater();
    await assert.rejects(inflater.inflate(bomb, 64 * 1024), protocolError('INFLATE_LIMIT'));
    // The context is dead afterwards: its history is incomplete.
    await assert.rejects(inflater.inflate(bomb, 64 * 1024), protocolError('INFLATE_LIMIT'));
    deflater.close();
  });

  it('rejects corrupt deflate data with a protocol error, without crashing', async () => {
    const inflater = new Inflater();
    await assert.rejects(inflater.inflate(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x00), 1 << 20), protocolError('BAD_COMPRESSED_DATA'));
  });

  it('treats an empty compressed body as no data', async () => {
    const inflater = new Inflater();
    assert.equal((await inflater.inflate(new Uint8Array(0), 10)).length, 0);
    inflater.close();
  });

  it('rejects work after close', async () => {
    const deflater = new Deflater(6);
    deflater.close();
    await assert.rejects(deflater.deflate(Uint8Array.of(1)), /closed/);
  });
});

/** Encodes a whole message into frames with one encoder, as the connection's pump does. */
async function encodeAll(encoder: FrameEncoder, msgNo: number, flags: number, payload: Uint8Array, maxFrameSize: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  let offset = 0;
  for (;;) {
    const frame = await encoder.encodeFrame(msgNo, flags, payload, offset, maxFrameSize);
    frames.push(frame.bytes);
    offset += frame.consumed;
    assert.equal(frame.moreComing, offset < payload.length);
    if (!frame.moreComing) return frames;
  }
}

describe('multi-frame messages', () => {
  for (const [label, body] of [
    ['compressible', utf8(compressibleText(300_000))],
    ['incompressible', pseudoRandomBytes(300_000)],
  ] as const) {
    for (const maxFrameSize of [BIG_FRAME_SIZE, DEFAULT_FRAME_SIZE]) {
      it(`round-trips a ${label} compressed message in ${maxFrameSize}-byte frames`, async () => {
        const encoder = new FrameEncoder();
        const decoder = new FrameDecoder();
        const payload = encodeMessagePayload({ Profile: 'rev', id: 'doc1' }, body);
        const flags = MessageType.MSG | FrameFlag.Compressed;
        const frames = await encodeAll(encoder, 7, flags, payload, maxFrameSize);
        assert.ok(frames.length >= 3, `expected several frames, got ${frames.length}`);

        let crc = 0;
        const parts: Uint8Array[] = [];
        for (const [i, bytes] of frames.entries()) {
          assert.ok(bytes.length <= maxFrameSize, `frame ${i} is ${bytes.length} bytes`);
          const header = parseFrameHeader(bytes);
          assert.equal(header.msgNo, 7);
          assert.equal((header.flags & FrameFlag.MoreComing) !== 0, i < frames.length - 1, `MoreComing on frame ${i}`);
          assert.equal(header.flags & ~FrameFlag.MoreComing, flags);
          const decoded = await decoder.decode(bytes);
          // Each frame's trailer is the CRC of all uncompressed bytes so far, across frames.
          crc = crc32(decoded.payload, crc);
          assert.equal(readChecksum(bytes, bytes.length - 4), crc);
          parts.push(decoded.payload);
        }
        assert.equal(encoder.checksum, crc);
        const message = decodeMessagePayload(Buffer.concat(parts));
        assert.deepStrictEqual(plain(message.properties), { Profile: 'rev', id: 'doc1' });
        assert.ok(Buffer.from(message.body).equals(Buffer.from(body)));
        if (label === 'compressible') {
          const wire = frames.reduce((n, f) => n + f.length, 0);
          assert.ok(wire < payload.length * 0.8, `compression should pay: ${wire} vs ${payload.length}`);
          // Frames are filled, not just capped: all but the last use most of the frame.
          for (const bytes of frames.slice(0, -1)) assert.ok(bytes.length > maxFrameSize - 1200, `underfilled frame: ${bytes.length}`);
        }
        encoder.close();
        decoder.close();
      });
    }
  }

  it('cuts an uncompressed message into exactly full frames', async () => {
    const encoder = new FrameEncoder();
    const payload = encodeMessagePayload({}, pseudoRandomBytes(40_000));
    const frames = await encodeAll(encoder, 1, MessageType.RPY, payload, BIG_FRAME_SIZE);
    assert.deepStrictEqual(
      frames.map((f) => f.length),
      [BIG_FRAME_SIZE, BIG_FRAME_SIZE, payload.length - 2 * (BIG_FRAME_SIZE - 6) + 6],
    );
  });

  it('sends uncompressed frames when the compression level is 0', async () => {
    const encoder = new FrameEncoder({ compressionLevel: 0 });
    const frame = await encoder.encodeFrame(1, MessageType.MSG | FrameFlag.Compressed, encodeMessagePayload({}, 'hello'), 0);
    assert.equal(parseFrameHeader(frame.bytes).flags & FrameFlag.Compressed, 0);
  });
});
