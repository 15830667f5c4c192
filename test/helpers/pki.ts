import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate with its private key. */
export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  /**
   * The key as PKCS#1 DER, for cblite's --key: it hands the file to mbedTLS without the NUL that
   * mbedTLS needs to recognise PEM, so a PEM key fails with "PK - Invalid key tag or value".
   */
  readonly keyDer: Buffer;
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
}

export interface IssueOptions {
  commonName: string;
  /** The signer; self-signed when absent. */
  issuer?: Issued;
  /** Put this name in the issuer field instead of the signer's subject (to forge a chain). */
  claimedIssuerName?: forge.pki.CertificateField[];
  ca?: boolean;
  clientAuth?: boolean;
  /** extendedKeyUsage serverAuth (alone, unless clientAuth is set too). */
  serverAuth?: boolean;
  /** Leave out the keyUsage extension (default: present). */
  noKeyUsage?: boolean;
  notBefore?: Date;
  notAfter?: Date;
}

function newKey(): { keyPem: string; keyDer: Buffer; key: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  // Node's native key generation: forge's pure-JS RSA-2048 generation takes seconds.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    keyPem,
    keyDer: privateKey.export({ type: 'pkcs1', format: 'der' }),
    key: forge.pki.privateKeyFromPem(keyPem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
  };
}

/** Issues a test certificate: enough of X.509 to exercise a listener's client-certificate checks. */
export function issue(options: IssueOptions): Issued {
  const { keyPem, keyDer, key, publicKey } = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 24 * 3600_000);
  const subject: forge.pki.CertificateField[] = [
    { name: 'commonName', value: options.commonName },
    { name: 'organizationName', value: 'PeerSync interop' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(options.claimedIssuerName ?? options.issuer?.cert.subject.attributes ?? subject);
  const ca = options.ca === true;
  cert.setExtensions([
    { name: 'basicConstraints', cA: ca, critical: true },
    ...(options.noKeyUsage ? [] : [{ name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true, ...(ca ? { keyCertSign: true, cRLSign: true } : {}) }]),
    ...(options.clientAuth || options.serverAuth ? [{ name: 'extKeyUsage', ...(options.clientAuth ? { clientAuth: true } : {}), ...(options.serverAuth ? { serverAuth: true } : {}) }] : []),
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(options.issuer?.key ?? key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, keyDer, cert, key };
}
