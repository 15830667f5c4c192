/**
 * The passive peer's network layer: an HTTP(S) server that accepts `GET /<db>/_blipsync`
 * WebSocket upgrades from Couchbase Lite replicators and hands each accepted socket to the owner
 * as a BlipConnection. No replication logic lives here.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { BlipConnection, type BlipConnectionOptions } from '../blip/connection';
import { CloseCode, DEFAULT_MAX_MESSAGE_SIZE } from '../blip/constants';
import { createWebSocketTransport } from '../blip/websocket-transport';
import { TypedEmitter } from '../util/typed-emitter';
import { type ConnectionLimits, type ServerTimeoutOptions, resolveConnectionLimits, serverTimeoutOptions } from './connection-limits';
import { watchIdle } from './idle-watchdog';

/** The only subprotocol the listener speaks. A Couchbase Lite 3.x replicator offers it first. */
export const BLIP_SUBPROTOCOL = 'BLIP_3+CBMobile_3';
/** The path segment after the database name. */
export const BLIPSYNC_PATH_SEGMENT = '_blipsync';

/** WebSocket close code sent to every peer when the listener stops ("going away": transient for clients). */
export const CLOSE_GOING_AWAY = CloseCode.GoingAway;

export const DEFAULT_MAX_CONNECTIONS = 100;
/**
 * Default cap on one incoming WebSocket message. Each message carries one BLIP frame (16 KiB from
 * LiteCore); the cap only guards against absurd frames, so it matches the BLIP message cap plus slack.
 */
export const DEFAULT_MAX_PAYLOAD = DEFAULT_MAX_MESSAGE_SIZE + 64 * 1024;
/** How long stop() waits for peers to answer the close handshake before terminating their sockets. */
export const DEFAULT_STOP_TIMEOUT_MS = 2000;

export type AuthenticationResult =
  | { readonly ok: true; readonly user?: string | undefined }
  | {
      readonly ok: false;
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>> | undefined;
      readonly message: string;
    };

export interface ConnectionInfo {
  readonly database: string;
  /** The peer's IP address (IPv4-mapped IPv6 addresses are shown as plain IPv4). */
  readonly remoteAddress: string;
  readonly remotePort: number | undefined;
  /** Set when the `authenticate` hook named a user. */
  readonly user?: string;
  /** The upgrade request (headers, and for TLS `request.socket` is the TLSSocket). */
  readonly request: IncomingMessage;
  /** The underlying WebSocket (for diagnostics; send through the BlipConnection). */
  readonly socket: WebSocket;
}

export interface DisconnectionInfo extends ConnectionInfo {
  readonly code: number;
  readonly reason: string;
}

export interface UpgradeRejection {
  readonly status: number;
  /** The plain-text explanation sent to the peer. */
  readonly reason: string;
  readonly remoteAddress: string;
  readonly method: string;
  readonly path: string;
  /** The database named in the path, when the path had the right shape. */
  readonly database?: string;
}

export type BlipWebSocketServerEvents = {
  connection: [connection: BlipConnection, info: ConnectionInfo];
  disconnection: [connection: BlipConnection, info: DisconnectionInfo];
  /** An upgrade (or a plain HTTP request) was answered with an error status instead of a WebSocket. */
  rejected: [rejection: UpgradeRejection];
  /** The HTTP server failed after it was listening. */
  error: [error: Error];
};

export interface BlipWebSocketServerOptions {
  /** TCP port; 0 or omitted picks a free one (and a restart after stop() tries the same one again first). */
  readonly port?: number | undefined;
  /**
   * Where to listen: an IP address (`127.0.0.1`, `::1`, `192.168.1.20`) or an interface name
   * (`lo`, `eth0`, `en0`) resolved with os.networkInterfaces(). Omitted: all interfaces.
   */
  readonly networkInterface?: string | undefined;
  /** Databases served (exact names). Give this or `hasDatabase`. */
  readonly databases?: readonly string[] | undefined;
  /** Decides whether a database name is served. Give this or `databases`. */
  readonly hasDatabase?: ((name: string) => boolean) | undefined;
  /** Open WebSockets allowed at once (upgrades in progress count too); the next one gets HTTP 503. */
  readonly maxConnections?: number | undefined;
  /** Runs before the upgrade completes; a rejection is sent as the HTTP response. */
  readonly authenticate?: ((request: IncomingMessage) => Promise<AuthenticationResult>) | undefined;
  /** Largest incoming WebSocket message in bytes; a larger one closes the socket with 1009. */
  readonly maxPayload?: number | undefined;
  /** Options for each BlipConnection (its `name` defaults to `<db>@<remote address>`). */
  readonly blipOptions?: BlipConnectionOptions | undefined;
  /** Called for every accepted connection, before any of its frames are processed. */
  readonly onConnection?: ((connection: BlipConnection, info: ConnectionInfo) => void) | undefined;
  /**
   * Builds the HTTP server (e.g. `(handler, timeouts) => https.createServer({...tlsOptions, ...timeouts}, handler)`).
   * Default: plain `http.createServer`. Called on every start().
   */
  readonly createServer?: ((handler: http.RequestListener, timeouts: ServerTimeoutOptions) => http.Server | https.Server) | undefined;
  /** Per-address cap, idle and handshake timeouts (see ConnectionLimits); defaults for any left out. */
  readonly limits?: Partial<ConnectionLimits> | undefined;
  /** Whether the server built by `createServer` speaks TLS (only affects urls() and messages). Default: instanceof check. */
  readonly secure?: boolean | undefined;
  /** How long stop() waits for close handshakes before terminating sockets. */
  readonly stopTimeoutMs?: number | undefined;
}

export interface ServerStatus {
  /** Open WebSocket connections. */
  readonly connectionCount: number;
  /** Connections the owner has marked busy with markActive(). */
  readonly activeConnectionCount: number;
}

/** Why start() failed (address in use, unknown address, permission…). `code` is the system error code. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Entry {
  readonly connection: BlipConnection;
  readonly socket: WebSocket;
  readonly info: ConnectionInfo;
  active: boolean;
  readonly closed: Promise<void>;
}

type State = 'stopped' | 'starting' | 'running' | 'stopping';

/** The passive side's WebSocket listener. */
export class BlipWebSocketServer extends TypedEmitter<BlipWebSocketServerEvents> {
  private readonly options: BlipWebSocketServerOptions;
  private readonly maxConnections: number;
  private readonly limits: ConnectionLimits;
  /** Sockets per remote address: upgrades in progress and open WebSockets. */
  private readonly perAddress = new Map<string, number>();
  private readonly stopTimeoutMs: number;
  private readonly wss: WebSocketServer;
  private readonly entries = new Map<BlipConnection, Entry>();
  /** Upgrade sockets being checked (authentication, slot reserved) or being answered with an error. */
  private readonly pendingSockets = new Set<Duplex>();
  /** Upgrades that hold a connection slot but have no Entry yet. */
  private reservedSlots = 0;
  private httpServer: http.Server | https.Server | undefined;
  private boundAddress: net.AddressInfo | undefined;
  private lastPort = 0;
  private state: State = 'stopped';
  private transition: Promise<void> | undefined;

  constructor(options: BlipWebSocketServerOptions) {
    super();
    if (!options.databases && !options.hasDatabase) {
      throw new TypeError('BlipWebSocketServer needs `databases` or `hasDatabase`');
    }
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer (got ${maxConnections})`);
    }
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
      throw new RangeError(`port must be an integer from 0 to 65535 (got ${options.port})`);
    }
    this.options = options;
    this.maxConnections = maxConnections;
    this.limits = resolveConnectionLimits(options.limits);
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false, // BLIP compresses its own frames
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      handleProtocols: (offered) => (offered.has(BLIP_SUBPROTOCOL) ? BLIP_SUBPROTOCOL : false),
    });
    // ws reports its own handshake validation failures (bad key, version…) here instead of answering itself.
    this.wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
      this.rejectUpgrade(socket, req, 400, `invalid WebSocket handshake: ${err.message}`);
    });
  }

  get isListening(): boolean {
    return this.state === 'running';
  }

  /** The bound port; 0 when not started. */
  get port(): number {
    return this.boundAddress?.port ?? 0;
  }

  /** The bound address (`::`/`0.0.0.0` when listening on all interfaces); undefined when not started. */
  get address(): string | undefined {
    return this.boundAddress?.address;
  }

  get secure(): boolean {
    if (this.options.secure !== undefined) return this.options.secure;
    return this.httpServer !== undefined && 'setSecureContext' in this.httpServer;
  }

  get status(): ServerStatus {
    let active = 0;
    for (const entry of this.entries.values()) if (entry.active) active++;
    return { connectionCount: this.entries.size, activeConnectionCount: active };
  }

  /** Live connections, oldest first. */
  get connections(): BlipConnection[] {
    return [...this.entries.keys()];
  }

  connectionInfo(connection: BlipConnection): ConnectionInfo | undefined {
    return this.entries.get(connection)?.info;
  }

  /** Marks a connection busy (replicating) or idle, for `status.activeConnectionCount`. */
  markActive(connection: BlipConnection, active: boolean): void {
    const entry = this.entries.get(connection);
    if (entry) entry.active = active;
  }

  /**
   * One URL per usable address, `<scheme>://<host>:<port>/<db>` (the form a replicator is given).
   * Listening on all interfaces: every non-internal IPv4/IPv6 address except link-local ones, plus
   * 127.0.0.1. Listening on one address: only that one. Empty when not started.
   */
  urls(database: string, scheme: string = this.secure ? 'wss' : 'ws'): string[] {
    const bound = this.boundAddress;
    if (!bound) return [];
    const path = '/' + encodeURIComponent(database);
    const format = (host: string): string => `${scheme}://${formatHost(host)}:${bound.port}${path}`;
    if (bound.address !== '::' && bound.address !== '0.0.0.0') return [format(bound.address)];
    const includeV6 = bound.address === '::';
    const hosts: string[] = [];
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const addr of addresses ?? []) {
        if (addr.internal) continue;
        if (addr.family === 'IPv6' && (!includeV6 || isLinkLocal(addr.address))) continue;
        if (addr.family === 'IPv4' && isLinkLocal(addr.address)) continue;
        if (!hosts.includes(addr.address)) hosts.push(addr.address);
      }
    }
    hosts.push('127.0.0.1');
    return hosts.map(format);
  }

  /** Starts listening; resolves once listening. Rejects with ListenError (e.g. EADDRINUSE). */
  async start(): Promise<void> {
    while (this.transition) await this.transition.catch(() => undefined);
    if (this.state === 'running') return;
    this.state = 'starting';
    const attempt = this.listen();
    this.transition = attempt;
    try {
      await attempt;
      this.state = 'running';
    } catch (err) {
      this.state = 'stopped';
      throw err;
    } finally {
      this.transition = undefined;
    }
  }

  /**
   * Closes every connection with 1001 (going away), terminating sockets whose peer has not
   * completed the close handshake within `stopTimeoutMs`, and closes the HTTP server. The port is
   * free for reuse once this resolves.
   */
  async stop(): Promise<void> {
    while (this.transition) await this.transition.catch(() => undefined);
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const shutdown = this.shutdown();
    this.transition = shutdown;
    try {
      await shutdown;
    } finally {
      this.state = 'stopped';
      this.transition = undefined;
    }
  }

  // ---- listening ----

  private async listen(): Promise<void> {
    const host = resolveListenHost(this.options.networkInterface);
    const configuredPort = this.options.port ?? 0;
    const timeouts = serverTimeoutOptions(this.limits);
    const server = this.options.createServer ? this.options.createServer((req, res) => this.onRequest(req, res), timeouts) : http.createServer(timeouts, (req, res) => this.onRequest(req, res));
    // Also set directly, in case a custom createServer did not pass them on.
    server.headersTimeout = timeouts.headersTimeout;
    server.requestTimeout = timeouts.requestTimeout;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onUpgrade(req, socket, head);
    });
    // Responses to plain requests close their connection; nothing should idle, but do not let it linger.
    server.keepAliveTimeout = 1000;

    // With an auto-picked port, a restart tries the previous port first so published URLs stay valid.
    const preferred = configuredPort === 0 ? this.lastPort : configuredPort;
    try {
      await listenOnce(server, preferred, host);
    } catch (err) {
      if (configuredPort === 0 && preferred !== 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        await listenOnce(server, 0, host).catch((err2: unknown) => {
          throw listenError(err2, 0, host);
        });
      } else {
        throw listenError(err, preferred, host);
      }
    }
    server.on('error', (err: Error) => this.emit('error', err));
    this.httpServer = server;
    this.boundAddress = server.address() as net.AddressInfo;
    this.lastPort = this.boundAddress.port;
  }

  private async shutdown(): Promise<void> {
    const server = this.httpServer;
    if (!server) return;
    // Stop accepting at once; the callback runs when every socket (upgraded ones too) has closed.
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.pendingSockets) socket.destroy();
    this.pendingSockets.clear();

    const entries = [...this.entries.values()];
    for (const entry of entries) entry.connection.close(CLOSE_GOING_AWAY, 'server is shutting down');
    const allClosed = Promise.all(entries.map((e) => e.closed));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.stopTimeoutMs);
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    for (const entry of entries) {
      if (entry.socket.readyState !== WebSocket.CLOSED) entry.socket.terminate();
    }
    await allClosed;
    // Plain HTTP connections (a browser probing the port, say) must not hold the port open.
    server.closeAllConnections();
    await serverClosed;
    this.httpServer = undefined;
    this.boundAddress = undefined;
  }

  // ---- plain HTTP ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req.url);
    const parsed = parseBlipsyncPath(path);
    const endpoint = `${this.secure ? 'wss' : 'ws'}://${req.headers.host ?? 'host:port'}/<db>`;
    let status: number;
    let message: string;
    const headers: Record<string, string> = {};
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      status = 405;
      message = `method ${req.method ?? '?'} not allowed; this is a PeerSync sync endpoint; connect with a replicator to ${endpoint}`;
      headers['Allow'] = 'GET';
    } else if (parsed.kind === 'ok' && !this.hasDatabase(parsed.database)) {
      status = 404;
      message = `no database named ${parsed.database}`;
    } else if (parsed.kind === 'ok') {
      status = 426;
      message = `this is a PeerSync sync endpoint and needs a WebSocket upgrade; connect with a replicator to ${endpoint}`;
      headers['Upgrade'] = 'websocket';
      headers['Sec-WebSocket-Protocol'] = BLIP_SUBPROTOCOL;
    } else {
      status = 404;
      message = `not found; this is a PeerSync sync endpoint; connect with a replicator to ${endpoint}`;
    }
    this.emitRejected(req, status, message, parsed.kind === 'ok' ? parsed.database : undefined);
    const body = message + '\n';
    res.writeHead(status, {
      ...headers,
      Connection: 'close',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  // ---- upgrades ----

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    if (this.state !== 'running') {
      this.rejectUpgrade(socket, req, 503, 'server is shutting down; try again later');
      return;
    }
    const parsed = parseBlipsyncPath(pathOf(req.url));
    if (parsed.kind === 'malformed') {
      this.rejectUpgrade(socket, req, 400, 'malformed database name in the request path');
      return;
    }
    if (parsed.kind === 'other') {
      this.rejectUpgrade(socket, req, 404, `not found; connect to /<db>/${BLIPSYNC_PATH_SEGMENT}`);
      return;
    }
    const database = parsed.database;
    if (req.method !== 'GET') {
      this.rejectUpgrade(socket, req, 405, 'a WebSocket upgrade must use GET', database, { Allow: 'GET' });
      return;
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      this.rejectUpgrade(socket, req, 400, 'expected a WebSocket upgrade (Upgrade: websocket)', database);
      return;
    }
    if (!this.hasDatabase(database)) {
      this.rejectUpgrade(socket, req, 404, `no database named ${database}`, database);
      return;
    }
    const offered = parseProtocolHeader(req.headers['sec-websocket-protocol']);
    if (!offered.includes(BLIP_SUBPROTOCOL)) {
      const what = offered.length > 0 ? `offered ${offered.join(', ')}` : 'offered no subprotocol';
      this.rejectUpgrade(socket, req, 400, `unsupported WebSocket subprotocol: the client ${what}; this server requires ${BLIP_SUBPROTOCOL} (Couchbase Lite 3.x)`, database);
      return;
    }
    if (this.entries.size + this.reservedSlots >= this.maxConnections) {
      this.rejectUpgrade(socket, req, 503, `server has reached its connection limit (${this.maxConnections}); try again later`, database, { 'Retry-After': '5' });
      return;
    }

    const address = normalizeAddress(req.socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) {
      this.rejectUpgrade(socket, req, 429, `too many connections from ${address} (at most ${this.limits.maxConnectionsPerAddress}); try again later`, database, { 'Retry-After': '5' });
      return;
    }
    // Counted for the socket's whole life, through the upgrade and the WebSocket that follows.
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });

    this.reservedSlots++;
    this.pendingSockets.add(socket);
    let slotHeld = true;
    const releaseSlot = (): void => {
      if (!slotHeld) return;
      slotHeld = false;
      clearTimeout(upgradeTimer);
      this.reservedSlots--;
      this.pendingSockets.delete(socket);
    };
    // Whatever happens next (rejection, ws refusing the handshake, the peer hanging up), the slot
    // is released when the upgrade either completes or its socket closes.
    socket.once('close', releaseSlot);
    let timedOut = false;
    const upgradeTimer = setTimeout(() => {
      timedOut = true;
      releaseSlot();
      this.rejectUpgrade(socket, req, 408, `the upgrade was not completed within ${this.limits.upgradeTimeoutMs} ms`, database);
    }, this.limits.upgradeTimeoutMs);
    upgradeTimer.unref();
    try {
      let user: string | undefined;
      if (this.options.authenticate) {
        let result: AuthenticationResult;
        try {
          result = await this.options.authenticate(req);
        } catch (err) {
          if (timedOut) return;
          releaseSlot();
          this.emit('error', err instanceof Error ? err : new Error(String(err)));
          this.rejectUpgrade(socket, req, 500, 'authentication failed: internal error', database);
          return;
        }
        if (timedOut) return;
        if (!result.ok) {
          releaseSlot();
          this.rejectUpgrade(socket, req, result.status, result.message, database, result.headers);
          return;
        }
        user = result.user;
      }
      if (this.state !== 'running' || socket.destroyed) {
        releaseSlot();
        if (!socket.destroyed) this.rejectUpgrade(socket, req, 503, 'server is shutting down; try again later', database);
        return;
      }
      socket.off('error', onError);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        releaseSlot();
        this.accept(ws, req, database, user);
      });
    } catch (err) {
      releaseSlot();
      socket.destroy();
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private accept(ws: WebSocket, req: IncomingMessage, database: string, user: string | undefined): void {
    const remoteAddress = normalizeAddress(req.socket.remoteAddress);
    const info: ConnectionInfo = {
      database,
      remoteAddress,
      remotePort: req.socket.remotePort,
      ...(user !== undefined ? { user } : {}),
      request: req,
      socket: ws,
    };
    const connection = new BlipConnection(createWebSocketTransport(ws), {
      ...this.options.blipOptions,
      name: this.options.blipOptions?.name ?? `${database}@${remoteAddress}`,
    });
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const entry: Entry = { connection, socket: ws, info, active: false, closed };
    this.entries.set(connection, entry);
    watchIdle(ws, connection, this.limits, this.stopTimeoutMs);
    ws.once('close', (code: number, reason: Buffer) => {
      this.entries.delete(connection);
      markClosed();
      this.emit('disconnection', connection, { ...info, code, reason: reason.toString('utf8') });
    });
    try {
      this.options.onConnection?.(connection, info);
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      connection.close(1011, 'server failed to set up the connection');
      return;
    }
    this.emit('connection', connection, info);
  }

  private hasDatabase(name: string): boolean {
    if (this.options.hasDatabase) return this.options.hasDatabase(name);
    return this.options.databases?.includes(name) ?? false;
  }

  /** Answers an upgrade request with an HTTP error and closes the socket. */
  private rejectUpgrade(socket: Duplex, req: IncomingMessage, status: number, message: string, database?: string, headers?: Readonly<Record<string, string>>): void {
    this.emitRejected(req, status, message, database);
    writeHttpError(socket, status, message, headers, this.pendingSockets);
  }

  private emitRejected(req: IncomingMessage, status: number, reason: string, database: string | undefined): void {
    this.emit('rejected', {
      status,
      reason,
      remoteAddress: normalizeAddress(req.socket.remoteAddress),
      method: req.method ?? '',
      path: pathOf(req.url),
      ...(database !== undefined ? { database } : {}),
    });
  }
}

// ---- helpers ----

/** Writes a complete HTTP/1.1 error response on a raw socket, then closes it. */
function writeHttpError(socket: Duplex, status: number, message: string, extraHeaders: Readonly<Record<string, string>> | undefined, tracked: Set<Duplex>): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
  const body = sanitizeBody(message) + '\n';
  const lines = [`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(extraHeaders ?? {})) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) continue;
    const lower = name.toLowerCase();
    if (lower === 'connection' || lower === 'content-length' || lower === 'content-type') continue;
    lines.push(`${name}: ${value.replace(/[\r\n]+/g, ' ')}`);
  }
  tracked.add(socket);
  // Bounded: a peer that never reads its response cannot keep the socket around.
  const timer = setTimeout(() => socket.destroy(), 5000);
  timer.unref();
  socket.once('close', () => {
    clearTimeout(timer);
    tracked.delete(socket);
  });
  socket.once('finish', () => socket.destroy());
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

function sanitizeBody(message: string): string {
  return message.replace(/[\r\n]+/g, ' ').slice(0, 1000);
}

function listenOnce(server: http.Server | https.Server, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(host === undefined ? { port } : { port, host });
  });
}

function listenError(err: unknown, port: number, host: string | undefined): ListenError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host === undefined ? 'all interfaces' : formatHost(host)} port ${port === 0 ? '(auto)' : port}`;
  let why: string;
  switch (code) {
    case 'EADDRINUSE':
      why = `port ${port} is already in use`;
      break;
    case 'EADDRNOTAVAIL':
      why = `address ${host ?? '?'} is not assigned to any network interface of this machine`;
      break;
    case 'EACCES':
      why = `permission denied (ports below 1024 need privileges)`;
      break;
    default:
      why = err instanceof Error ? err.message : String(err);
  }
  return new ListenError(`PeerSync listener cannot listen on ${where}: ${why}${code ? ` (${code})` : ''}`, code, { cause: err });
}

/**
 * Turns the `networkInterface` option into a listen address: undefined = all interfaces; an IP
 * address as given; an interface name → its first IPv4 address, else its first non-link-local
 * IPv6 address, else its link-local IPv6 address with the interface as scope.
 */
export function resolveListenHost(networkInterface: string | undefined): string | undefined {
  if (networkInterface === undefined || networkInterface === '') return undefined;
  const trimmed = networkInterface.trim();
  const unbracketed = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  if (unbracketed === '0.0.0.0' || unbracketed === '::') return undefined;
  if (net.isIP(unbracketed.split('%')[0] ?? '') !== 0) return unbracketed;
  const interfaces = os.networkInterfaces();
  const addresses = interfaces[unbracketed];
  if (!addresses || addresses.length === 0) {
    const names = Object.keys(interfaces).join(', ') || 'none';
    throw new ListenError(`unknown network interface "${networkInterface}": give an IP address or one of these interface names: ${names}`, 'UNKNOWN_INTERFACE');
  }
  const v4 = addresses.find((a) => a.family === 'IPv4');
  if (v4) return v4.address;
  const v6 = addresses.find((a) => a.family === 'IPv6' && !isLinkLocal(a.address));
  if (v6) return v6.address;
  const linkLocal = addresses[0];
  return linkLocal ? `${linkLocal.address}%${unbracketed}` : undefined;
}

/** fe80::/10 and 169.254.0.0/16. */
export function isLinkLocal(address: string): boolean {
  const a = address.toLowerCase();
  if (net.isIPv4(a)) return a.startsWith('169.254.');
  return /^fe[89ab][0-9a-f]?:/.test(a);
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q >= 0 ? raw.slice(0, q) : raw;
}

type ParsedPath = { kind: 'ok'; database: string } | { kind: 'other' } | { kind: 'malformed' };

/** `/<db>/_blipsync` → the URL-decoded db name. */
export function parseBlipsyncPath(path: string): ParsedPath {
  if (!path.startsWith('/')) return { kind: 'other' };
  const segments = path.slice(1).split('/');
  if (segments.length !== 2 || segments[1] !== BLIPSYNC_PATH_SEGMENT || !segments[0]) return { kind: 'other' };
  try {
    const database = decodeURIComponent(segments[0]);
    return database === '' ? { kind: 'other' } : { kind: 'ok', database };
  } catch {
    return { kind: 'malformed' };
  }
}

function parseProtocolHeader(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}
