import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AuthenticationResult } from '../transport';
import { subjectCommonName, verifyClientChain } from './client-chain';

/** Decides whether a client may connect; runs on the WebSocket upgrade, before any data is exchanged. */
export interface ListenerAuthenticator {
  /** Whether this authenticator needs TLS (client certificates do). */
  readonly requiresTls: boolean;
  /**
   * The user name an attempt is made at, for counting failures before the (possibly slow) check
   * runs; undefined when the request carries no credentials at all (a client asking for the
   * challenge, which costs nothing to answer). Without this method every attempt counts under ''.
   */
  attemptUser?(request: IncomingMessage): string | undefined;
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

  attemptUser(request: IncomingMessage): string | undefined {
    const credentials = basicCredentials(request.headers.authorization);
    return credentials === 'none' ? undefined : credentials === 'malformed' ? '' : credentials.user;
  }

  async authenticate(request: IncomingMessage): Promise<AuthenticationResult> {
    const challenge = { 'WWW-Authenticate': `Basic realm="${this.realm}"` };
    const credentials = basicCredentials(request.headers.authorization);
    if (credentials === 'none') return { ok: false, status: 401, headers: challenge, message: 'credentials required' };
    if (credentials === 'malformed') return { ok: false, status: 401, headers: challenge, message: 'only well-formed Basic credentials are accepted' };
    let ok = false;
    try {
      ok = await this.check(credentials.user, credentials.password);
    } catch {
      ok = false;
    }
    return ok ? { ok: true, user: credentials.user } : { ok: false, status: 401, headers: challenge, message: 'wrong user name or password' };
  }
}

function basicCredentials(header: string | undefined): 'none' | 'malformed' | { user: string; password: string } {
  if (!header) return 'none';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return 'malformed';
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
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
