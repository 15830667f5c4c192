/**
 * createIdentity: a new RSA key and an X.509 v3 certificate for it, self-signed or issued by a CA
 * identity (the "createIdentity convenience API" of the tutorial's TLSWithGeneratedSelfSignedCert).
 *
 * The key pair comes from Node's native `crypto.generateKeyPair` (OpenSSL; tens of milliseconds)
 * and is handed to node-forge as PEM; forge assembles the certificate, and the RSA signature is made
 * by Node too (forge's pure-JS RSA private-key operation costs 30-100 ms; Node's about 1 ms). forge's
 * own pure-JS key generation is never used (it takes seconds for RSA-2048).
 */
import { createPrivateKey, generateKeyPair, randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { TLSIdentityError, identityFromPem, type TLSIdentity } from './identity';
import { logger } from '../util/log';

const log = logger('tls');

const generateKeyPairAsync = promisify(generateKeyPair);

export interface IdentityAttributes {
  readonly commonName: string;
  readonly organization?: string | undefined;
  readonly organizationalUnit?: string | undefined;
  /** Two-letter ISO country code. */
  readonly country?: string | undefined;
  readonly state?: string | undefined;
  readonly locality?: string | undefined;
  readonly emailAddress?: string | undefined;
}

export interface CreateIdentityOptions {
  /** Server identities get extKeyUsage serverAuth and default SANs; client identities clientAuth. */
  readonly isServer: boolean;
  readonly attributes: IdentityAttributes;
  readonly label: string;
  /** notAfter. Default: notBefore's reference time ("now") + 365 days. */
  readonly expiration?: Date | undefined;
  /** notBefore. Default: now − 60 s (tolerates small clock differences between peers). */
  readonly notBefore?: Date | undefined;
  /** Sign with this CA identity (RSA key, basicConstraints cA) instead of self-signing. */
  readonly issuer?: TLSIdentity | undefined;
  /** Make a CA certificate (basicConstraints cA=true, keyCertSign + cRLSign). For test/private CAs. */
  readonly isCA?: boolean | undefined;
  /**
   * DNS names and IP addresses for the subjectAltName extension. Replaces the default, which is,
   * for a server identity, localhost, 127.0.0.1 and ::1 plus the common name when it is an IP
   * address or a dotted host name; for a client identity, none.
   */
  readonly subjectAltNames?: readonly string[] | undefined;
  /** RSA modulus size. Default 2048. */
  readonly keyBits?: 2048 | 3072 | 4096 | undefined;
}

export const DEFAULT_IDENTITY_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;
export const DEFAULT_SERVER_ALT_NAMES: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);
/** How far notBefore is backdated by default. */
export const NOT_BEFORE_BACKDATE_MS = 60 * 1000;

const HOST_NAME_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+\.?$/i;

/** An IP address, or a dotted DNS name ("sync.example.com"); single words like "PeerSync" are not hosts. */
export function looksLikeHost(name: string): boolean {
  return isIP(name) !== 0 || HOST_NAME_RE.test(name);
}

/** The subjectAltName entries a new identity gets when none are given. */
export function defaultSubjectAltNames(isServer: boolean, commonName: string): string[] {
  if (!isServer) return [];
  const names = [...DEFAULT_SERVER_ALT_NAMES];
  if (looksLikeHost(commonName) && !names.includes(commonName)) names.push(commonName);
  return names;
}

/** A random positive 128-bit serial with a non-zero, non-negative first byte (minimal DER INTEGER). */
function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function subjectAttributes(attrs: IdentityAttributes): forge.pki.CertificateField[] {
  const commonName = attrs.commonName.trim();
  if (commonName.length === 0) throw new TLSIdentityError('attributes.commonName is required');
  if (attrs.country !== undefined && !/^[A-Za-z]{2}$/.test(attrs.country)) {
    throw new TLSIdentityError(`attributes.country must be a two-letter country code, got "${attrs.country}"`);
  }
  const out: forge.pki.CertificateField[] = [];
  const add = (name: string, value: string | undefined): void => {
    // forge UTF-8-encodes values tagged UTF8String itself.
    if (value !== undefined && value !== '') out.push({ name, value, valueTagClass: forge.asn1.Type.UTF8 as never });
  };
  // Country must be a PrintableString (RFC 5280); forge picks that itself when no tag class is given.
  if (attrs.country !== undefined) out.push({ name: 'countryName', value: attrs.country.toUpperCase() });
  add('stateOrProvinceName', attrs.state);
  add('localityName', attrs.locality);
  add('organizationName', attrs.organization);
  add('organizationalUnitName', attrs.organizationalUnit);
  add('commonName', commonName);
  // emailAddress is an IA5String (forge's default, PrintableString, cannot hold '@').
  if (attrs.emailAddress !== undefined && attrs.emailAddress !== '') {
    if (!/^[\x20-\x7e]+$/.test(attrs.emailAddress)) throw new TLSIdentityError('attributes.emailAddress must be ASCII');
    out.push({ name: 'emailAddress', value: attrs.emailAddress, valueTagClass: forge.asn1.Type.IA5STRING as never });
  }
  return out;
}

function altNameEntries(names: readonly string[]): Array<{ type: number; value?: string; ip?: string }> {
  return names.map((name) => {
    if (isIP(name) !== 0) return { type: 7, ip: name };
    if (name.length === 0 || /\s/.test(name)) throw new TLSIdentityError(`invalid subjectAltName "${name}"`);
    return { type: 2, value: name };
  });
}

function issuerSubjectKeyId(issuerCert: forge.pki.Certificate): string {
  const ext = issuerCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  if (ext?.subjectKeyIdentifier) return forge.util.hexToBytes(ext.subjectKeyIdentifier);
  return issuerCert.generateSubjectKeyIdentifier().getBytes();
}

/**
 * The issuer's subject attributes, ready for setIssuer: forge keeps parsed UTF8String values as raw
 * UTF-8 bytes but UTF-8-encodes them again when writing, so they are decoded first.
 */
function issuerNameAttributes(issuerCert: forge.pki.Certificate): forge.pki.CertificateField[] {
  return issuerCert.subject.attributes.map((attr) => {
    const tag = (attr as { valueTagClass?: number }).valueTagClass;
    if (tag === forge.asn1.Type.UTF8 && typeof attr.value === 'string') return { ...attr, value: forge.util.decodeUtf8(attr.value) };
    return attr;
  });
}

/**
 * Signs a forge certificate with SHA-256/RSA using a Node key. forge's `cert.sign(key, md)` only
 * needs `md.algorithm` (for the signature OID), `md.update(tbsDer)` and `key.sign(md)`; this feeds it
 * a digest stand-in that records the TBS bytes and a key whose sign() hands them to Node.
 */
function signCertificate(cert: forge.pki.Certificate, key: KeyObject): void {
  const chunks: string[] = [];
  const recorder = {
    algorithm: 'sha256',
    update(bytes: string) {
      chunks.push(bytes);
      return recorder;
    },
  };
  const signer = { sign: () => nodeSign('sha256', Buffer.from(chunks.join(''), 'binary'), key).toString('binary') };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, recorder as unknown as forge.md.MessageDigest);
}

function loadIssuer(issuer: TLSIdentity): { cert: forge.pki.Certificate; key: KeyObject } {
  if (!issuer.isCA) {
    throw new TLSIdentityError(`issuer "${issuer.label}" is not a CA certificate (basicConstraints cA is not set); create it with isCA: true`);
  }
  try {
    const key = createPrivateKey(issuer.privateKeyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`the key is ${key.asymmetricKeyType ?? 'of an unknown type'}`);
    const cert = forge.pki.certificateFromPem(issuer.certificatePem);
    return { cert, key };
  } catch (err) {
    throw new TLSIdentityError(`issuer "${issuer.label}" cannot sign certificates here (only RSA CA keys are supported): ${(err as Error).message}`);
  }
}

/** Creates a new key pair and certificate. Resolves to an identity whose chain is [leaf, ...issuer chain]. */
export async function createIdentity(options: CreateIdentityOptions): Promise<TLSIdentity> {
  if (options.label.length === 0) throw new TLSIdentityError('an identity label must not be empty');
  const subject = subjectAttributes(options.attributes);
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - NOT_BEFORE_BACKDATE_MS);
  const notAfter = options.expiration ?? new Date(now + DEFAULT_IDENTITY_VALIDITY_MS);
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw new TLSIdentityError(`expiration (${notAfter.toISOString()}) must be after notBefore (${notBefore.toISOString()})`);
  }
  const isCA = options.isCA === true;
  const signer = options.issuer ? loadIssuer(options.issuer) : undefined;

  const { publicKey: publicKeyPem, privateKey: privateKeyPem } = await generateKeyPairAsync('rsa', {
    modulusLength: options.keyBits ?? 2048,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject);
  cert.setIssuer(signer ? issuerNameAttributes(signer.cert) : subject);

  const altNames = options.subjectAltNames ?? defaultSubjectAltNames(options.isServer, options.attributes.commonName.trim());
  const extensions: object[] = [
    { name: 'basicConstraints', cA: isCA, critical: true },
    {
      name: 'keyUsage',
      critical: true,
      digitalSignature: true,
      keyEncipherment: true,
      ...(isCA ? { keyCertSign: true, cRLSign: true } : {}),
    },
  ];
  // A CA gets no extKeyUsage: OpenSSL applies a CA's EKU to everything it issues.
  if (!isCA) extensions.push(options.isServer ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true });
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames: altNameEntries(altNames) });
  extensions.push({ name: 'subjectKeyIdentifier' });
  if (signer) extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerSubjectKeyId(signer.cert) });
  cert.setExtensions(extensions);

  signCertificate(cert, signer ? signer.key : createPrivateKey(privateKeyPem));

  const leafPem = forge.pki.certificateToPem(cert);
  const chain = [leafPem, ...(options.issuer ? options.issuer.certificateChainPem : [])];
  const identity = identityFromPem(options.label, privateKeyPem, chain);
  log.info('identity created', {
    label: identity.label,
    commonName: options.attributes.commonName,
    server: options.isServer,
    ca: isCA,
    issuer: options.issuer?.label ?? 'self',
    notAfter: identity.notAfter.toISOString(),
    fingerprint: identity.fingerprintSha256,
  });
  return identity;
}
