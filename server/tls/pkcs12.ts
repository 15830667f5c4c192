/**
 * PKCS#12 (.p12 / .pfx) import and export, e.g. the tutorial's `listener-cert-pkey.p12`
 * (TLSWithBundledCert mode). node-forge does the parsing, so only RSA keys are supported.
 */
import { createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { TLSIdentityError, identityFromPem, type TLSIdentity } from './identity';

export type Pkcs12ErrorCode = 'NOT_PKCS12' | 'WRONG_PASSWORD' | 'NO_PRIVATE_KEY' | 'NO_CERTIFICATE' | 'UNSUPPORTED' | 'KEY_MISMATCH';

export class Pkcs12Error extends Error {
  override readonly name = 'Pkcs12Error';
  constructor(
    message: string,
    readonly code: Pkcs12ErrorCode,
  ) {
    super(message);
  }
}

export interface ExportPkcs12Options {
  /**
   * Encryption of the key and certificate bags. 'aes256' (default: PBES2, AES-256-CBC, PBKDF2) is
   * read by OpenSSL 3 and current platforms; '3des' for old readers.
   */
  readonly algorithm?: 'aes256' | '3des' | undefined;
}

type Bag = forge.pkcs12.Bag;

function bagsOfType(p12: forge.pkcs12.Pkcs12Pfx, bagType: string): Bag[] {
  return p12.getBags({ bagType })[bagType] ?? [];
}

/**
 * Reads a PKCS#12 archive protected by `password` into an identity named `label`. The certificate
 * matching the private key becomes the leaf; the other certificates follow as its chain.
 */
export function importIdentity(pkcs12Bytes: Uint8Array, password: string, label: string): TLSIdentity {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(pkcs12Bytes).toString('binary')));
  } catch (err) {
    throw new Pkcs12Error(`not a PKCS#12 file (DER expected): ${(err as Error).message}`, 'NOT_PKCS12');
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (err) {
    const message = (err as Error).message;
    if (/password|MAC could not be verified|decrypt/i.test(message)) {
      throw new Pkcs12Error(`cannot open the PKCS#12 file: wrong password (${message})`, 'WRONG_PASSWORD');
    }
    if (/unsupported|not supported|OID/i.test(message)) {
      throw new Pkcs12Error(`cannot read the PKCS#12 file: ${message} (only RSA keys and common PBE algorithms are supported)`, 'UNSUPPORTED');
    }
    throw new Pkcs12Error(`cannot read the PKCS#12 file: ${message}`, 'NOT_PKCS12');
  }

  const keyBags = [...bagsOfType(p12, forge.pki.oids.pkcs8ShroudedKeyBag!), ...bagsOfType(p12, forge.pki.oids.keyBag!)];
  if (keyBags.length === 0) throw new Pkcs12Error('the PKCS#12 file contains no private key', 'NO_PRIVATE_KEY');
  const keyBag = keyBags.find((b) => b.key);
  if (!keyBag?.key) {
    throw new Pkcs12Error('the private key in the PKCS#12 file could not be read (wrong password, or not an RSA key)', 'UNSUPPORTED');
  }

  const certBags = bagsOfType(p12, forge.pki.oids.certBag!);
  const certPems: string[] = [];
  for (const bag of certBags) {
    if (bag.cert) certPems.push(forge.pki.certificateToPem(bag.cert));
    else if (bag.asn1) certPems.push(forge.pem.encode({ type: 'CERTIFICATE', body: forge.asn1.toDer(bag.asn1).getBytes() }));
  }
  if (certPems.length === 0) throw new Pkcs12Error('the PKCS#12 file contains no certificate', 'NO_CERTIFICATE');

  const keyPem = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key)).export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    return identityFromPem(label, keyPem, certPems);
  } catch (err) {
    if (err instanceof TLSIdentityError) {
      throw new Pkcs12Error(`the PKCS#12 file is unusable as a TLS identity: ${err.message}`, /matches the private key/.test(err.message) ? 'KEY_MISMATCH' : 'UNSUPPORTED');
    }
    throw err;
  }
}

/** The identity (key + whole chain, friendly name = label) as a password-protected PKCS#12 archive. */
export function exportIdentityPkcs12(identity: TLSIdentity, password: string, options: ExportPkcs12Options = {}): Buffer {
  let key: forge.pki.rsa.PrivateKey;
  let certs: forge.pki.Certificate[];
  try {
    key = forge.pki.privateKeyFromPem(identity.privateKeyPem);
    certs = identity.certificateChainPem.map((pem) => forge.pki.certificateFromPem(pem));
  } catch (err) {
    throw new Pkcs12Error(`cannot export identity "${identity.label}" as PKCS#12 (only RSA identities are supported): ${(err as Error).message}`, 'UNSUPPORTED');
  }
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, {
    algorithm: options.algorithm ?? 'aes256',
    friendlyName: identity.label,
    generateLocalKeyId: true,
  });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
