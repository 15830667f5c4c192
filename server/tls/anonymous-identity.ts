/**
 * The listener's anonymous identity: when TLS is on and no identity is configured, the listener
 * uses an auto-generated self-signed certificate. It is kept in the keystore under a label derived
 * from the database UUID, so the certificate (and its fingerprint, which a peer may pin) stays the
 * same across restarts, and it is replaced when it has less than a day of validity left.
 */
import { createIdentity, NOT_BEFORE_BACKDATE_MS } from './create-identity';
import type { TLSIdentity } from './identity';
import { KeystoreError, type FileKeystore } from './keystore';
import { logger } from '../util/log';

const log = logger('tls');

export const ANONYMOUS_COMMON_NAME = 'PeerSyncAnonymousCertificate';
export const ANONYMOUS_LABEL_PREFIX = 'anonymous-';
/** A stored anonymous identity is reused only while it has at least this much validity left. */
export const ANONYMOUS_MIN_REMAINING_MS = 24 * 60 * 60 * 1000;
export const ANONYMOUS_DEFAULT_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;

export interface AnonymousIdentityOptions {
  /** The current time (tests). Default: the clock. */
  readonly now?: Date | undefined;
  /** Validity of a newly created certificate, in milliseconds from `now`. Default 1 year. */
  readonly validityMs?: number | undefined;
}

/** `anonymous-<database uuid>` (lower-cased). */
export function anonymousIdentityLabel(databaseUuid: string): string {
  const id = databaseUuid.trim().toLowerCase();
  if (id.length === 0) throw new TypeError('anonymousIdentity needs the database UUID');
  return `${ANONYMOUS_LABEL_PREFIX}${id}`;
}

/** Whether a stored identity may still be served at `now`. */
function stillUsable(identity: TLSIdentity, now: Date): boolean {
  return identity.notBefore.getTime() <= now.getTime() + NOT_BEFORE_BACKDATE_MS && identity.notAfter.getTime() - now.getTime() >= ANONYMOUS_MIN_REMAINING_MS;
}

/**
 * The stored anonymous identity of the database when it has ≥ 24 h of validity left; otherwise a
 * new self-signed server identity (CN PeerSyncAnonymousCertificate), saved before it is returned.
 * A damaged entry is replaced; an entry that cannot be decrypted (missing / wrong keystore
 * passphrase) is an error rather than being silently overwritten.
 */
export async function anonymousIdentity(keystore: FileKeystore, databaseUuid: string, options: AnonymousIdentityOptions = {}): Promise<TLSIdentity> {
  const label = anonymousIdentityLabel(databaseUuid);
  const now = options.now ?? new Date();
  const validityMs = options.validityMs ?? ANONYMOUS_DEFAULT_VALIDITY_MS;
  if (!(validityMs > 0)) throw new RangeError(`validityMs must be positive, got ${validityMs}`);

  let stored: TLSIdentity | undefined;
  try {
    stored = await keystore.get(label);
  } catch (err) {
    if (!(err instanceof KeystoreError && err.code === 'CORRUPT_ENTRY')) {
      log.error('anonymous identity could not be read', { label, error: err });
      throw err;
    }
    log.warn('anonymous identity damaged; replacing it', { label, error: err });
  }
  if (stored && stillUsable(stored, now)) {
    log.debug('anonymous identity loaded', { label, notAfter: stored.notAfter.toISOString(), fingerprint: stored.fingerprintSha256 });
    return stored;
  }
  if (stored) log.info('anonymous identity near expiry or not yet valid; renewing it', { label, notBefore: stored.notBefore.toISOString(), notAfter: stored.notAfter.toISOString() });

  const identity = await createIdentity({
    isServer: true,
    label,
    attributes: { commonName: ANONYMOUS_COMMON_NAME },
    notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS),
    expiration: new Date(now.getTime() + validityMs),
  });
  await keystore.save(identity);
  log.info(stored ? 'anonymous identity renewed' : 'anonymous identity created', { label, notAfter: identity.notAfter.toISOString(), fingerprint: identity.fingerprintSha256 });
  return identity;
}
