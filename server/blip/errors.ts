/** Why a peer's bytes were rejected. Every one of these is fatal to the connection. */
export type BlipProtocolErrorCode =
  | 'BAD_VARINT'
  | 'TRUNCATED_FRAME'
  | 'BAD_MESSAGE_NUMBER'
  | 'UNKNOWN_FLAGS'
  | 'UNKNOWN_MESSAGE_TYPE'
  | 'BAD_CHECKSUM'
  | 'BAD_COMPRESSED_DATA'
  | 'INFLATE_LIMIT'
  | 'PROPERTIES_TOO_LARGE'
  | 'BAD_PROPERTIES'
  | 'TRUNCATED_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'UNKNOWN_REPLY'
  | 'UNKNOWN_MESSAGE'
  | 'TEXT_FRAME'
  /** More incoming messages (or bytes of them) held at once than the connection allows. */
  | 'PENDING_INCOMING_LIMIT'
  /** A message in either direction made no progress for too long. */
  | 'STALLED_MESSAGE';

/**
 * The peer violated the BLIP protocol. The connection reacts by closing the socket with a reason
 * naming `code`; callers never see this thrown out of an event handler.
 */
export class BlipProtocolError extends Error {
  override readonly name = 'BlipProtocolError';
  constructor(
    readonly code: BlipProtocolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Error codes of the "BLIP" domain (HTTP status codes, as the BLIP spec prescribes). */
export const BlipErrorCode = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  BadRange: 416,
  HandlerFailed: 501,
  Unspecified: 599,
} as const;

export const BLIP_ERROR_DOMAIN = 'BLIP';

/**
 * An application- or BLIP-level failure carried by an ERR reply. Throw one from a request handler
 * to answer with an ERR; `request()` rejects with one when the peer answers with an ERR.
 */
export class BlipError extends Error {
  override readonly name = 'BlipError';
  /** Extra properties an ERR reply carried besides Error-Domain / Error-Code. */
  readonly properties: Readonly<Record<string, string>>;

  constructor(
    readonly domain: string,
    readonly code: number,
    message: string,
    properties: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.properties = properties;
  }
}

export interface BlipCloseInfo {
  /** WebSocket close code (1000 normal, 1002 protocol error, …). */
  readonly code: number;
  readonly reason: string;
  /** True when this side decided to close (explicitly or because of an error it detected). */
  readonly local: boolean;
  /** What made this side close, if it was not an orderly `close()`. */
  readonly error?: Error;
}

/** Rejection for requests that were still waiting for a reply when the connection closed. */
export class BlipClosedError extends Error {
  override readonly name = 'BlipClosedError';
  readonly code = 'CONNECTION_CLOSED' as const;
  readonly closeCode: number;
  readonly reason: string;

  constructor(info: BlipCloseInfo) {
    const why = info.error ? `: ${info.error.message}` : info.reason ? `: ${info.reason}` : '';
    super(`BLIP connection closed (${info.code}${info.local ? ', locally' : ', by peer'})${why}`, {
      cause: info.error,
    });
    this.closeCode = info.code;
    this.reason = info.reason;
  }
}
