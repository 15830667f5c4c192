import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AuthenticationResult } from '../transport';

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
    let ok: boolean;
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

/**
 * An extra decision on a client certificate whose chain OpenSSL has already verified against the
 * trusted roots (on the server side Node exposes only the client's own certificate, not the chain).
 */
export type ClientCertificateCheck = (certificate: X509Certificate) => boolean | Promise<boolean>;

/**
 * Client-certificate authentication (requires TLS): the listener asks for a certificate during the
 * handshake and accepts the client only if its chain leads to one of `rootCerts` (PEM; a root or
 * an intermediate CA, or a client's own certificate to pin it), and then, when given, `accept`
 * approves it. A missing or refused certificate gets 403 with the reason.
 */
export class ListenerCertificateAuthenticator implements ListenerAuthenticator {
  readonly requiresTls = true;
  /** PEM of the trust anchors, handed to the TLS server: OpenSSL verifies the chain during the handshake. */
  readonly trustedRoots: readonly string[];
  /** Every anchor is a self-signed root (otherwise the TLS server must accept partial chains). */
  readonly anchorsAreRoots: boolean;

  constructor(
    rootCerts: readonly string[],
    private readonly accept?: ClientCertificateCheck,
  ) {
    if (rootCerts.length === 0) throw new Error('client-certificate authentication needs at least one trusted root certificate');
    // Parsed once so a bad file fails here, not at the first client.
    const parsed = rootCerts.map((pem) => new X509Certificate(pem));
    this.trustedRoots = [...rootCerts];
    this.anchorsAreRoots = parsed.every((c) => c.checkIssued(c) && c.verify(c.publicKey));
  }

  async authenticate(request: IncomingMessage): Promise<AuthenticationResult> {
    const socket = request.socket as TLSSocket;
    if (typeof socket.getPeerX509Certificate !== 'function') return { ok: false, status: 403, message: 'a client certificate requires TLS' };
    const leaf = socket.getPeerX509Certificate();
    if (!leaf) return { ok: false, status: 403, message: 'client certificate refused: no client certificate was presented' };
    // OpenSSL's verdict on the whole chain (signatures, CA flags, key usage, extended key usage for
    // client authentication, path length, name constraints, dates of every certificate).
    if (!socket.authorized) return { ok: false, status: 403, message: `client certificate refused: ${describeVerifyError(socket.authorizationError)}` };
    if (this.accept) {
      let ok: boolean;
      try {
        ok = await this.accept(leaf);
      } catch {
        ok = false;
      }
      if (!ok) return { ok: false, status: 403, message: 'client certificate refused by the application' };
    }
    return { ok: true, user: subjectCommonName(leaf) };
  }
}

/** What OpenSSL's verification error means for whoever reads the listener's log. */
const VERIFY_ERRORS: Readonly<Record<string, string>> = {
  CERT_SIGNATURE_FAILURE: 'a signature in the chain does not verify (a forged or altered certificate)',
  CERT_HAS_EXPIRED: 'a certificate in the chain has expired',
  CERT_NOT_YET_VALID: 'a certificate in the chain is not valid yet',
  INVALID_PURPOSE: 'a certificate in the chain may not be used for client authentication (its extended key usage, or a signer that is not a CA)',
  INVALID_CA: 'a certificate that signed another is not a CA certificate',
  PATH_LENGTH_EXCEEDED: 'the chain is longer than a CA in it allows',
  UNABLE_TO_GET_ISSUER_CERT: 'it was not issued by a trusted certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it was not issued by a trusted certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it was not issued by a trusted certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'it was not issued by a trusted certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it was not issued by a trusted certificate',
};

function describeVerifyError(error: Error | string | null | undefined): string {
  const code = typeof error === 'string' ? error : ((error as { code?: string } | null | undefined)?.code ?? error?.message ?? 'UNKNOWN');
  return `${VERIFY_ERRORS[code] ?? 'the chain did not verify'} (${code})`;
}

/** The client's user name: the common name of its certificate (the whole subject if it has none). */
function subjectCommonName(cert: X509Certificate): string {
  const m = /^CN=(.*)$/m.exec(cert.subject);
  return m ? m[1]! : cert.subject.replace(/\n/g, ', ');
}
