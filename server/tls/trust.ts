/**
 * Server-certificate validation for the active side (replicator → `wss://` listener), in the order
 * of "Authenticating the Listener":
 *
 *  1. `pinnedServerCertificate` set → the server's leaf certificate must be exactly the pinned one
 *     (DER bytes compared). Nothing else is looked at: not the issuer, not the dates, not the host.
 *  2. else `acceptOnlySelfSignedServerCertificate: true` → any self-signed leaf is accepted (issuer
 *     name == subject name and the signature verifies with its own key); anything else is refused,
 *     whoever signed it. Dates and host name are not checked (a self-signed certificate proves
 *     nothing about the peer; this mode gives encryption, not authentication).
 *  3. else (default) → the chain must verify (OpenSSL, including validity dates) against Node's CA
 *     store plus `trustedRootCertificates`, and the certificate must be valid for the host name
 *     connected to (Node's `tls.checkServerIdentity`).
 *
 * How it is enforced. Node's `tls.connect` has no verification callback: `checkServerIdentity` is
 * only called when OpenSSL's own verification succeeded, and with `rejectUnauthorized: false` its
 * error does not even close the socket. So modes 1 and 2 cannot be expressed with `ca` /
 * `rejectUnauthorized` / `checkServerIdentity` alone. Instead the socket is created by
 * `connectWithServerTrust` (tls.connect with `rejectUnauthorized: false`) and checked when Node emits
 * 'secureConnect' — the same moment Node's own `rejectUnauthorized` check runs — and destroyed with
 * a ServerCertificateError when refused (without 'secureConnect' reaching anyone); nothing written
 * by the caller (HTTP upgrade request, credentials) has been sent at that point.
 *
 * `serverTrustTlsOptions` packages that as options for the `ws` client (and `https.request`):
 * `createConnection` does the real work. Its other fields (`rejectUnauthorized: true`, `ca`,
 * `checkServerIdentity`) are a fail-closed fallback for a consumer that ignores `createConnection`
 * (e.g. plain `tls.connect(options)`): pinning a self-signed certificate still works there, CA mode
 * works, and self-signed-only mode refuses everything rather than accepting everything.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { certificateDer, derToPem, fingerprintSha256, isSelfSignedCertificate, splitPemCertificates } from './identity';

export interface ServerCertificateTrust {
  /** The server's certificate, PEM text or DER bytes (a `.cer` file). Takes precedence over everything else. */
  readonly pinnedServerCertificate?: string | Uint8Array | undefined;
  /** Accept any self-signed server certificate and only those. Ignored when a certificate is pinned. */
  readonly acceptOnlySelfSignedServerCertificate?: boolean | undefined;
  /** Extra trusted root CA certificates (PEM; a string may hold several) added to Node's CA store in CA mode. */
  readonly trustedRootCertificates?: readonly string[] | undefined;
}

export type ServerTrustMode = 'pinned' | 'self-signed-only' | 'ca';

export const ServerCertificateErrorCode = {
  /** Mode 1: the leaf is not the pinned certificate. */
  PinnedMismatch: 'ERR_TLS_PINNED_CERT_MISMATCH',
  /** Mode 2: the leaf is not self-signed. */
  NotSelfSigned: 'ERR_TLS_CERT_NOT_SELF_SIGNED',
  /** Mode 3: the chain does not verify against the trusted CAs (unknown issuer, expired, …). */
  Untrusted: 'ERR_TLS_CERT_UNTRUSTED',
  /** Mode 3: the certificate does not name the host connected to (same code Node uses). */
  HostMismatch: 'ERR_TLS_CERT_ALTNAME_INVALID',
  /** The server presented no certificate. */
  NoCertificate: 'ERR_TLS_NO_PEER_CERTIFICATE',
} as const;
export type ServerCertificateErrorCode = (typeof ServerCertificateErrorCode)[keyof typeof ServerCertificateErrorCode];

/**
 * A refused server certificate. `code` starts with ERR_TLS, so the transport classifies it as a
 * permanent TLS failure; the message says which check failed and what to change.
 */
export class ServerCertificateError extends Error {
  override readonly name = 'ServerCertificateError';
  readonly code: ServerCertificateErrorCode;
  readonly mode: ServerTrustMode;
  /** The refused leaf's SHA-256 fingerprint (uppercase, colon-separated), when there was one. */
  readonly peerFingerprintSha256: string | undefined;
  /** OpenSSL's verification code in CA mode (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT…). */
  readonly verifyError: string | undefined;

  constructor(message: string, init: { code: ServerCertificateErrorCode; mode: ServerTrustMode; peerFingerprintSha256?: string | undefined; verifyError?: string | undefined }) {
    super(message);
    this.code = init.code;
    this.mode = init.mode;
    this.peerFingerprintSha256 = init.peerFingerprintSha256;
    this.verifyError = init.verifyError;
  }
}

/** A validated trust configuration (parse once, use for every connection). */
export interface ResolvedServerTrust {
  readonly mode: ServerTrustMode;
  /** Mode 1: the pinned certificate's DER and fingerprint. */
  readonly pinnedDer: Buffer | undefined;
  readonly pinnedFingerprintSha256: string | undefined;
  /**
   * Mode 3: the CA list to verify against — undefined means Node's default store (which also honours
   * NODE_EXTRA_CA_CERTS); with trustedRootCertificates it is tls.rootCertificates + those.
   */
  readonly ca: readonly string[] | undefined;
}

function isResolved(trust: ServerCertificateTrust | ResolvedServerTrust): trust is ResolvedServerTrust {
  return typeof (trust as ResolvedServerTrust).mode === 'string';
}

/** Which of the three checks applies. */
export function serverTrustMode(trust: ServerCertificateTrust): ServerTrustMode {
  if (trust.pinnedServerCertificate !== undefined) return 'pinned';
  if (trust.acceptOnlySelfSignedServerCertificate === true) return 'self-signed-only';
  return 'ca';
}

/** Validates the configuration: a pinned or trusted certificate that cannot be parsed throws a TypeError. */
export function resolveServerTrust(trust: ServerCertificateTrust | ResolvedServerTrust): ResolvedServerTrust {
  if (isResolved(trust)) return trust;
  const mode = serverTrustMode(trust);
  if (mode === 'pinned') {
    let der: Buffer;
    try {
      der = certificateDer(trust.pinnedServerCertificate!);
      new X509Certificate(der);
    } catch (err) {
      throw new TypeError(`pinnedServerCertificate is not a valid X.509 certificate (PEM or DER expected): ${(err as Error).message}`);
    }
    return Object.freeze({ mode, pinnedDer: der, pinnedFingerprintSha256: fingerprintSha256(der), ca: undefined });
  }
  if (mode === 'self-signed-only') return Object.freeze({ mode, pinnedDer: undefined, pinnedFingerprintSha256: undefined, ca: undefined });
  const extra: string[] = [];
  for (const [i, pem] of (trust.trustedRootCertificates ?? []).entries()) {
    const certs = splitPemCertificates(pem);
    if (certs.length === 0) throw new TypeError(`trustedRootCertificates[${i}] contains no PEM certificate`);
    for (const c of certs) {
      try {
        new X509Certificate(c);
      } catch (err) {
        throw new TypeError(`trustedRootCertificates[${i}] is not a valid X.509 certificate: ${(err as Error).message}`);
      }
      extra.push(c);
    }
  }
  const ca = extra.length > 0 ? Object.freeze([...tls.rootCertificates, ...extra]) : undefined;
  return Object.freeze({ mode, pinnedDer: undefined, pinnedFingerprintSha256: undefined, ca });
}

/** What the server presented, as seen after the handshake. */
export interface PresentedServerCertificate {
  /** The leaf certificate's DER (`getPeerCertificate().raw`); undefined when none was sent. */
  readonly leafDer: Uint8Array | undefined;
  /**
   * OpenSSL's verdict on the chain against the CA list of mode 3 (`socket.authorizationError`):
   * null/undefined when it verified. Only used in mode 3.
   */
  readonly verifyError?: string | Error | null | undefined;
  /** Host name connected to; with `peerCertificate`, enables the host check of mode 3. */
  readonly host?: string | undefined;
  readonly peerCertificate?: tls.PeerCertificate | undefined;
}

const VERIFY_ERROR_TEXT: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed root that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate was issued by an unknown CA',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer certificate is unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer certificate is not among the trusted CAs',
  CERT_SIGNATURE_FAILURE: 'the certificate signature is invalid',
  CERT_REVOKED: 'the certificate was revoked',
  INVALID_CA: 'an issuing certificate is not a valid CA',
  INVALID_PURPOSE: 'the certificate is not meant for TLS servers',
  CERT_UNTRUSTED: 'the certificate is not trusted',
  CERT_REJECTED: 'the certificate was rejected',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the host name does not match the certificate',
};

function describeVerifyError(err: string | Error): { code: string; text: string } {
  const code = typeof err === 'string' ? err : ((err as NodeJS.ErrnoException).code ?? err.message);
  const text = VERIFY_ERROR_TEXT[code] ?? (typeof err === 'string' ? err : err.message);
  return { code, text: text === code ? code : `${text} (${code})` };
}

function untrustedHint(code: string): string {
  if (code === 'CERT_HAS_EXPIRED') return "renew the server certificate (or check this machine's clock)";
  if (code === 'CERT_NOT_YET_VALID') return 'check the clocks of both machines, or wait until the certificate becomes valid';
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    return 'pin it (peersync replicate --pin FILE), accept self-signed certificates (--self-signed-only), or add it to the trusted roots (--ca FILE)';
  }
  return 'pin it (peersync replicate --pin FILE) or add its root CA to the trusted roots (--ca FILE)';
}

/**
 * The decision for one presented certificate: undefined to accept, or the error to refuse with.
 * Pure apart from parsing; `connectWithServerTrust` calls it on every handshake.
 */
export function evaluateServerCertificate(presented: PresentedServerCertificate, trust: ServerCertificateTrust | ResolvedServerTrust): ServerCertificateError | undefined {
  const resolved = resolveServerTrust(trust);
  const { mode } = resolved;
  if (!presented.leafDer || presented.leafDer.length === 0) {
    return new ServerCertificateError('the server presented no certificate; a TLS listener must present one', { code: ServerCertificateErrorCode.NoCertificate, mode });
  }
  const leafDer = Buffer.from(presented.leafDer);
  const fingerprint = fingerprintSha256(leafDer);

  if (mode === 'pinned') {
    if (leafDer.equals(resolved.pinnedDer!)) return undefined;
    return new ServerCertificateError(
      `server certificate does not match the pinned certificate (fingerprint ${fingerprint}, pinned ${resolved.pinnedFingerprintSha256}); ` +
        'update pinnedServerCertificate to the certificate the listener now uses, or remove the pin',
      { code: ServerCertificateErrorCode.PinnedMismatch, mode, peerFingerprintSha256: fingerprint },
    );
  }

  if (mode === 'self-signed-only') {
    let selfSigned: boolean;
    try {
      selfSigned = isSelfSignedCertificate(new X509Certificate(leafDer));
    } catch {
      selfSigned = false;
    }
    if (selfSigned) return undefined;
    return new ServerCertificateError(
      `server certificate is not self-signed (fingerprint ${fingerprint}); accepting only self-signed certificates (--self-signed-only) refuses it. ` +
        'Leave that out to check it against the system CAs and the trusted roots (--ca FILE), or pin it (--pin FILE)',
      { code: ServerCertificateErrorCode.NotSelfSigned, mode, peerFingerprintSha256: fingerprint },
    );
  }

  if (presented.verifyError) {
    const { code, text } = describeVerifyError(presented.verifyError);
    return new ServerCertificateError(`server certificate is not trusted by the system CAs or the trusted roots: ${text}; ${untrustedHint(code)} (fingerprint ${fingerprint})`, {
      code: ServerCertificateErrorCode.Untrusted,
      mode,
      peerFingerprintSha256: fingerprint,
      verifyError: code,
    });
  }
  if (presented.host !== undefined && presented.peerCertificate) {
    const hostError = tls.checkServerIdentity(presented.host, presented.peerCertificate);
    if (hostError) {
      return new ServerCertificateError(
        `server certificate is not valid for host "${presented.host}": ${hostError.message}; ` + "connect using a name listed in the certificate's subjectAltName, or pin the certificate",
        { code: ServerCertificateErrorCode.HostMismatch, mode, peerFingerprintSha256: fingerprint },
      );
    }
  }
  return undefined;
}

/** The host name Node would check a connection's certificate against. */
function connectionHost(options: tls.ConnectionOptions): string {
  return options.servername || options.host || 'localhost';
}

/** Checks a socket after its handshake ('secureConnect') against the trust configuration. */
export function verifyServerSocket(socket: tls.TLSSocket, trust: ServerCertificateTrust | ResolvedServerTrust, host: string): ServerCertificateError | undefined {
  const peer = socket.getPeerCertificate(true);
  const raw = peer && Object.keys(peer).length > 0 ? peer.raw : undefined;
  return evaluateServerCertificate({ leafDer: raw, verifyError: socket.authorized ? null : (socket.authorizationError ?? 'CERT_UNTRUSTED'), host, peerCertificate: peer }, trust);
}

/**
 * `tls.connect` that enforces the trust configuration: if the certificate is refused, the socket is
 * destroyed with a ServerCertificateError ('error' event) right after the handshake, before any
 * buffered application data is sent, and 'secureConnect' is not emitted. `rejectUnauthorized`,
 * `checkServerIdentity` and `ca` in `options` are overridden; a `path` (set by http/ws to the URL
 * path) is ignored.
 */
export function connectWithServerTrust(options: tls.ConnectionOptions, trust: ServerCertificateTrust | ResolvedServerTrust): tls.TLSSocket {
  const resolved = resolveServerTrust(trust);
  const connectOptions: tls.ConnectionOptions = { ...options, rejectUnauthorized: false, checkServerIdentity: () => undefined };
  delete connectOptions.path;
  delete connectOptions.ca;
  if (resolved.mode === 'ca' && resolved.ca) connectOptions.ca = [...resolved.ca];
  if (connectOptions.servername === undefined && connectOptions.host !== undefined) {
    // Like ws / https: SNI with the host name, none for an IP address.
    connectOptions.servername = isIP(connectOptions.host) ? '' : connectOptions.host;
  }
  const host = connectionHost(options);
  const socket = tls.connect(connectOptions);
  // The check runs when Node emits 'secureConnect' and, on refusal, swallows that event, so no
  // listener (tls.connect's callback, http, ws) ever sees a refused socket as connected — the same
  // contract as Node's own `rejectUnauthorized` (destroy without 'secureConnect').
  let checked = false;
  const emit = socket.emit;
  socket.emit = function (this: tls.TLSSocket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'secureConnect' && !checked) {
      checked = true;
      const error = verifyServerSocket(socket, resolved, host);
      if (error) {
        socket.destroy(error);
        return false;
      }
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof socket.emit;
  return socket;
}

/**
 * Options for the `ws` WebSocket client (spread into its options) or `https.request`.
 * `createConnection` is what enforces the configuration (see the module comment); the other fields
 * only matter to a consumer that ignores `createConnection`, and then fail closed.
 */
export interface ServerTrustTlsOptions {
  readonly rejectUnauthorized: true;
  readonly ca?: string[];
  readonly checkServerIdentity: (host: string, cert: tls.PeerCertificate) => Error | undefined;
  readonly createConnection: (options: tls.ConnectionOptions) => tls.TLSSocket;
}

export function serverTrustTlsOptions(trust: ServerCertificateTrust | ResolvedServerTrust): ServerTrustTlsOptions {
  const resolved = resolveServerTrust(trust);
  const createConnection = (options: tls.ConnectionOptions): tls.TLSSocket => connectWithServerTrust(options, resolved);
  switch (resolved.mode) {
    case 'pinned':
      // Fallback: OpenSSL accepts the pinned certificate as its only trust anchor (works when it
      // is self-signed and in date); then the exact comparison.
      return {
        rejectUnauthorized: true,
        ca: [derToPem(resolved.pinnedDer!)],
        checkServerIdentity: (_host, cert) => evaluateServerCertificate({ leafDer: cert.raw }, resolved),
        createConnection,
      };
    case 'self-signed-only':
      // Fallback: an empty CA list, so OpenSSL verifies nothing and everything is refused.
      return {
        rejectUnauthorized: true,
        ca: [],
        checkServerIdentity: (_host, cert) => evaluateServerCertificate({ leafDer: cert.raw }, resolved),
        createConnection,
      };
    case 'ca':
      return {
        rejectUnauthorized: true,
        ...(resolved.ca ? { ca: [...resolved.ca] } : {}),
        checkServerIdentity: (host, cert) => evaluateServerCertificate({ leafDer: cert.raw, verifyError: null, host, peerCertificate: cert }, resolved),
        createConnection,
      };
  }
}
