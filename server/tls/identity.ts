/**
 * TLSIdentity: a private key plus its certificate chain, as used by the listener (server
 * identity) and by client-certificate authentication.
 *
 * Conventions (kept the same everywhere in server/tls):
 *  - `privateKeyPem` is an unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"), whatever the source format.
 *  - `certificateChainPem` is leaf first, then the certificates that issued it (intermediates, and
 *    the root when known). `certificatePem`/`certificateDer` are the leaf.
 *  - `fingerprintSha256` is the SHA-256 of the leaf's DER, written like OpenSSL and Node's
 *    `X509Certificate.fingerprint256` / `getPeerCertificate().fingerprint256`: uppercase hex pairs
 *    separated by colons ("AB:CD:…", 95 characters). So it can be compared directly with what Node
 *    reports for a peer.
 *
 * Parsing uses Node's X509Certificate plus node-forge's ASN.1 reader for names and dates only, so
 * any key type Node supports (RSA, EC, Ed25519) can be loaded here; generating certificates and
 * PKCS#12 handling (node-forge) are RSA-only.
 */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** The naming attributes of a certificate subject or issuer (only the common ones are mapped). */
export interface DistinguishedName {
  readonly commonName?: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
  readonly country?: string;
  readonly state?: string;
  readonly locality?: string;
  readonly emailAddress?: string;
}

export interface TLSIdentity {
  /** The name the identity is stored under (keystore file, PKCS#12 friendly name). */
  readonly label: string;
  /** Unencrypted PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** Leaf first, then its issuers. */
  readonly certificateChainPem: readonly string[];
  /** The leaf certificate, PEM. */
  readonly certificatePem: string;
  /** The leaf certificate, DER. */
  readonly certificateDer: Buffer;
  /** SHA-256 of the leaf DER, uppercase colon-separated hex ("AB:CD:…"), as OpenSSL/Node print it. */
  readonly fingerprintSha256: string;
  /** Serial number, uppercase hex as Node prints it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  /** Subject alternative names as printed by Node, e.g. ["DNS:localhost", "IP Address:127.0.0.1"]. */
  readonly subjectAltNames: readonly string[];
  /** Issuer name equals subject name and the signature verifies with the certificate's own key. */
  readonly isSelfSigned: boolean;
  /** basicConstraints cA=true. */
  readonly isCA: boolean;
}

/** Raised for unusable key/certificate material (bad PEM, key not matching the certificate…). */
export class TLSIdentityError extends Error {
  override readonly name = 'TLSIdentityError';
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, normalised (one per entry, trailing newline). */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(PEM_CERT_RE) ?? []).map((block) => derToPem(pemToDer(block)));
}

/** The DER bytes of the first certificate in a PEM string. */
export function pemToDer(pem: string): Buffer {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match?.[1]) throw new TLSIdentityError('no "BEGIN CERTIFICATE" block found in the PEM text');
  const der = Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
  if (der.length === 0) throw new TLSIdentityError('empty certificate in the PEM text');
  return der;
}

/** A DER certificate as PEM (64-character lines, trailing newline). */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Accepts a certificate as PEM text or as DER bytes (also PEM text held in bytes) and returns DER. */
export function certificateDer(cert: string | Uint8Array): Buffer {
  if (typeof cert === 'string') return pemToDer(cert);
  const asText = Buffer.from(cert.subarray(0, 40)).toString('latin1');
  if (asText.includes('-----BEGIN')) return pemToDer(Buffer.from(cert).toString('utf8'));
  return Buffer.from(cert);
}

/** SHA-256 fingerprint of DER bytes in the identity's format (uppercase, colon-separated). */
export function fingerprintSha256(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** The leaf certificate of an identity as PEM. */
export function exportCertificatePem(identity: TLSIdentity): string {
  return identity.certificatePem;
}

/** The leaf certificate of an identity as DER (e.g. to write a `listener-pinned-cert.cer`). */
export function exportCertificateDer(identity: TLSIdentity): Buffer {
  return Buffer.from(identity.certificateDer);
}

/** Options for Node's `tls.createServer` / `https.createServer` (or `tls.connect` for client certs). */
export interface IdentityTlsOptions {
  readonly key: string;
  /** The chain, leaf first, as one PEM bundle. */
  readonly cert: string;
  readonly minVersion: 'TLSv1.2';
}

/** `{ key, cert, minVersion: 'TLSv1.2' }` for a Node TLS server (TLS 1.2 is the protocol's minimum). */
export function identityTlsOptions(identity: TLSIdentity): IdentityTlsOptions {
  return { key: identity.privateKeyPem, cert: identity.certificateChainPem.join(''), minVersion: 'TLSv1.2' };
}

/** Whether the identity is currently usable: notBefore ≤ now ≤ notAfter. */
export function isIdentityValidAt(identity: TLSIdentity, now: Date = new Date()): boolean {
  return identity.notBefore.getTime() <= now.getTime() && now.getTime() <= identity.notAfter.getTime();
}

// ---------------------------------------------------------------------------------------------
// Parsing

const NAME_OIDS: Readonly<Record<string, keyof DistinguishedName>> = {
  '2.5.4.3': 'commonName',
  '2.5.4.10': 'organization',
  '2.5.4.11': 'organizationalUnit',
  '2.5.4.6': 'country',
  '2.5.4.8': 'state',
  '2.5.4.7': 'locality',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function decodeAsn1String(node: forge.asn1.Asn1): string {
  const bytes = Buffer.from(node.value as string, 'binary');
  if (node.type === forge.asn1.Type.UTF8) return bytes.toString('utf8');
  if (node.type === forge.asn1.Type.BMPSTRING) return bytes.swap16().toString('utf16le');
  return bytes.toString('latin1');
}

/** Name ::= SEQUENCE OF SET OF { type OID, value }; the first value of each mapped type wins. */
function nameFromAsn1(name: forge.asn1.Asn1): DistinguishedName {
  const out: Partial<Record<keyof DistinguishedName, string>> = {};
  for (const rdn of name.value as forge.asn1.Asn1[]) {
    for (const attr of rdn.value as forge.asn1.Asn1[]) {
      const [oidNode, valueNode] = attr.value as forge.asn1.Asn1[];
      if (!oidNode || !valueNode) continue;
      const key = NAME_OIDS[forge.asn1.derToOid(oidNode.value as string)];
      if (key && out[key] === undefined) out[key] = decodeAsn1String(valueNode);
    }
  }
  return out;
}

function asn1Time(node: forge.asn1.Asn1): Date {
  const text = node.value as string;
  return node.type === forge.asn1.Type.UTCTIME ? forge.asn1.utcTimeToDate(text) : forge.asn1.generalizedTimeToDate(text);
}

export interface CertificateFields {
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whether the issuer Name is byte-for-byte the subject Name. */
  readonly issuerIsSubject: boolean;
}

/** Subject, issuer and validity read from the DER (independent of the key algorithm). */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  try {
    const root = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary')));
    const tbs = (root.value as forge.asn1.Asn1[])[0]!;
    const fields = tbs.value as forge.asn1.Asn1[];
    // TBSCertificate: [0] version (optional, explicit tag), serial, signature alg, issuer, validity, subject, …
    const start = fields[0]!.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
    const issuer = fields[start + 2]!;
    const validity = fields[start + 3]!.value as forge.asn1.Asn1[];
    const subject = fields[start + 4]!;
    return {
      subject: nameFromAsn1(subject),
      issuer: nameFromAsn1(issuer),
      notBefore: asn1Time(validity[0]!),
      notAfter: asn1Time(validity[1]!),
      issuerIsSubject: forge.asn1.toDer(issuer).getBytes() === forge.asn1.toDer(subject).getBytes(),
    };
  } catch (err) {
    throw new TLSIdentityError(`cannot read the certificate structure: ${(err as Error).message}`);
  }
}

function parseCertificate(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new TLSIdentityError(`not a valid X.509 certificate: ${(err as Error).message}`);
  }
}

/**
 * Issuer name equals subject name and the signature verifies with the certificate's own public key.
 * (Not `cert.checkIssued(cert)`: OpenSSL's issuer check also demands keyCertSign, which self-signed
 * server certificates usually lack.)
 */
export function isSelfSignedCertificate(cert: X509Certificate): boolean {
  try {
    const sameName = cert.issuer === cert.subject || readCertificateFields(cert.raw).issuerIsSubject;
    return sameName && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new TLSIdentityError(`cannot read the private key: ${(err as Error).message}`);
  }
}

/** Orders certificates leaf first: the leaf is the one matching the key, then each certificate's issuer. */
function orderChain(key: KeyObject, certs: X509Certificate[]): X509Certificate[] {
  const leafIndex = certs.findIndex((c) => c.checkPrivateKey(key));
  if (leafIndex < 0) throw new TLSIdentityError('none of the certificates matches the private key');
  const rest = certs.filter((_, i) => i !== leafIndex);
  const chain = [certs[leafIndex]!];
  for (;;) {
    const current = chain[chain.length - 1]!;
    if (isSelfSignedCertificate(current)) break;
    const next = rest.findIndex((c) => current.checkIssued(c));
    if (next < 0) break;
    chain.push(rest.splice(next, 1)[0]!);
  }
  // Certificates not on the leaf's issuer path are kept, after it, in their original order.
  return [...chain, ...rest];
}

/**
 * Builds an identity from a private key (PEM: PKCS#8, PKCS#1 or SEC1, unencrypted) and certificates
 * (PEM strings, each may be a bundle). The certificate matching the key becomes the leaf.
 */
export function identityFromPem(label: string, privateKeyPem: string, certificatesPem: string | readonly string[]): TLSIdentity {
  if (label.length === 0) throw new TLSIdentityError('an identity label must not be empty');
  const key = parsePrivateKey(privateKeyPem);
  if (key.type !== 'private') throw new TLSIdentityError('the key is not a private key');
  const pems = (typeof certificatesPem === 'string' ? [certificatesPem] : [...certificatesPem]).flatMap(splitPemCertificates);
  if (pems.length === 0) throw new TLSIdentityError('no certificate given for the identity');
  const ordered = orderChain(
    key,
    pems.map((p) => parseCertificate(pemToDer(p))),
  );
  const leaf = ordered[0]!;
  const der = Buffer.from(leaf.raw);
  const fields = readCertificateFields(der);
  const identity: TLSIdentity = {
    label,
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    certificateChainPem: Object.freeze(ordered.map((c) => derToPem(c.raw))),
    certificatePem: derToPem(der),
    certificateDer: der,
    fingerprintSha256: fingerprintSha256(der),
    serialNumber: leaf.serialNumber.toUpperCase(),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    subject: Object.freeze(fields.subject),
    issuer: Object.freeze(fields.issuer),
    subjectAltNames: Object.freeze(leaf.subjectAltName ? leaf.subjectAltName.split(/,\s*/) : []),
    isSelfSigned: isSelfSignedCertificate(leaf),
    isCA: leaf.ca,
  };
  return Object.freeze(identity);
}

/** The same identity under another label. */
export function relabelIdentity(identity: TLSIdentity, label: string): TLSIdentity {
  if (label.length === 0) throw new TLSIdentityError('an identity label must not be empty');
  return Object.freeze({ ...identity, label });
}
