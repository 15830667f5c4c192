import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as P from '../rpc/protocol';
import {
  ANONYMOUS_LABEL_PREFIX,
  FileKeystore,
  KeystoreError,
  TLSIdentityError,
  createIdentity,
  exportCertificateDer,
  exportCertificatePem,
  exportIdentityPkcs12,
  importIdentity,
  safeLabelFileName,
  type TLSIdentity,
} from '../tls';
import { AppError, invalid, notFound } from './app-error';
import { certificateInfo } from './dto';

export interface CreateIdentityOptions {
  readonly label: string;
  readonly commonName?: string | undefined;
  readonly organization?: string | undefined;
  readonly isServer: boolean;
  readonly validityDays?: number | undefined;
  readonly replace?: boolean | undefined;
}

/**
 * TLS identities in a database's keystore (`<db>/keystore`), where its listener's anonymous
 * identity lives too. Works on a database directory, open or not: the keystore has its own files.
 */
export class IdentityService {
  keystore(dbPath: string): FileKeystore {
    return new FileKeystore(join(dbPath, 'keystore'));
  }

  async create(dbPath: string, o: CreateIdentityOptions): Promise<P.CertificateInfo & { label: string }> {
    const label = checkLabel(o.label);
    const days = o.validityDays ?? 365;
    if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 36_500) throw invalid('the validity must be a number of days from 1 to 36500');
    const keystore = this.keystore(dbPath);
    const fileName = tls(() => safeLabelFileName(label));
    if (o.replace !== true && existsSync(join(keystore.dir, fileName))) throw new AppError('EXISTS', `the keystore ${keystore.dir} already has an identity labelled ${JSON.stringify(label)}`);
    const cn = typeof o.commonName === 'string' && o.commonName.trim() ? o.commonName.trim() : label;
    const identity = await tlsAsync(() =>
      createIdentity({
        isServer: o.isServer,
        label,
        attributes: { commonName: cn, ...(o.organization ? { organization: o.organization } : {}) },
        expiration: new Date(Date.now() + days * 86_400_000),
      }),
    );
    await tlsAsync(() => keystore.save(identity));
    return { ...certificateInfo(identity), label };
  }

  /** Imports a PKCS#12 file's key and certificate chain under `label`. */
  async importPkcs12(dbPath: string, bytes: Uint8Array, password: string, label: string): Promise<P.CertificateInfo & { label: string }> {
    const checked = checkLabel(label);
    const identity = tls(() => importIdentity(bytes, password, checked));
    await tlsAsync(() => this.keystore(dbPath).save(identity));
    return { ...certificateInfo(identity), label: checked };
  }

  async require(dbPath: string, label: string): Promise<TLSIdentity> {
    const identity = await tlsAsync(() => this.keystore(dbPath).get(label));
    if (!identity) throw notFound(`no identity labelled ${JSON.stringify(label)} in ${join(dbPath, 'keystore')} (see peersync identity ls)`);
    return identity;
  }

  /** The certificate (PEM or DER), or the whole identity as PKCS#12 protected by `password`. */
  async export(dbPath: string, label: string, format: 'pem' | 'der' | { pkcs12Password: string }): Promise<Buffer> {
    const identity = await this.require(dbPath, label);
    if (format === 'pem') return Buffer.from(exportCertificatePem(identity));
    if (format === 'der') return exportCertificateDer(identity);
    return tls(() => exportIdentityPkcs12(identity, format.pkcs12Password));
  }

  async list(dbPath: string): Promise<P.IdentityInfo[]> {
    const entries = await tlsAsync(() => this.keystore(dbPath).list());
    return entries.map((e) => ({
      label: e.label,
      commonName: e.commonName,
      notAfter: e.notAfter.toISOString(),
      fingerprintSha256: e.fingerprintSha256,
      encrypted: e.encrypted,
      anonymous: e.label.startsWith(ANONYMOUS_LABEL_PREFIX),
    }));
  }

  async remove(dbPath: string, label: string): Promise<void> {
    if (!(await tlsAsync(() => this.keystore(dbPath).delete(label)))) throw notFound(`no identity labelled ${JSON.stringify(label)}`);
  }
}

function checkLabel(raw: unknown): string {
  const label = typeof raw === 'string' ? raw.trim() : '';
  if (label.length === 0) throw invalid('an identity label must not be empty');
  if (label.startsWith(ANONYMOUS_LABEL_PREFIX)) throw invalid(`labels starting with "${ANONYMOUS_LABEL_PREFIX}" are reserved for listeners' anonymous identities`);
  return label;
}

/** Unusable key or certificate material and keystore problems are the caller's to fix. */
function asAppError(e: unknown): unknown {
  return e instanceof KeystoreError || e instanceof TLSIdentityError ? invalid(e.message) : e;
}

function tls<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asAppError(e);
  }
}

async function tlsAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asAppError(e);
  }
}
