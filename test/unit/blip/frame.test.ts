import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { FrameDecoder } from '../../../server/blip/frame-decoder';
import { FrameEncoder } from '../../../server/blip/frame-encoder';
import { FrameFlag, MessageType, assembleFrame, describeFrame, parseFrameHeader } from '../../../server/blip/frame';
import { Inflater } from '../../../server/blip/compression';
import { decodeMessagePayload, encodeMessagePayload, requestProperties } from '../../../server/blip/message';
import { flipBits } from '../../helpers/corrupt';
import { fromHex, plain, protocolError, text, toHex } from './helpers';
import { FRAME1_CHECKPOINT_CLIENT, FRAME1_HEX, FRAME2_BODY, FRAME2_HEX } from './protocol-notes-vectors';

describe('frame header', () => {
  it('declares the BLIP 3 flag and type values', () => {
    assert.deepStrictEqual({ ...FrameFlag }, { TypeMask: 0x07, Compressed: 0x08, Urgent: 0x10, NoReply: 0x20, MoreComing: 0x40 });
    assert.deepStrictEqual({ ...MessageType }, { MSG: 0, RPY: 1, ERR: 2, ACKMSG: 4, ACKRPY: 5 });
  });

  it('parses message number, flags and type', () => {
    assert.deepStrictEqual(parseFrameHeader(fromHex('ac02580000')), { msgNo: 300, flags: 0x58, type: MessageType.MSG, headerLength: 3 });
    assert.equal(parseFrameHeader(fromHex('0102')).type, MessageType.ERR);
    assert.equal(parseFrameHeader(fromHex('0135')).type, MessageType.ACKRPY);
  });

  it('rejects empty frames, missing flags and bad varints', () => {
    assert.throws(() => parseFrameHeader(new Uint8Array(0)), protocolError('TRUNCATED_FRAME'));
    assert.throws(() => parseFrameHeader(fromHex('01')), protocolError('TRUNCATED_FRAME'));
    assert.throws(() => parseFrameHeader(fromHex('8080')), protocolError('BAD_VARINT'));
    assert.throws(() => parseFrameHeader(fromHex('0180')), protocolError('BAD_VARINT'));
    assert.throws(() => parseFrameHeader(fromHex('808080808080808080808001')), protocolError('BAD_VARINT'));
  });

  it('rejects message number 0', () => {
    assert.throws(() => parseFrameHeader(fromHex('0000')), protocolError('BAD_MESSAGE_NUMBER'));
  });

  it('rejects unknown flag bits and undefined message types', () => {
    assert.throws(() => parseFrameHeader(fromHex('018001')), protocolError('UNKNOWN_FLAGS'));
    assert.throws(() => parseFrameHeader(fromHex('01ff7f')), protocolError('UNKNOWN_FLAGS'));
    for (const type of [3, 6, 7]) {
      assert.throws(() => parseFrameHeader(Uint8Array.of(1, type)), protocolError('UNKNOWN_MESSAGE_TYPE'));
    }
  });

  it('assembles header, body and big-endian checksum', () => {
    assert.equal(toHex(assembleFrame(2, 0x41, Uint8Array.of(9), 0x01020304)), '02410901020304');
    assert.equal(toHex(assembleFrame(2, 0x34, Uint8Array.of(9))), '023409');
  });

  it('describes frames for diagnostics', () => {
    assert.equal(describeFrame(3, 0x58), 'MSG #3 MUZ');
    assert.equal(describeFrame(1, 0x01), 'RPY #1');
  });
});

describe('PROTOCOL-NOTES test vectors', () => {
  it('frame 1 decodes to getCheckpoint with the exact properties and an empty body', async () => {
    const decoder = new FrameDecoder();
    const frame = await decoder.decode(fromHex(FRAME1_HEX));
    assert.equal(frame.msgNo, 1);
    assert.equal(frame.flags, 0);
    assert.equal(frame.type, MessageType.MSG);
    assert.equal(frame.moreComing, false);
    assert.equal(frame.compressed, false);
    assert.equal(frame.payload.length, 0x3d + 1);
    const message = decodeMessagePayload(frame.payload);
    assert.deepStrictEqual(plain(message.properties), { Profile: 'getCheckpoint', client: FRAME1_CHECKPOINT_CLIENT });
    assert.deepStrictEqual(Object.keys(message.properties), ['Profile', 'client']);
    assert.equal(message.body.length, 0);
    assert.equal(decoder.checksum, 0xe4fe05d3);
  });

  it('frame 1 is reproduced byte for byte by the encoder, CRC e4fe05d3 included', async () => {
    const encoder = new FrameEncoder();
    const payload = encodeMessagePayload(requestProperties('getCheckpoint', { client: FRAME1_CHECKPOINT_CLIENT }), undefined);
    const frame = await encoder.encodeFrame(1, MessageType.MSG, payload, 0, 4096);
    assert.equal(toHex(frame.bytes), FRAME1_HEX);
    assert.equal(encoder.checksum, 0xe4fe05d3);
    assert.equal(frame.moreComing, false);
    assert.equal(frame.consumed, payload.length);
    encoder.close();
  });

  it('frame 2 inflates with a fresh context to the 205-byte proposeChanges message', async () => {
    const bytes = fromHex(FRAME2_HEX);
    const header = parseFrameHeader(bytes);
    assert.equal(header.msgNo, 2);
    assert.equal(header.flags, MessageType.MSG | FrameFlag.Compressed | FrameFlag.Urgent);

    const inflater = new Inflater();
    const inflated = await inflater.inflate(bytes.subarray(header.headerLength, bytes.length - 4), 1 << 20);
    inflater.close();
    assert.equal(inflated.length, 205);
    assert.equal(inflated[0], 0x17);
    const message = decodeMessagePayload(inflated);
    assert.deepStrictEqual(plain(message.properties), { Profile: 'proposeChanges' });
    assert.equal(text(message.body), FRAME2_BODY);
    assert.deepStrictEqual(JSON.parse(text(message.body)), [
      ['doc1', '1-f09a372e9ac5c87880b35bd012397e2a3d85ef19', '', 28],
      ['doc2', '1-c8d0d190606b192916348b9b23435168291985aa', '', 28],
      ['doc3', '1-b1c3c07bde307ef1f02c8dfb9e46505bf5cae1ca', '', 28],
    ]);
    // The checksum covers the uncompressed bytes and continues from frame 1's.
    assert.equal(crc32(inflated, 0xe4fe05d3), 0x0b66ae12);
  });

  it('frame 2 after frame 1 passes the running-CRC check, ending at 0b66ae12', async () => {
    const decoder = new FrameDecoder();
    await decoder.decode(fromHex(FRAME1_HEX));
    const frame = await decoder.decode(fromHex(FRAME2_HEX));
    assert.equal(frame.compressed, true);
    assert.equal(frame.urgent, true);
    assert.equal(frame.payload.length, 205);
    assert.equal(decoder.checksum, 0x0b66ae12);
    assert.equal(text(decodeMessagePayload(frame.payload).body), FRAME2_BODY);
    decoder.close();
  });

  it('frame 2 on its own fails the CRC check (the checksum runs across frames)', async () => {
    const decoder = new FrameDecoder();
    await assert.rejects(decoder.decode(fromHex(FRAME2_HEX)), protocolError('BAD_CHECKSUM'));
    decoder.close();
  });

  it('a decoder stays failed after a bad frame', async () => {
    const decoder = new FrameDecoder();
    const bad = fromHex(FRAME1_HEX);
    flipBits(bad, bad.length - 1, 1);
    await assert.rejects(decoder.decode(bad), protocolError('BAD_CHECKSUM'));
    await assert.rejects(decoder.decode(fromHex(FRAME1_HEX)), protocolError('BAD_CHECKSUM'));
  });

  it('rejects a non-ACK frame too short for its checksum', async () => {
    await assert.rejects(new FrameDecoder().decode(fromHex('0100aabbcc')), protocolError('TRUNCATED_FRAME'));
  });

  it('ACK frames have no checksum and do not advance the CRC', async () => {
    const decoder = new FrameDecoder();
    const ack = await decoder.decode(fromHex('0134d08603'));
    assert.equal(ack.type, MessageType.ACKMSG);
    assert.equal(toHex(ack.payload), 'd08603');
    assert.equal(decoder.checksum, 0);
    await decoder.decode(fromHex(FRAME1_HEX));
    assert.equal(decoder.checksum, 0xe4fe05d3);
  });
});
