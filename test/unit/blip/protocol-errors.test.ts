import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { Deflater, stripSyncFlushTrailer } from '../../../server/blip/compression';
import type { BlipConnectionOptions } from '../../../server/blip/connection';
import { BlipClosedError, BlipProtocolError, type BlipProtocolErrorCode } from '../../../server/blip/errors';
import { FrameFlag, MessageType, assembleFrame } from '../../../server/blip/frame';
import { encodeMessagePayload } from '../../../server/blip/message';
import { encodeVarint } from '../../../server/blip/varint';
import { closeEvent, connectionWithRawPeer, fromHex, type RawPeer } from './helpers';
import { withTimeout } from '../../helpers/wait';
import { flipBits } from '../../helpers/corrupt';
import { FRAME1_HEX } from './protocol-notes-vectors';

/** A non-ACK frame as the first one the peer sends (checksum from a fresh CRC). */
function firstFrame(msgNo: number, flags: number, payload: Uint8Array): Uint8Array {
  return assembleFrame(msgNo, flags, payload, crc32(payload));
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

interface Case {
  readonly name: string;
  readonly code: BlipProtocolErrorCode;
  readonly closeCode?: number;
  readonly message: RegExp;
  readonly options?: BlipConnectionOptions;
  readonly send: (peer: RawPeer) => void | Promise<void>;
}

const cases: Case[] = [
  {
    name: 'a corrupted checksum',
    code: 'BAD_CHECKSUM',
    message: /checksum mismatch on MSG #1: frame says e4fe05d2, data gives e4fe05d3/,
    send: (peer) => {
      const frame = fromHex(FRAME1_HEX);
      flipBits(frame, frame.length - 1, 1);
      peer.send(frame);
    },
  },
  {
    name: 'a corrupted payload byte',
    code: 'BAD_CHECKSUM',
    message: /checksum mismatch/,
    send: (peer) => {
      const frame = fromHex(FRAME1_HEX);
      flipBits(frame, 10, 0x20);
      peer.send(frame);
    },
  },
  {
    name: 'a truncated message-number varint',
    code: 'BAD_VARINT',
    message: /frame ends inside its message number/,
    send: (peer) => peer.send(Uint8Array.of(0x81)),
  },
  {
    name: 'an overlong varint',
    code: 'BAD_VARINT',
    message: /longer than 10 bytes/,
    send: (peer) => peer.send(fromHex('8080808080808080808080010000000000')),
  },
  {
    name: 'an empty frame',
    code: 'TRUNCATED_FRAME',
    message: /empty frame/,
    send: (peer) => peer.send(new Uint8Array(0)),
  },
  {
    name: 'unknown flag bits',
    code: 'UNKNOWN_FLAGS',
    message: /flags 0x80 include unknown bits/,
    send: (peer) => peer.send(concat(Uint8Array.of(0x01, 0x80, 0x01), fromHex('0000000000'))),
  },
  {
    name: 'an undefined message type',
    code: 'UNKNOWN_MESSAGE_TYPE',
    message: /unknown message type 3/,
    send: (peer) => peer.send(firstFrame(1, 3, Uint8Array.of(0))),
  },
  {
    name: 'oversized properties (rejected from the first frame)',
    code: 'PROPERTIES_TOO_LARGE',
    message: /declares 102401 bytes of properties; the limit is 102400/,
    send: (peer) => peer.send(firstFrame(1, MessageType.MSG | FrameFlag.MoreComing, concat(encodeVarint(100 * 1024 + 1), ascii('Profile\0')))),
  },
  {
    name: 'properties that are not NUL-terminated',
    code: 'BAD_PROPERTIES',
    message: /not NUL-terminated/,
    send: (peer) => peer.send(firstFrame(1, MessageType.MSG, concat(Uint8Array.of(9), ascii('Profile\0x')))),
  },
  {
    name: 'a properties length beyond the message',
    code: 'TRUNCATED_MESSAGE',
    message: /runs past the end/,
    send: (peer) => peer.send(firstFrame(1, MessageType.MSG, concat(Uint8Array.of(50), ascii('a\0b\0')))),
  },
  {
    name: 'a text WebSocket message',
    code: 'TEXT_FRAME',
    closeCode: 1003,
    message: /text WebSocket message/,
    send: (peer) => peer.transport.sendText('{"hello":"world"}'),
  },
  {
    name: 'a reply to a request that was never sent',
    code: 'UNKNOWN_REPLY',
    message: /reply #7 to a request that was never sent/,
    send: (peer) => peer.send(firstFrame(7, MessageType.RPY, Uint8Array.of(0))),
  },
  {
    name: 'a frame for an unknown incoming request that is not the next new one',
    code: 'UNKNOWN_MESSAGE',
    message: /request #2 began before request #1/,
    send: (peer) => peer.send(firstFrame(2, MessageType.MSG, encodeMessagePayload({ Profile: 'x' }, undefined))),
  },
  {
    name: 'a frame for a request that already completed',
    code: 'UNKNOWN_MESSAGE',
    message: /request #1, which already completed/,
    send: (peer) => {
      const payload = encodeMessagePayload({ Profile: 'x' }, undefined);
      const first = firstFrame(1, MessageType.MSG | FrameFlag.NoReply, payload);
      peer.send(first);
      peer.send(assembleFrame(1, MessageType.MSG | FrameFlag.NoReply, payload, crc32(payload, crc32(payload))));
    },
  },
  {
    name: 'a message over maxMessageSize',
    code: 'MESSAGE_TOO_LARGE',
    closeCode: 1009,
    options: { maxMessageSize: 1000 },
    message: /incoming message #1 exceeds 1000 bytes/,
    send: (peer) => peer.send(firstFrame(1, MessageType.MSG, encodeMessagePayload({ Profile: 'x' }, new Uint8Array(2000)))),
  },
  {
    name: 'a decompression bomb',
    code: 'INFLATE_LIMIT',
    closeCode: 1009,
    options: { maxInflatedFrameSize: 64 * 1024 },
    message: /inflates to more than 65536 bytes/,
    send: async (peer) => {
      const payload = encodeMessagePayload({ Profile: 'x' }, new Uint8Array(8 * 1024 * 1024));
      const deflater = new Deflater(9);
      const body = stripSyncFlushTrailer(await deflater.deflate(payload));
      deflater.close();
      peer.send(assembleFrame(1, MessageType.MSG | FrameFlag.Compressed, body, crc32(payload)));
    },
  },
  {
    name: 'corrupt compressed data',
    code: 'BAD_COMPRESSED_DATA',
    message: /invalid deflate data/,
    send: (peer) => peer.send(assembleFrame(1, MessageType.MSG | FrameFlag.Compressed, fromHex('ffffffff'), 0)),
  },
  {
    name: 'an ACK whose byte count is not a varint',
    code: 'BAD_VARINT',
    message: /truncated ACK byte count/,
    send: (peer) => peer.send(assembleFrame(1, MessageType.ACKMSG, Uint8Array.of(0xff))),
  },
];

describe('protocol errors close the connection cleanly', () => {
  for (const c of cases) {
    it(`closes on ${c.name} with ${c.code}`, async () => {
      const { connection, peer } = connectionWithRawPeer(c.options ?? {});
      const errors: Error[] = [];
      connection.on('error', (err) => errors.push(err));
      // A request in flight must be rejected, not left hanging.
      const pending = connection.request({ profile: 'waiting' }).then(
        () => assert.fail('request should not succeed'),
        (err: unknown) => err,
      );
      await connection.whenOutboxIdle();

      await c.send(peer);
      const info = await withTimeout(closeEvent(connection), `close after ${c.name}`);

      assert.ok(info.error instanceof BlipProtocolError, `expected a BlipProtocolError, got ${String(info.error)}`);
      assert.equal(info.error.code, c.code);
      assert.match(info.error.message, c.message);
      assert.equal(info.local, true);
      assert.equal(info.code, c.closeCode ?? 1002);
      assert.deepStrictEqual(errors, [info.error]);

      const rejection = await withTimeout(pending, 'pending request rejection');
      assert.ok(rejection instanceof BlipClosedError);
      assert.equal(rejection.cause, info.error);

      // The peer sees the socket close with a reason naming the problem.
      const seen = await withTimeout(peer.closed, 'peer to see the close');
      assert.equal(seen.code, c.closeCode ?? 1002);
      assert.ok(seen.reason.startsWith(`BLIP protocol error ${c.code}: `), seen.reason);
      assert.ok(Buffer.byteLength(seen.reason) <= 123);
    });
  }

  it('processes frames before a bad one and nothing after it', async () => {
    const { connection, peer } = connectionWithRawPeer();
    const handled: string[] = [];
    connection.onRequest('getCheckpoint', () => void handled.push('getCheckpoint'));
    connection.onRequest('after', () => void handled.push('after'));
    peer.send(fromHex(FRAME1_HEX));
    peer.transport.sendText('oops');
    const payload = encodeMessagePayload({ Profile: 'after' }, undefined);
    peer.send(assembleFrame(2, MessageType.MSG, payload, crc32(payload, 0xe4fe05d3)));
    const info = await withTimeout(closeEvent(connection), 'close');
    assert.equal((info.error as BlipProtocolError).code, 'TEXT_FRAME');
    assert.deepStrictEqual(handled, ['getCheckpoint']);
  });

  it('survives garbage without crashing or hanging', async () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    let closedByGarbage = 0;
    for (let round = 0; round < 60; round++) {
      const { connection, peer } = connectionWithRawPeer();
      const frame = Uint8Array.from({ length: 1 + (next() % 40) }, () => next() & 0xff);
      peer.send(frame);
      // Some random bytes form a valid frame (e.g. an ACK for an unknown message, which is
      // ignored); the text message afterwards guarantees a fatal error either way.
      peer.transport.sendText('end');
      const info = await withTimeout(closeEvent(connection), `close after garbage ${Buffer.from(frame).toString('hex')}`);
      assert.ok(info.error instanceof BlipProtocolError, `round ${round}: ${String(info.error)}`);
      if (info.error.code !== 'TEXT_FRAME') closedByGarbage++;
    }
    assert.ok(closedByGarbage > 40, `only ${closedByGarbage} garbage frames were rejected`);
  });
});
