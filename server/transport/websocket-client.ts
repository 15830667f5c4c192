/**
 * The active peer's connector: opens `ws[s]://host:port/<db>/_blipsync` with the BLIP subprotocol,
 * wraps the socket in a BlipConnection, keeps it alive with WebSocket pings, and reports every
 * failure as a classified ConnectionError.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type tls from 'node:tls';
import WebSocket from 'ws';
import { explainWrongScheme } from './scheme-probe';
import { BlipConnection, type BlipConnectionOptions } from '../blip/connection';
import type { BlipCloseInfo } from '../blip/errors';
import { createWebSocketTransport } from '../blip/websocket-transport';
import { BLIP_SUBPROTOCOL, BLIPSYNC_PATH_SEGMENT, DEFAULT_MAX_PAYLOAD } from './blip-websocket-server';
import { ConnectionError, ConnectionErrorCode, HEARTBEAT_TIMEOUT_REASON, classifyClose, classifyConnectError, httpStatusError } from './connection-error';

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_HEARTBEAT_SECONDS = 300;
/** Upper bound on how long an unanswered ping is tolerated. */
export const MAX_PONG_TIMEOUT_MS = 20_000;
/** Largest part of an HTTP error body kept in ConnectionError.responseBody. */
const MAX_ERROR_BODY_CHARS = 1024;
/** How long client.close() waits for the close handshake before terminating the socket. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * TLS settings passed through to the socket (certificate pinning, client certs…). `createConnection`
 * is how server-certificate trust (server/tls/trust.ts) refuses a certificate before any byte of
 * the upgrade request is written.
 */
export type ClientTlsOptions = Pick<
  tls.ConnectionOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity' | 'minVersion' | 'maxVersion' | 'ciphers'
> & { readonly createConnection?: ((options: tls.ConnectionOptions) => tls.TLSSocket) | undefined };

export interface ConnectBlipWebSocketOptions {
  /** Extra request headers (e.g. Authorization). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Bound on the whole connect: TCP, TLS and the upgrade response. Default 15 s. */
  readonly timeoutMs?: number | undefined;
  /** Seconds between WebSocket pings; 0 disables the heartbeat. Default 300. */
  readonly heartbeatSeconds?: number | undefined;
  readonly blipOptions?: BlipConnectionOptions | undefined;
  readonly tls?: ClientTlsOptions | undefined;
  /** Aborting cancels a pending connect (rejects with ConnectionError code ABORT_ERR). No effect once connected. */
  readonly signal?: AbortSignal | undefined;
  /** Largest incoming WebSocket message (one BLIP frame); larger closes with 1009. */
  readonly maxPayload?: number | undefined;
}

export interface ClientCloseInfo extends BlipCloseInfo {
  /** The classified failure; undefined when this side closed deliberately with 1000/1001. */
  readonly connectionError: ConnectionError | undefined;
}

export interface BlipWebSocketClient {
  readonly connection: BlipConnection;
  readonly socket: WebSocket;
  /** The URL actually connected to (ending in /_blipsync). */
  readonly url: string;
  /** Resolves once, when the connection has closed for any reason. */
  readonly closed: Promise<ClientCloseInfo>;
  /** Closes the connection (default 1000); resolves when the socket has fully closed (bounded wait). */
  close(code?: number, reason?: string): Promise<void>;
}

/**
 * How long a ping may go unanswered: heartbeat − 1 s, capped at 20 s and at least 1 s.
 * So heartbeat 300 s → 20 s, heartbeat 5 s → 4 s, heartbeat 1 s → 1 s. A dead peer is
 * detected at most heartbeat + pong timeout after the last answered ping.
 */
export function pongTimeoutMs(heartbeatSeconds: number): number {
  return Math.min(MAX_PONG_TIMEOUT_MS, Math.max(1000, heartbeatSeconds * 1000 - 1000));
}

/** `ws://host:port/db` → `ws://host:port/db/_blipsync` (a URL already ending in /_blipsync is kept). */
export function blipsyncUrl(databaseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(databaseUrl);
  } catch (err) {
    throw new ConnectionError(`invalid replication URL ${JSON.stringify(databaseUrl)}`, {
      transient: false,
      code: ConnectionErrorCode.InvalidUrl,
      cause: err,
    });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ConnectionError(`replication URL must use ws:// or wss:// (got ${parsed.protocol}//)`, {
      transient: false,
      code: ConnectionErrorCode.InvalidUrl,
      url: databaseUrl,
    });
  }
  const path = parsed.pathname.replace(/\/+$/, '');
  if (path === '') {
    throw new ConnectionError(`replication URL must name a database: ${parsed.protocol}//host:port/<db> (got ${databaseUrl})`, {
      transient: false,
      code: ConnectionErrorCode.InvalidUrl,
      url: databaseUrl,
    });
  }
  parsed.pathname = path.endsWith('/' + BLIPSYNC_PATH_SEGMENT) ? path : `${path}/${BLIPSYNC_PATH_SEGMENT}`;
  return parsed.toString();
}

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Opens a BLIP connection to a passive peer. Rejects with ConnectionError. */
export function connectBlipWebSocket(databaseUrl: string, options: ConnectBlipWebSocketOptions = {}): Promise<BlipWebSocketClient> {
  let url: string;
  try {
    url = blipsyncUrl(databaseUrl);
  } catch (err) {
    return Promise.reject(err);
  }
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(abortError(url, signal.reason));
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const heartbeatSeconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;

  let socket: WebSocket;
  try {
    socket = new WebSocket(url, [BLIP_SUBPROTOCOL], {
      // ws's option types are narrower than Node's tls ones under exactOptionalPropertyTypes; the values pass straight through.
      ...(options.tls as WebSocket.ClientOptions | undefined),
      headers: { ...options.headers },
      perMessageDeflate: false, // BLIP compresses its own frames
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      followRedirects: false,
      // Masking exists so that a script in a browser cannot make a plain-text proxy misread its frames.
      // Inside TLS no intermediary can read them, so a zero mask (which ws skips on both ends) gives
      // the same protection for none of the per-byte cost. Plain ws keeps random masks.
      ...(url.startsWith('wss:') ? { generateMask: zeroMask } : {}),
    });
  } catch (err) {
    return Promise.reject(classifyConnectError(err, url));
  }
  // ws emits 'error' for every failure; an unhandled one would crash the process. The listeners
  // below decide what it means.
  socket.on('error', () => {});

  return new Promise<BlipWebSocketClient>((resolve, reject) => {
    let settled = false;
    const cleanups: (() => void)[] = [];
    const finish = (error: ConnectionError | undefined): boolean => {
      if (settled) return false;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      if (error) {
        if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
        reject(error);
      }
      return true;
    };

    const timer = setTimeout(() => {
      finish(
        new ConnectionError(`connecting to ${url} timed out after ${timeoutMs} ms`, {
          transient: true,
          code: ConnectionErrorCode.HandshakeTimeout,
          url,
        }),
      );
    }, timeoutMs);
    cleanups.push(() => clearTimeout(timer));

    if (signal) {
      const onAbort = (): void => {
        finish(abortError(url, signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }

    // ws closes the socket right after reporting an error; the error (once explained) is what counts.
    let failed = false;
    const onError = (err: Error): void => {
      failed = true;
      void explainWrongScheme(err, url).then(
        (wrong) => finish(wrong ?? classifyConnectError(err, url)),
        () => finish(classifyConnectError(err, url)),
      );
    };
    socket.on('error', onError);
    cleanups.push(() => socket.off('error', onError));

    const onClose = (code: number, reason: Buffer): void => {
      if (failed) return;
      // A close before 'open' without an 'error' (should not happen with ws, but never hang).
      finish(
        new ConnectionError(`connection to ${url} closed during the handshake (${code})`, {
          transient: true,
          code: ConnectionErrorCode.Closed,
          closeCode: code,
          closeReason: reason.toString('utf8'),
          url,
        }),
      );
    };
    socket.on('close', onClose);
    cleanups.push(() => socket.off('close', onClose));

    const onUnexpectedResponse = (_req: ClientRequest, res: IncomingMessage): void => {
      void readErrorResponse(res, Math.min(2000, timeoutMs)).then((body) => {
        finish(
          httpStatusError(res.statusCode ?? 0, res.statusMessage, {
            wwwAuthenticate: headerValue(res.headers['www-authenticate']),
            responseBody: body,
            url,
          }),
        );
      });
    };
    socket.on('unexpected-response', onUnexpectedResponse);
    cleanups.push(() => socket.off('unexpected-response', onUnexpectedResponse));

    const onOpen = (): void => {
      // ws already refuses a handshake naming no or another subprotocol; check anyway.
      if (socket.protocol !== BLIP_SUBPROTOCOL) {
        finish(
          new ConnectionError(`the server selected subprotocol ${JSON.stringify(socket.protocol)}; expected ${BLIP_SUBPROTOCOL}`, {
            transient: false,
            code: ConnectionErrorCode.WrongSubprotocol,
            url,
          }),
        );
        return;
      }
      if (!finish(undefined)) return;
      resolve(establish(socket, url, heartbeatSeconds, options.blipOptions));
    };
    socket.on('open', onOpen);
    cleanups.push(() => socket.off('open', onOpen));
  });
}

function establish(socket: WebSocket, url: string, heartbeatSeconds: number, blipOptions: BlipConnectionOptions | undefined): BlipWebSocketClient {
  const connection = new BlipConnection(createWebSocketTransport(socket), {
    ...blipOptions,
    name: blipOptions?.name ?? 'client',
  });
  const stopHeartbeat = heartbeatSeconds > 0 ? startHeartbeat(socket, connection, heartbeatSeconds) : () => {};

  const socketClosed = new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve();
    else socket.once('close', () => resolve());
  });
  const closed = new Promise<ClientCloseInfo>((resolve) => {
    const report = (info: BlipCloseInfo): void => {
      stopHeartbeat();
      resolve({ ...info, connectionError: classifyClose(info.code, info.reason, info.local) });
    };
    const info = connection.closeInfo;
    if (info) report(info);
    else connection.once('close', report);
  });

  return {
    connection,
    socket,
    url,
    closed,
    async close(code = 1000, reason = 'closed'): Promise<void> {
      stopHeartbeat();
      connection.close(code, reason);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([socketClosed, timedOut]);
      clearTimeout(timer);
      if (socket.readyState !== WebSocket.CLOSED) {
        socket.terminate();
        await socketClosed;
      }
    },
  };
}

/**
 * Pings every `heartbeatSeconds` (measured from the previous pong); if a pong does not arrive
 * within pongTimeoutMs(heartbeatSeconds), the socket is terminated and the BlipConnection closes
 * with 1006 "heartbeat timeout" (transient). Returns a function that stops the heartbeat.
 */
function startHeartbeat(socket: WebSocket, connection: BlipConnection, heartbeatSeconds: number): () => void {
  const intervalMs = heartbeatSeconds * 1000;
  const timeoutMs = pongTimeoutMs(heartbeatSeconds);
  let pingTimer: NodeJS.Timeout | undefined;
  let pongTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const stop = (): void => {
    stopped = true;
    clearTimeout(pingTimer);
    clearTimeout(pongTimer);
    socket.off('pong', onPong);
  };
  const schedulePing = (): void => {
    if (stopped) return;
    pingTimer = setTimeout(sendPing, intervalMs);
  };
  const sendPing = (): void => {
    if (stopped || socket.readyState !== WebSocket.OPEN) return;
    pongTimer = setTimeout(onPongTimeout, timeoutMs);
    socket.ping(undefined, undefined, () => {});
  };
  const onPong = (): void => {
    if (pongTimer === undefined) return;
    clearTimeout(pongTimer);
    pongTimer = undefined;
    schedulePing();
  };
  const onPongTimeout = (): void => {
    stop();
    // Terminate first: the socket is then CLOSING, so the connection's close does not try to send
    // a close frame (1006 cannot be sent anyway; it means "closed without a close frame").
    socket.terminate();
    connection.close(1006, HEARTBEAT_TIMEOUT_REASON);
  };

  socket.on('pong', onPong);
  connection.once('close', stop);
  schedulePing();
  return stop;
}

function abortError(url: string, reason: unknown): ConnectionError {
  const why = reason instanceof Error ? `: ${reason.message}` : '';
  return new ConnectionError(`connecting to ${url} was aborted${why}`, {
    transient: false,
    code: ConnectionErrorCode.Aborted,
    url,
    cause: reason,
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Reads the first part of an HTTP error body, giving up after `timeoutMs`. */
function readErrorResponse(res: IncomingMessage, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res.off('data', onData);
      res.off('end', finish);
      res.off('close', finish);
      res.off('error', finish);
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text.length > MAX_ERROR_BODY_CHARS ? text.slice(0, MAX_ERROR_BODY_CHARS) + '…' : text);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_CHARS * 4) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    res.on('data', onData);
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', finish);
  });
}
