import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AuthenticationResult } from '../transport';
import { subjectCommonName, verifyClientChain } from './client-chain';

/** Decides whether a client may connect; runs on the WebSocket upgrade, before any data is exchanged. */
export interface ListenerAuthenticator {
  /** Whether this authenticator needs TLS (client certificates do). */
  readonly requiresTls: boolean;
  authenticate(request: IncomingMessage): Promise<AuthenticationResult>;
}

/** Checks a user name and password (HTTP Basic on the upgrade request). */
export type PasswordCheck = (username: string, password: string) => boolean | Promise<boolean>;

/**
 * HTTP Basic authentication. A request without credentials, or with wrong ones, gets 401 with
 * `WWW-Authenticate: Basic realm=…` — real Couchbase Lite clients send credentials only after
 * seeing that challenge.
 */
export class ListenerPasswordAuthenticator implements ListenerAuthenticator {
  readonly requiresTls = false;

  constructor(
    private readonly check: PasswordCheck,
    private readonly realm = 'PeerSync',
  ) {}

  async authenticate(request: IncomingMessage): Promise<AuthenticationResult> {
    const challenge = { 'WWW-Authenticate': `Basic realm="${this.realm}"` };
    const header = request.headers.authorization;
    if (!header) return { ok: false, status: 401, headers: challenge, message: 'credentials required' };
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return { ok: false, status: 401, headers: challenge, message: 'only Basic authentication is supported' };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, status: 401, headers: challenge, message: 'malformed Basic credentials' };
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    let ok = false;
    try {
      ok = await this.check(user, password);
    } catch {
      ok = false;
    }
    return ok ? { ok: true, user } : { ok: false, status: 401, headers: challenge, message: 'wrong user name or password' };
  }
}

/** An extra decision on a client certificate chain that already verified against the trusted roots. */
export type ClientCertificateCheck = (chain: readonly X509Certificate[]) => boolean | Promise<boolean>;

/**
 * Client-certificate authentication (requires TLS): the listener asks for a certificate during the
 * handshake and accepts the client only if its chain leads to one of `rootCerts` (PEM; a root or
 * an intermediate CA, or a client's own certificate to pin it), and then, when given, `accept`
 * approves it. A missing or refused certificate gets 403 with the reason.
 */
export class ListenerCertificateAuthenticator implements ListenerAuthenticator {
  readonly requiresTls = true;
  private readonly anchors: X509Certificate[];

  constructor(
    rootCerts: readonly string[],
    private readonly accept?: ClientCertificateCheck,
    private readonly now: () => number = Date.now,
  ) {
    if (rootCerts.length === 0) throw new Error('client-certificate authentication needs at least one trusted root certificate');
    this.anchors = rootCerts.map((pem) => new X509Certificate(pem));
  }

  async authenticate(request: IncomingMessage): Promise<AuthenticationResult> {
    const socket = request.socket as TLSSocket;
    if (typeof socket.getPeerX509Certificate !== 'function') return { ok: false, status: 403, message: 'a client certificate requires TLS' };
    const verdict = verifyClientChain(peerChain(socket), this.anchors, this.now());
    if (!verdict.ok) return { ok: false, status: 403, message: `client certificate refused: ${verdict.reason}` };
    const leaf = verdict.path[0]!;
    if (this.accept) {
      let ok = false;
      try {
        ok = await this.accept(verdict.path);
      } catch {
        ok = false;
      }
      if (!ok) return { ok: false, status: 403, message: 'client certificate refused by the application' };
    }
    return { ok: true, user: subjectCommonName(leaf) };
  }
}

/** The client's certificate, then the certificates it sent with it, in the order Node linked them by issuer. */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerX509Certificate();
  const seen = new Set<string>();
  while (cert && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * Remembers failed attempts per remote address; after `maxFailures` within `windowMs` the address
 * gets 429 until `cooldownMs` has passed (slows password guessing without locking users out forever).
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
    private readonly cooldownMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the address must still wait, or 0. */
  blockedFor(address: string): number {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left <= 0) {
      this.blockedUntil.delete(address);
      return 0;
    }
    return left;
  }

  recordFailure(address: string): void {
    const t = this.now();
    const list = (this.failures.get(address) ?? []).filter((x) => t - x < this.windowMs);
    list.push(t);
    if (list.length >= this.maxFailures) {
      this.blockedUntil.set(address, t + this.cooldownMs);
      this.failures.delete(address);
    } else {
      this.failures.set(address, list);
    }
    if (this.failures.size > 10_000) this.failures.clear(); // bounded memory under a spray of addresses
  }

  recordSuccess(address: string): void {
    this.failures.delete(address);
  }
}
