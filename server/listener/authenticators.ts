import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AuthenticationResult } from '../transport';

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

/** Root certificates (PEM) that client certificates must chain to, or a callback given the chain. */
export type ClientCertificateCheck = readonly string[] | ((chain: X509Certificate[]) => boolean | Promise<boolean>);

/**
 * Client-certificate authentication (requires TLS): the listener asks for a certificate during the
 * handshake and accepts the client only if its chain verifies against the given roots (or the
 * callback approves it). A missing or refused certificate gets 403.
 */
export class ListenerCertificateAuthenticator implements ListenerAuthenticator {
  readonly requiresTls = true;
  private readonly roots: X509Certificate[] | undefined;

  constructor(private readonly check: ClientCertificateCheck) {
    this.roots = typeof check === 'function' ? undefined : check.map((pem) => new X509Certificate(pem));
  }

  async authenticate(request: IncomingMessage): Promise<AuthenticationResult> {
    const socket = request.socket as TLSSocket;
    if (typeof socket.getPeerX509Certificate !== 'function') return { ok: false, status: 403, message: 'a client certificate requires TLS' };
    const chain = peerChain(socket);
    if (chain.length === 0) return { ok: false, status: 403, message: 'no client certificate was presented' };
    const now = Date.now();
    const leaf = chain[0]!;
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) < now) return { ok: false, status: 403, message: 'client certificate is expired or not yet valid' };
    if (this.roots) {
      const trusted = verifiesAgainst(chain, this.roots);
      return trusted ? { ok: true, user: subjectCn(leaf) } : { ok: false, status: 403, message: 'client certificate is not signed by a trusted root' };
    }
    let ok = false;
    try {
      ok = await (this.check as (chain: X509Certificate[]) => boolean | Promise<boolean>)(chain);
    } catch {
      ok = false;
    }
    return ok ? { ok: true, user: subjectCn(leaf) } : { ok: false, status: 403, message: 'client certificate refused' };
  }
}

function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerX509Certificate();
  const seen = new Set<string>();
  while (cert && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert);
    const issuer = cert.issuerCertificate;
    if (!issuer) break;
    cert = issuer;
  }
  return chain;
}

/** True when some certificate in the chain is a root, or is issued by one, and every link verifies. */
function verifiesAgainst(chain: X509Certificate[], roots: X509Certificate[]): boolean {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
    if (root) {
      for (let j = 0; j < i; j++) if (!(chain[j]!.checkIssued(chain[j + 1]!) && chain[j]!.verify(chain[j + 1]!.publicKey))) return false;
      return true;
    }
    if (roots.some((r) => r.fingerprint256 === cert.fingerprint256)) return true;
  }
  return false;
}

function subjectCn(cert: X509Certificate): string {
  const m = /CN=([^\n,]+)/.exec(cert.subject);
  return m ? m[1]! : cert.subject;
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
