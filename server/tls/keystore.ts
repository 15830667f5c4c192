/**
 * FileKeystore: TLS identities on disk for the server / CLI (the counterpart of the platform
 * Keychain / KeyStore of the original).
 *
 * Layout: one JSON file per label in a private folder (e.g. `<database dir>/keystore/`):
 *
 *   <dir>/                      mode 0700
 *     <safe label>.json         mode 0600, written atomically (temp file + rename)
 *
 * `<safe label>` keeps a-z, 0-9, '-' and '_' and writes every other byte of the UTF-8 label as
 * `%XX` (so it is reversible, and labels differing only in case do not collide on
 * case-insensitive file systems). The file holds `{ version, label, certificateChainPem, privateKey,
 * savedAt }`.
 *
 * Private-key protection:
 *  - With a passphrase (option `passphrase`, else the PEERSYNC_KEYSTORE_PASSPHRASE environment
 *    variable) the PKCS#8 key is encrypted with AES-256-GCM under a key derived by
 *    scrypt(passphrase, 16-byte random salt per file; N=2^15, r=8, p=1). The label is bound in as
 *    additional authenticated data, so an entry cannot be swapped under another label. Opening it
 *    with no or the wrong passphrase fails with a KeystoreError (PASSPHRASE_REQUIRED / WRONG_PASSPHRASE).
 *  - Without a passphrase the key is stored as plaintext PEM, protected only by the file (0600)
 *    and folder (0700) permissions — which Windows does not apply.
 * Entries written without a passphrase can still be read when one is set (they stay plaintext until
 * saved again). Certificates are public and are never encrypted, so `list()` needs no passphrase.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { TLSIdentityError, identityFromPem, readCertificateFields, fingerprintSha256, pemToDer, type TLSIdentity } from './identity';
import { logger } from '../util/log';

const log = logger('tls');

export const KEYSTORE_PASSPHRASE_ENV = 'PEERSYNC_KEYSTORE_PASSPHRASE';
const FILE_VERSION = 1;
const SCRYPT_PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 64 * 1024 * 1024;
/** Longest encoded label, so `<safe label>.json` and its temp name stay under common 255-byte limits. */
const MAX_SAFE_LABEL_LENGTH = 200;

export type KeystoreErrorCode = 'INVALID_LABEL' | 'PASSPHRASE_REQUIRED' | 'WRONG_PASSPHRASE' | 'CORRUPT_ENTRY';

export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
  constructor(
    message: string,
    readonly code: KeystoreErrorCode,
    readonly label?: string,
  ) {
    super(message);
  }
}

export interface FileKeystoreOptions {
  /**
   * Encrypts private keys at rest. undefined (default): use PEERSYNC_KEYSTORE_PASSPHRASE when set.
   * null: no passphrase, whatever the environment says. The empty string counts as no passphrase.
   */
  readonly passphrase?: string | null | undefined;
}

/** What `list()` reports per entry (read without decrypting anything). */
export interface KeystoreEntryInfo {
  readonly label: string;
  readonly commonName: string | undefined;
  readonly notAfter: Date;
  readonly fingerprintSha256: string;
  /** Whether the private key is encrypted with a passphrase. */
  readonly encrypted: boolean;
  readonly fileName: string;
}

interface EncryptedKey {
  readonly format: 'aes-256-gcm';
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}
interface PlainKey {
  readonly format: 'pem';
  readonly pem: string;
}
interface KeystoreFile {
  readonly version: number;
  readonly label: string;
  readonly certificateChainPem: readonly string[];
  readonly privateKey: PlainKey | EncryptedKey;
  readonly savedAt: string;
}

/** `<safe label>` for a label: reversible, lower-case-only file name (see the module comment). */
export function safeLabelFileName(label: string): string {
  if (typeof label !== 'string' || label.length === 0) throw new KeystoreError('a keystore label must not be empty', 'INVALID_LABEL');
  let out = '';
  for (const byte of Buffer.from(label, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9_-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length > MAX_SAFE_LABEL_LENGTH) throw new KeystoreError(`keystore label is too long: "${label.slice(0, 40)}…"`, 'INVALID_LABEL', label);
  return `${out}.json`;
}

function scryptKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: SCRYPT_MAXMEM };
  return new Promise((resolve, reject) => scrypt(passphrase, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

async function encryptKey(pem: string, passphrase: string, label: string): Promise<EncryptedKey> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await scryptKey(passphrase, salt, SCRYPT_PARAMS);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(label, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return {
    format: 'aes-256-gcm',
    kdf: 'scrypt',
    ...SCRYPT_PARAMS,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

async function decryptKey(entry: EncryptedKey, passphrase: string, label: string): Promise<string> {
  const key = await scryptKey(passphrase, Buffer.from(entry.salt, 'base64'), { N: entry.N, r: entry.r, p: entry.p });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(entry.iv, 'base64'));
  decipher.setAAD(Buffer.from(label, 'utf8'));
  decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(entry.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new KeystoreError(
      `cannot decrypt the private key of keystore entry "${label}": wrong passphrase (or the file was modified); use the passphrase it was saved with (${KEYSTORE_PASSPHRASE_ENV})`,
      'WRONG_PASSPHRASE',
      label,
    );
  }
}

function isEncryptedKey(k: unknown): k is EncryptedKey {
  const e = k as EncryptedKey;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.format === 'aes-256-gcm' &&
    e.kdf === 'scrypt' &&
    [e.N, e.r, e.p].every((n) => Number.isInteger(n) && n > 0) &&
    [e.salt, e.iv, e.tag, e.ciphertext].every((s) => typeof s === 'string')
  );
}

function isPlainKey(k: unknown): k is PlainKey {
  const e = k as PlainKey;
  return typeof e === 'object' && e !== null && e.format === 'pem' && typeof e.pem === 'string';
}

function parseEntry(text: string, fileName: string): KeystoreFile {
  let data: KeystoreFile;
  try {
    data = JSON.parse(text) as KeystoreFile;
  } catch (err) {
    throw new KeystoreError(`keystore file ${fileName} is not valid JSON: ${(err as Error).message}`, 'CORRUPT_ENTRY');
  }
  const ok =
    typeof data === 'object' &&
    data !== null &&
    data.version === FILE_VERSION &&
    typeof data.label === 'string' &&
    Array.isArray(data.certificateChainPem) &&
    data.certificateChainPem.length > 0 &&
    data.certificateChainPem.every((c) => typeof c === 'string') &&
    (isPlainKey(data.privateKey) || isEncryptedKey(data.privateKey));
  if (!ok) throw new KeystoreError(`keystore file ${fileName} is not a PeerSync keystore entry (version ${FILE_VERSION})`, 'CORRUPT_ENTRY');
  return data;
}

export class FileKeystore {
  readonly dir: string;
  readonly #passphrase: string | undefined;

  constructor(dir: string, options: FileKeystoreOptions = {}) {
    this.dir = dir;
    const fromOption = options.passphrase === undefined ? process.env[KEYSTORE_PASSPHRASE_ENV] : options.passphrase;
    this.#passphrase = fromOption === null || fromOption === undefined || fromOption === '' ? undefined : fromOption;
  }

  /** Whether new entries get an encrypted private key. */
  get encryptsKeys(): boolean {
    return this.#passphrase !== undefined;
  }

  /** Stores (or replaces) the identity under its label. */
  async save(identity: TLSIdentity): Promise<void> {
    const fileName = safeLabelFileName(identity.label);
    await this.#ensureDir();
    const privateKey: PlainKey | EncryptedKey =
      this.#passphrase === undefined ? { format: 'pem', pem: identity.privateKeyPem } : await encryptKey(identity.privateKeyPem, this.#passphrase, identity.label);
    const entry: KeystoreFile = {
      version: FILE_VERSION,
      label: identity.label,
      certificateChainPem: [...identity.certificateChainPem],
      privateKey,
      savedAt: new Date().toISOString(),
    };
    await this.#writeAtomic(fileName, `${JSON.stringify(entry, null, 2)}\n`);
    log.debug('identity saved', { label: identity.label, keystore: this.dir, encrypted: this.#passphrase !== undefined });
  }

  /** The identity stored under `label`, or undefined. Throws KeystoreError for a locked/corrupt entry. */
  async get(label: string): Promise<TLSIdentity | undefined> {
    const fileName = safeLabelFileName(label);
    const text = await this.#read(fileName);
    if (text === undefined) return undefined;
    const entry = parseEntry(text, fileName);
    if (entry.label !== label) {
      throw new KeystoreError(`keystore file ${fileName} holds label "${entry.label}", expected "${label}"`, 'CORRUPT_ENTRY', label);
    }
    let keyPem: string;
    if (isPlainKey(entry.privateKey)) {
      keyPem = entry.privateKey.pem;
    } else {
      if (this.#passphrase === undefined) {
        throw new KeystoreError(
          `the private key of keystore entry "${label}" is encrypted; set ${KEYSTORE_PASSPHRASE_ENV} (or the passphrase option) to the passphrase it was saved with`,
          'PASSPHRASE_REQUIRED',
          label,
        );
      }
      keyPem = await decryptKey(entry.privateKey, this.#passphrase, label);
    }
    try {
      const identity = identityFromPem(label, keyPem, entry.certificateChainPem);
      log.debug('identity loaded', { label, keystore: this.dir, notAfter: identity.notAfter.toISOString(), fingerprint: identity.fingerprintSha256 });
      return identity;
    } catch (err) {
      if (err instanceof TLSIdentityError) throw new KeystoreError(`keystore entry "${label}" is unusable: ${err.message}`, 'CORRUPT_ENTRY', label);
      throw err;
    }
  }

  /** Removes the entry; resolves to whether there was one. */
  async delete(label: string): Promise<boolean> {
    const fileName = safeLabelFileName(label);
    try {
      await fs.unlink(join(this.dir, fileName));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Every readable entry, sorted by label. Unreadable files are skipped. */
  async list(): Promise<KeystoreEntryInfo[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: KeystoreEntryInfo[] = [];
    for (const fileName of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        const text = await this.#read(fileName);
        if (text === undefined) continue;
        const entry = parseEntry(text, fileName);
        const der = pemToDer(entry.certificateChainPem[0]!);
        const fields = readCertificateFields(der);
        out.push({
          label: entry.label,
          commonName: fields.subject.commonName,
          notAfter: fields.notAfter,
          fingerprintSha256: fingerprintSha256(der),
          encrypted: isEncryptedKey(entry.privateKey),
          fileName,
        });
      } catch {
        // A foreign or damaged file: not an entry.
      }
    }
    return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  }

  async #ensureDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') await fs.chmod(this.dir, 0o700);
  }

  async #read(fileName: string): Promise<string | undefined> {
    try {
      return await fs.readFile(join(this.dir, fileName), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async #writeAtomic(fileName: string, text: string): Promise<void> {
    const target = join(this.dir, fileName);
    const temp = join(this.dir, `.${fileName}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    // Make the rename durable where directories can be fsynced.
    if (process.platform !== 'win32') {
      const dirHandle = await fs.open(this.dir, 'r').catch(() => undefined);
      if (dirHandle)
        await dirHandle
          .sync()
          .catch(() => undefined)
          .finally(() => dirHandle.close());
    }
  }
}
