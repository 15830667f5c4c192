/** BLIP 3 framing and messaging, transport-agnostic. */
export * from './constants';
export * from './errors';
export { encodeVarint, decodeVarint, tryDecodeVarint, varintLength, writeVarint, MAX_VARINT_BYTES, type VarintRead } from './varint';
export { encodeProperties, decodeProperties, emptyProperties, type BlipProperties } from './properties';
export { FrameFlag, MessageType, KNOWN_FLAG_BITS, parseFrameHeader, assembleFrame, describeFrame, messageTypeName, type FrameHeader } from './frame';
export { Deflater, Inflater, SYNC_FLUSH_TRAILER, stripSyncFlushTrailer } from './compression';
export { FrameEncoder, type EncodedFrame, type FrameEncoderOptions } from './frame-encoder';
export { FrameDecoder, type DecodedFrame, type FrameDecoderOptions } from './frame-decoder';
export { Outbox, type Schedulable } from './outbox';
export {
  IncomingMessage,
  encodeMessagePayload,
  decodeMessagePayload,
  requestProperties,
  errorReplyContent,
  blipErrorFromMessage,
  type BlipRequest,
  type BlipReply,
  type IncomingRequest,
  type IncomingReply,
  type IncomingKind,
  type MessageBody,
} from './message';
export type { FrameTransport, TransportFrame, TransportCloseInfo } from './transport';
export { MemoryTransport, createMemoryTransportPair } from './memory-transport';
export { createWebSocketTransport } from './websocket-transport';
export { BlipConnection, truncateReason, type BlipConnectionOptions, type BlipConnectionEvents, type BlipConnectionStats, type RequestHandler, type ReplyBodySink } from './connection';
