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

/**
 * Default cap on incoming messages held at once: those begun but not finished, plus finished
 * requests waiting while the connection's outgoing queue is full. A LiteCore peer has at most
 * about twenty requests of its own in flight.
 */
export const DEFAULT_MAX_PENDING_INCOMING_MESSAGES = 128;
/** Default cap on the bytes those messages hold (room for a full-size message and then some). */
export const DEFAULT_MAX_PENDING_INCOMING_BYTES = 64 * 1024 * 1024;
/**
 * Default time a message may go without progress: an incoming one without a new frame, an
 * outgoing one paused for the peer's ACK. A live peer ACKs every 50 kB, so only a stalled or
 * hostile one gets near this.
 */
export const DEFAULT_STALLED_MESSAGE_TIMEOUT_MS = 60_000;
/**
 * Default size of the outgoing queue (payloads not yet completely sent) at which the connection
 * stops taking on new incoming requests until the peer has drained it.
 */
export const DEFAULT_MAX_OUTGOING_BYTES = 16 * 1024 * 1024;

/** WebSocket close codes the connection uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  /** Transient for Couchbase Lite clients: they retry. */
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** The peer broke a limit of this side; permanent for Couchbase Lite clients. */
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;
