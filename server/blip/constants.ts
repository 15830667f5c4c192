/**
 * Numbers that shape BLIP 3 on the wire. Values mirror LiteCore's defaults so that a real
 * Couchbase Lite peer sees the same framing and flow-control behaviour it would from another
 * LiteCore instance.
 */

/** WebSocket subprotocols a Couchbase Lite 3.x replicator offers, most preferred first. */
export const BLIP_SUBPROTOCOLS = ['BLIP_3+CBMobile_3', 'BLIP_3+CBMobile_2'] as const;

/** Frame size used for a normal message while an urgent one is waiting, so the urgent one is not held up. */
export const DEFAULT_FRAME_SIZE = 4096;
/** Frame size for urgent messages, or for anything when nothing urgent is waiting. */
export const BIG_FRAME_SIZE = 16384;

/** Size of the running CRC-32 that ends every non-ACK frame. */
export const CHECKSUM_SIZE = 4;

/** Implementation limit LiteCore enforces on encoded properties; a peer sending more is misbehaving. */
export const MAX_PROPERTIES_SIZE = 100 * 1024;

/** A receiver acknowledges each time it has taken in this many more bytes of one message. */
export const ACK_INTERVAL_BYTES = 50_000;
/** A sender stops sending frames of a message once this many of its bytes are unacknowledged. */
export const MAX_UNACKED_BYTES = 128_000;

export const DEFAULT_COMPRESSION_LEVEL = 6;
/**
 * Below this many payload bytes a message is sent uncompressed unless the caller insists: deflate
 * framing overhead would eat most of the saving on tiny messages.
 */
export const DEFAULT_COMPRESSION_THRESHOLD = 128;

/** Default cap on one incoming message (properties + body, uncompressed). */
export const DEFAULT_MAX_MESSAGE_SIZE = 20 * 1024 * 1024;
/** Default cap on what a single compressed frame may inflate to (decompression-bomb guard). */
export const DEFAULT_MAX_INFLATED_FRAME_SIZE = 4 * 1024 * 1024;

/** WebSocket close codes the connection uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;
