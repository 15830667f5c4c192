import type { Database } from '../store';
import { PassivePeerSession } from '../replication/passive-peer';
import { BlipWebSocketServer, type ServerStatus } from '../transport';
import { TypedEmitter } from '../util/typed-emitter';
import type { DocumentEnded } from '../replication/document-event';
import { ListenerCertificateAuthenticator, ListenerPasswordAuthenticator, type ListenerAuthenticator } from './authenticators';
import { AttemptLimiter } from './attempt-limiter';
import type { IncomingMessage, RequestListener } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { describeTlsError, isOpenSslError, remoteAddressOf } from './remote-address';
import type { BlipConnection } from '../blip';
import { join } from 'node:path';
import { FileKeystore, anonymousIdentity, identityTlsOptions, type TLSIdentity } from '../tls';
import type { AuthenticationResult } from '../transport';
import type { ServerTimeoutOptions } from '../transport/connection-limits';
import { blipLimits, connectionLimits, type ListenerLimits } from './listener-limits';
import { logServerEvents } from './listener-log';
import { logger } from '../util/log';

const log = logger('listener');

export interface ListenerConfig {
  readonly database: Database;
  /** Collections served (default: all of the database's). */
  readonly collections?: readonly string[] | undefined;
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number | undefined;
  /** An IP address or interface name to listen on (default: all interfaces). */
  readonly networkInterface?: string | undefined;
  /** Refuse pushes (403); pulls are served. */
  readonly readOnly?: boolean | undefined;
  /** Stored for delta sync (a later protocol feature). */
  readonly enableDeltaSync?: boolean | undefined;
  /** Open connections allowed at once (default 100); the next client gets HTTP 503. */
  readonly maxConnections?: number | undefined;
  /** Who may connect (default: anyone). */
  readonly authenticator?: ListenerAuthenticator | undefined;
  /** Serve plain ws:// instead of wss:// (TLS is on by default). */
  readonly disableTLS?: boolean | undefined;
  /**
   * The listener's certificate and key. With TLS on and none given, an anonymous self-signed
   * identity is created, kept in `keystore` and reused across restarts (renewed near expiry).
   */
  readonly tlsIdentity?: TLSIdentity | undefined;
  /** Where the anonymous identity is kept (default: `<database>/keystore`). */
  readonly keystore?: FileKeystore | undefined;
  /** Limits on authentication attempts per address and per (address, user) (defaults: DEFAULT_ATTEMPT_LIMITS). */
  readonly attemptLimiter?: AttemptLimiter | undefined;
  /** Bounds on what one client can make the listener hold (per-address cap, timeouts, buffers). */
  readonly limits?: ListenerLimits | undefined;
}

/** A refused connection attempt, for logs. */
export interface AuthFailure {
  readonly remoteAddress: string;
  readonly status: number;
  readonly reason: string;
}

/** A TLS connection that OpenSSL failed, for logs. */
export interface TlsFailure {
  readonly remoteAddress: string;
  readonly reason: string;
}

export interface ListenerClient {
  readonly remoteAddress: string;
  readonly connectedAt: number;
  readonly busy: boolean;
}

export type ListenerEvents = {
  status: [ServerStatus];
  documentEnded: [DocumentEnded];
  authFailure: [AuthFailure];
  /** A TLS connection that failed in OpenSSL (wrong protocol, no shared cipher, a client chain whose presented links do not verify). */
  tlsError: [TlsFailure];
};

/**
 * The passive peer (Couchbase Lite's URLEndpointListener): serves one database at
 * `ws://host:port/<db>/_blipsync` to any number of replicators.
 */
export class Listener extends TypedEmitter<ListenerEvents> {
  private readonly server: BlipWebSocketServer;
  private readonly clients = new Map<PassivePeerSession, { remoteAddress: string; connectedAt: number; busy: boolean }>();

  constructor(readonly config: ListenerConfig) {
    super();
    this.limiter = config.attemptLimiter ?? new AttemptLimiter();
    const db = config.database;
    if (config.authenticator?.requiresTls && config.disableTLS) {
      throw new Error('client-certificate authentication requires TLS: remove disableTLS');
    }
    this.server = new BlipWebSocketServer({
      port: config.port ?? 0,
      networkInterface: config.networkInterface,
      databases: [db.name],
      maxConnections: config.maxConnections,
      limits: connectionLimits(config.limits),
      // Frames are sent uncompressed (compressed ones from peers are still accepted): zlib's
      // asynchronous round trip per frame stalls the outbox, and sync peers are mostly on LANs.
      blipOptions: { compressionLevel: 0, ...blipLimits(config.limits) },
      ...(config.disableTLS ? {} : { createServer: (handler: RequestListener, timeouts: ServerTimeoutOptions) => this.createTlsServer(handler, timeouts), secure: true }),
      ...(config.authenticator ? { authenticate: (req: IncomingMessage) => this.authenticate(req) } : {}),
      onConnection: (conn, info) => this.accept(conn, info.remoteAddress),
    });
    logServerEvents(this.server, db.name);
    // The session may report its end before the socket is counted out: report the count again once it is.
    this.server.on('disconnection', () => this.emit('status', this.status));
  }

  private identity: TLSIdentity | undefined;

  private accept(conn: BlipConnection, remoteAddress: string): void {
    const config = this.config;
    const session = new PassivePeerSession(conn, {
      database: config.database,
      collections: config.collections,
      readOnly: config.readOnly,
      enableDeltaSync: config.enableDeltaSync,
      maxCheckpointBytes: config.limits?.maxCheckpointBytes,
    });
    const client = { remoteAddress, connectedAt: Date.now(), busy: false };
    this.clients.set(session, client);
    session.on('activity', (busy) => {
      client.busy = busy;
      this.server.markActive(conn, busy);
      this.emit('status', this.status);
    });
    session.on('documentEnded', (e) => this.emit('documentEnded', e));
    session.on('closed', () => {
      this.clients.delete(session);
      this.emit('status', this.status);
    });
    this.emit('status', this.status);
  }

  private createTlsServer(handler: RequestListener, timeouts: ServerTimeoutOptions): HttpsServer {
    const identity = this.identity!;
    const server = createHttpsServer(
      {
        ...timeouts,
        ...identityTlsOptions(identity),
        minVersion: 'TLSv1.2',
        ...this.clientCertificateOptions(),
      },
      handler,
    );
    this.allowPartialChains(server);
    const report = (err: Error, remoteAddress: string): void => {
      const reason = describeTlsError(err);
      log.info('TLS error', { address: remoteAddress, reason });
      this.emit('tlsError', { remoteAddress, reason });
    };
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => report(err, remoteAddressOf(socket)));
    // OpenSSL can also fail a TLS 1.2 connection on its first read after the handshake (a client
    // chain check it let pass during the handshake); the HTTP layer would close it without a word.
    // The address is taken now: a destroyed socket no longer has one.
    server.on('secureConnection', (socket: TLSSocket) => {
      const remoteAddress = remoteAddressOf(socket);
      socket.on('error', (err: Error) => isOpenSslError(err) && report(err, remoteAddress));
    });
    return server;
  }

  /**
   * OpenSSL verifies client chains against the authenticator's anchors during the handshake (an
   * intermediate or a pinned client certificate may be an anchor: partial chains are allowed).
   * Its verdict is not enforced there but read by the authenticator, so most refusals are an HTTP
   * 403 with the reason; a chain whose own signatures fail can still end the handshake of a TLS 1.2
   * client, which is then reported as a TLS error.
   */
  private clientCertificateOptions(): { requestCert?: boolean; rejectUnauthorized?: boolean; ca?: string[] } {
    const auth = this.config.authenticator;
    if (!(auth instanceof ListenerCertificateAuthenticator)) return {};
    return { requestCert: true, rejectUnauthorized: false, ca: [...auth.trustedRoots] };
  }

  /**
   * Anchors that are not self-signed (an intermediate, a pinned client certificate) need OpenSSL's
   * partial-chain mode. Node 20's TLS server builds its context from a fixed list of options that
   * leaves `allowPartialTrustChain` out, so the context it shares between connections is replaced
   * by one made with the same options plus that flag.
   */
  private allowPartialChains(server: HttpsServer): void {
    const auth = this.config.authenticator;
    if (!(auth instanceof ListenerCertificateAuthenticator) || auth.anchorsAreRoots) return;
    const shared = server as unknown as { _sharedCreds?: SecureContext };
    if (!shared._sharedCreds)
      throw new Error('this Node.js version keeps its TLS server context elsewhere: intermediate or pinned client-certificate anchors are not supported; give the root CA instead');
    shared._sharedCreds = createSecureContext({ ...identityTlsOptions(this.identity!), ca: [...auth.trustedRoots], allowPartialTrustChain: true });
  }

  /** What whoever runs the listener should know about its security (e.g. passwords received over ws://). */
  get warnings(): string[] {
    return this.config.disableTLS && this.config.authenticator instanceof ListenerPasswordAuthenticator
      ? ['clients send their HTTP Basic passwords unencrypted over ws://; anyone on the network path can read them (serve wss://)']
      : [];
  }

  /** The certificate the listener presents (undefined when TLS is disabled or before start()). */
  get tlsIdentity(): TLSIdentity | undefined {
    return this.config.disableTLS ? undefined : this.identity;
  }

  private readonly limiter: AttemptLimiter;

  private async authenticate(req: IncomingMessage): Promise<AuthenticationResult> {
    const authenticator = this.config.authenticator!;
    const address = remoteAddressOf(req.socket);
    const user = authenticator.attemptUser ? authenticator.attemptUser(req) : '';
    // A request without credentials is how real clients ask for the challenge: free, not an attempt.
    const admission = user === undefined ? undefined : this.limiter.admit(address, user);
    if (admission && !admission.ok) {
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      log.warn('authentication refused: too many attempts', { address, user, status: 429, reason: admission.reason, retryAfterSeconds: seconds });
      this.emit('authFailure', { remoteAddress: address, status: 429, reason: admission.reason });
      return { ok: false, status: 429, headers: { 'Retry-After': String(seconds) }, message: `${admission.reason}; try again in ${seconds} s` };
    }
    let result: AuthenticationResult;
    try {
      result = await authenticator.authenticate(req);
    } catch (err) {
      admission?.finish(false);
      throw err;
    }
    admission?.finish(result.ok);
    logAuthentication(address, user, result);
    if (!result.ok) this.emit('authFailure', { remoteAddress: address, status: result.status, reason: result.message });
    return result;
  }

  async start(): Promise<void> {
    if (!this.config.disableTLS) {
      // Looked up on every start, so an anonymous certificate close to expiry is renewed.
      this.identity = this.config.tlsIdentity ?? (await anonymousIdentity(this.config.keystore ?? new FileKeystore(join(this.config.database.path, 'keystore')), this.config.database.uuid));
    }
    await this.server.start();
    log.info('listening', { database: this.config.database.name, urls: this.urls, tls: !this.config.disableTLS, authentication: authenticationKind(this.config.authenticator) });
  }

  /** Closes every connection (clients see a transient close and retry) and stops listening. */
  async stop(): Promise<void> {
    await this.server.stop();
    log.info('stopped', { database: this.config.database.name });
  }

  get port(): number {
    return this.server.port;
  }

  /** One URL per usable interface (no link-local addresses). */
  get urls(): string[] {
    return this.server.urls(this.config.database.name);
  }

  get status(): ServerStatus {
    return this.server.status;
  }

  get isListening(): boolean {
    return this.server.isListening;
  }

  connectedClients(): ListenerClient[] {
    return [...this.clients.values()].map((c) => ({ ...c }));
  }
}

function logAuthentication(address: string, user: string | undefined, result: AuthenticationResult): void {
  const who = { address, ...(user ? { user } : {}) };
  if (result.ok) log.debug('authenticated', who);
  // A request without credentials is a client asking for the challenge, not a failed attempt.
  else if (user === undefined) log.debug('credentials requested', { ...who, status: result.status });
  else log.info('authentication refused', { ...who, status: result.status, reason: result.message });
}

/** A name that survives minification, unlike the authenticator's class name. */
function authenticationKind(auth: ListenerAuthenticator | undefined): string {
  if (!auth) return 'none';
  if (auth instanceof ListenerCertificateAuthenticator) return 'clientCertificate';
  if (auth instanceof ListenerPasswordAuthenticator) return 'password';
  return 'custom';
}
