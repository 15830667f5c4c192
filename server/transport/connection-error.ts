/**
 * One error type for everything that can go wrong opening or keeping a replication WebSocket,
 * classified the way Couchbase Lite does it: a transient error makes the replicator retry with
 * backoff, a permanent one stops it.
 */

export interface ConnectionErrorInit {
  readonly transient: boolean;
  /** A stable machine-readable code: a system errno name (ECONNREFUSED…), or one of ConnectionErrorCode. */
  readonly code?: string | undefined;
  readonly httpStatus?: number | undefined;
  /** The `WWW-Authenticate` header of an HTTP error response (what a 401 asks for). */
  readonly wwwAuthenticate?: string | undefined;
  /** The start of an HTTP error response's body. */
  readonly responseBody?: string | undefined;
  readonly closeCode?: number | undefined;
  readonly closeReason?: string | undefined;
  readonly url?: string | undefined;
  readonly cause?: unknown;
}

/** Codes this module assigns (besides system errno names such as ECONNREFUSED). */
export const ConnectionErrorCode = {
  HttpStatus: 'HTTP_STATUS',
  HandshakeTimeout: 'HANDSHAKE_TIMEOUT',
  HeartbeatTimeout: 'HEARTBEAT_TIMEOUT',
  WrongSubprotocol: 'WRONG_SUBPROTOCOL',
  HandshakeFailed: 'HANDSHAKE_FAILED',
  TlsFailure: 'TLS_FAILURE',
  Closed: 'WEBSOCKET_CLOSED',
  Aborted: 'ABORT_ERR',
  InvalidUrl: 'INVALID_URL',
  /** ws:// to a TLS listener, or wss:// to a plain one. */
  WrongScheme: 'WRONG_SCHEME',
} as const;

export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  /** True: worth retrying later (with backoff). False: retrying will not help. */
  readonly transient: boolean;
  readonly code?: string;
  readonly httpStatus?: number;
  readonly wwwAuthenticate?: string;
  readonly responseBody?: string;
  readonly closeCode?: number;
  readonly closeReason?: string;
  readonly url?: string;

  constructor(message: string, init: ConnectionErrorInit) {
    super(message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.transient = init.transient;
    if (init.code !== undefined) this.code = init.code;
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
    if (init.wwwAuthenticate !== undefined) this.wwwAuthenticate = init.wwwAuthenticate;
    if (init.responseBody !== undefined) this.responseBody = init.responseBody;
    if (init.closeCode !== undefined) this.closeCode = init.closeCode;
    if (init.closeReason !== undefined) this.closeReason = init.closeReason;
    if (init.url !== undefined) this.url = init.url;
  }

  get permanent(): boolean {
    return !this.transient;
  }
}

/** Network errors worth retrying: the peer may be restarting, roaming, or briefly unreachable. */
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
]);

const TLS_PERMANENT_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'HOSTNAME_MISMATCH']);

/** HTTP statuses after which a retry may succeed. */
const TRANSIENT_HTTP = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Whether an HTTP status on the upgrade response is transient: 408, 429, 500, 502, 503, 504 (and
 * other 5xx except 501/505); everything else (3xx we do not follow, 4xx, 501, 505) is permanent.
 */
export function isTransientHttpStatus(status: number): boolean {
  if (TRANSIENT_HTTP.has(status)) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/**
 * Whether a WebSocket close code means "try again later":
 * - 1000 normal / 1005 no status: transient — during a continuous replication the peer closing
 *   is not a reason to give up (the peer app may be going to the background). A caller that
 *   expected the close (one-shot replication finished, or we closed) should not call this.
 * - 1001 going away, 1006 abnormal (no close frame: dropped TCP, heartbeat), 1011 internal
 *   error, 1012 service restart, 1013 try again later, 1014 bad gateway, 4001 app transient.
 * Permanent: 1002 protocol error, 1003 unsupported data, 1007 bad payload, 1008 policy,
 * 1009 too big, 1010 missing extension, 1015 TLS failure, 4002 app permanent, and any other
 * code (an unknown app-defined code must not make a replicator retry forever).
 */
export function isTransientCloseCode(code: number): boolean {
  switch (code) {
    case 1000:
    case 1001:
    case 1005:
    case 1006:
    case 1011:
    case 1012:
    case 1013:
    case 1014:
    case 4001:
      return true;
    default:
      return false;
  }
}

/** The reason a heartbeat failure is reported with (close code 1006). */
export const HEARTBEAT_TIMEOUT_REASON = 'heartbeat timeout';

/**
 * Classifies how an established connection closed. `local` is true when this side chose to close
 * (BlipCloseInfo.local): a local 1000/1001 close is deliberate and yields undefined; any other
 * close — by the peer, or locally because the peer broke the protocol or stopped answering
 * heartbeats — yields an error (see isTransientCloseCode for the table; note that 1000 from the
 * peer counts as transient).
 */
export function classifyClose(code: number, reason: string, local = false): ConnectionError | undefined {
  if (local && (code === 1000 || code === 1001)) return undefined;
  if (code === 1006 && reason === HEARTBEAT_TIMEOUT_REASON) {
    return new ConnectionError('connection lost: the peer stopped answering WebSocket pings (heartbeat timeout)', {
      transient: true,
      code: ConnectionErrorCode.HeartbeatTimeout,
      closeCode: code,
      closeReason: reason,
    });
  }
  const transient = isTransientCloseCode(code);
  const who = local ? 'closed locally' : 'closed by peer';
  const what = CLOSE_CODE_NAMES[code] ?? 'unknown close code';
  return new ConnectionError(`WebSocket ${who} with ${code} (${what})${reason ? `: ${reason}` : ''}`, {
    transient,
    code: ConnectionErrorCode.Closed,
    closeCode: code,
    closeReason: reason,
  });
}

const CLOSE_CODE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status',
  1006: 'abnormal closure',
  1007: 'invalid payload',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'missing extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
  1015: 'TLS failure',
  4001: 'transient application error',
  4002: 'permanent application error',
};

/** Builds the error for a non-101 answer to the upgrade request. */
export function httpStatusError(
  status: number,
  statusMessage: string | undefined,
  details: { wwwAuthenticate?: string | undefined; responseBody?: string | undefined; url?: string | undefined } = {},
): ConnectionError {
  const body = details.responseBody?.trim();
  const text = `${status}${statusMessage ? ` ${statusMessage}` : ''}`;
  return new ConnectionError(`server refused the WebSocket upgrade: HTTP ${text}${body ? ` — ${body}` : ''}`, {
    transient: isTransientHttpStatus(status),
    code: ConnectionErrorCode.HttpStatus,
    httpStatus: status,
    wwwAuthenticate: details.wwwAuthenticate,
    responseBody: details.responseBody,
    url: details.url,
  });
}

/** Whether an error code denotes a TLS / certificate verification failure (permanent). */
export function isTlsErrorCode(code: string): boolean {
  return code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_') || code.startsWith('UNABLE_TO_VERIFY') || TLS_PERMANENT_CODES.has(code);
}

/**
 * Classifies an error thrown or emitted while connecting (socket, DNS, TLS, ws handshake checks).
 * Already-classified ConnectionErrors are returned as they are.
 */
export function classifyConnectError(err: unknown, url?: string): ConnectionError {
  if (err instanceof ConnectionError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (error as NodeJS.ErrnoException).code;
  const init = { cause: error, url };
  if (typeof code === 'string') {
    if (TRANSIENT_ERRNO.has(code)) {
      return new ConnectionError(`cannot connect${url ? ` to ${url}` : ''}: ${error.message}`, { ...init, transient: true, code });
    }
    if (isTlsErrorCode(code)) {
      return new ConnectionError(`TLS failure${url ? ` connecting to ${url}` : ''}: ${error.message}`, { ...init, transient: false, code });
    }
  }
  const message = error.message;
  // The WebSocket library reports a bad handshake with a plain Error and no code: its text is all there is.
  if (/^Server sent (no subprotocol|an invalid subprotocol|a subprotocol but none was requested)/.test(message)) {
    return new ConnectionError(`the server did not select the BLIP_3+CBMobile_3 subprotocol (${message})`, {
      ...init,
      transient: false,
      code: ConnectionErrorCode.WrongSubprotocol,
    });
  }
  if (message === 'Opening handshake has timed out') {
    return new ConnectionError(`WebSocket handshake timed out${url ? ` (${url})` : ''}`, {
      ...init,
      transient: true,
      code: ConnectionErrorCode.HandshakeTimeout,
    });
  }
  if (
    /^(Invalid Upgrade header|Invalid Sec-WebSocket-Accept header|Invalid Sec-WebSocket-Extensions header|Server sent a Sec-WebSocket-Extensions header|Server indicated an extension)/.test(message)
  ) {
    return new ConnectionError(`the server's WebSocket handshake is invalid: ${message}`, {
      ...init,
      transient: false,
      code: ConnectionErrorCode.HandshakeFailed,
    });
  }
  if (code === 'ERR_INVALID_URL' || error instanceof SyntaxError) {
    return new ConnectionError(message, { ...init, transient: false, code: ConnectionErrorCode.InvalidUrl });
  }
  // Unknown system errors (they have a syscall) are network trouble: retry. Anything else is a bug or misuse.
  const isSystem = typeof (error as NodeJS.ErrnoException).syscall === 'string';
  return new ConnectionError(`cannot connect${url ? ` to ${url}` : ''}: ${message}`, {
    ...init,
    transient: isSystem,
    ...(typeof code === 'string' ? { code } : {}),
  });
}
