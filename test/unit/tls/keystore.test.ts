import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileKeystore, KEYSTORE_PASSPHRASE_ENV, KeystoreError, createIdentity, safeLabelFileName, type TLSIdentity } from '../../../server/tls';
import { tempDir } from '../../helpers/temp-dir';

const posix = process.platform !== 'win32';

let shared: { server: TLSIdentity; client: TLSIdentity } | undefined;
async function identities(): Promise<{ server: TLSIdentity; client: TLSIdentity }> {
  shared ??= {
    server: await createIdentity({ isServer: true, label: 'doco-sync-server', attributes: { commonName: 'listener.local' } }),
    client: await createIdentity({ isServer: false, label: 'Client Cert/ä', attributes: { commonName: 'alice' } }),
  };
  return shared;
}

function keyBody(pem: string): string {
  return pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
}

test('without a passphrase: save/get/list/delete, plaintext key protected by 0600/0700 permissions', async (t) => {
  const dir = join(tempDir(t, 'peersync-ks-'), 'keystore');
  const ks = new FileKeystore(dir, { passphrase: null });
  assert.equal(ks.encryptsKeys, false);
  const { server, client } = await identities();

  assert.deepEqual(await ks.list(), [], 'a missing folder is an empty keystore');
  assert.equal(await ks.get('doco-sync-server'), undefined);

  await ks.save(server);
  await ks.save(client);
  const file = join(dir, 'doco-sync-server.json');
  if (posix) {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }
  const stored = readFileSync(file, 'utf8');
  assert.ok(stored.includes('BEGIN PRIVATE KEY'), 'documented: plaintext PEM without a passphrase');
  assert.deepEqual(readdirSync(dir).sort(), ['%43lient%20%43ert%2F%C3%A4.json', 'doco-sync-server.json'], 'safe names, no temp files left');

  const back = await ks.get('doco-sync-server');
  assert.ok(back);
  assert.equal(back.fingerprintSha256, server.fingerprintSha256);
  assert.equal(back.privateKeyPem, server.privateKeyPem);
  assert.deepEqual(back.certificateChainPem, server.certificateChainPem);
  assert.equal((await ks.get('Client Cert/ä'))?.fingerprintSha256, client.fingerprintSha256);

  const list = await ks.list();
  assert.deepEqual(
    list.map((e) => [e.label, e.commonName, e.notAfter.toISOString(), e.fingerprintSha256, e.encrypted]),
    [
      ['Client Cert/ä', 'alice', client.notAfter.toISOString(), client.fingerprintSha256, false],
      ['doco-sync-server', 'listener.local', server.notAfter.toISOString(), server.fingerprintSha256, false],
    ],
  );

  // Saving again replaces the entry atomically.
  const replacement = await createIdentity({ isServer: true, label: 'doco-sync-server', attributes: { commonName: 'renewed' } });
  await ks.save(replacement);
  assert.equal((await ks.get('doco-sync-server'))?.fingerprintSha256, replacement.fingerprintSha256);
  if (posix) assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readdirSync(dir).length, 2);

  assert.equal(await ks.delete('doco-sync-server'), true);
  assert.equal(await ks.delete('doco-sync-server'), false);
  assert.equal(await ks.get('doco-sync-server'), undefined);
  assert.deepEqual(
    (await ks.list()).map((e) => e.label),
    ['Client Cert/ä'],
  );
});

test('with a passphrase: the key is encrypted at rest; no or a wrong passphrase is a clear error', async (t) => {
  const dir = tempDir(t, 'peersync-ks-');
  const { server } = await identities();
  const ks = new FileKeystore(dir, { passphrase: 'correct horse' });
  assert.equal(ks.encryptsKeys, true);
  await ks.save(server);

  const stored = readFileSync(join(dir, 'doco-sync-server.json'), 'utf8');
  assert.ok(!stored.includes('PRIVATE KEY'), 'no PEM key in the file');
  assert.ok(!stored.includes(keyBody(server.privateKeyPem).slice(0, 64)), 'no key material in clear');
  assert.ok(stored.includes('BEGIN CERTIFICATE'), 'certificates are public and stay readable');
  assert.equal(JSON.parse(stored).privateKey.format, 'aes-256-gcm');

  const back = await ks.get('doco-sync-server');
  assert.ok(back && createPrivateKey(back.privateKeyPem).equals(createPrivateKey(server.privateKeyPem)));

  await assert.rejects(
    new FileKeystore(dir, { passphrase: null }).get('doco-sync-server'),
    (err: unknown) => err instanceof KeystoreError && err.code === 'PASSPHRASE_REQUIRED' && err.message.includes(KEYSTORE_PASSPHRASE_ENV),
  );
  await assert.rejects(
    new FileKeystore(dir, { passphrase: 'wrong' }).get('doco-sync-server'),
    (err: unknown) => err instanceof KeystoreError && err.code === 'WRONG_PASSPHRASE' && /wrong passphrase/.test(err.message),
  );
  // Listing needs no passphrase.
  const [entry] = await new FileKeystore(dir, { passphrase: null }).list();
  assert.equal(entry?.encrypted, true);
  assert.equal(entry?.fingerprintSha256, server.fingerprintSha256);
});

test('PEERSYNC_KEYSTORE_PASSPHRASE is used when no passphrase option is given', async (t) => {
  const dir = tempDir(t, 'peersync-ks-');
  const { server } = await identities();
  const previous = process.env[KEYSTORE_PASSPHRASE_ENV];
  t.after(() => {
    if (previous === undefined) delete process.env[KEYSTORE_PASSPHRASE_ENV];
    else process.env[KEYSTORE_PASSPHRASE_ENV] = previous;
  });
  process.env[KEYSTORE_PASSPHRASE_ENV] = 'from-env';
  const ks = new FileKeystore(dir);
  assert.equal(ks.encryptsKeys, true);
  await ks.save(server);
  assert.equal((await new FileKeystore(dir, { passphrase: 'from-env' }).get(server.label))?.fingerprintSha256, server.fingerprintSha256);
  await assert.rejects(new FileKeystore(dir, { passphrase: null }).get(server.label), { code: 'PASSPHRASE_REQUIRED' });
});

test('labels: reversible safe file names, case-distinct, and an entry copied under another name is refused', async (t) => {
  assert.equal(safeLabelFileName('anonymous-3f2a'), 'anonymous-3f2a.json');
  assert.equal(safeLabelFileName('../etc/passwd'), '%2E%2E%2Fetc%2Fpasswd.json');
  assert.notEqual(safeLabelFileName('Server'), safeLabelFileName('server'));
  assert.throws(() => safeLabelFileName(''), { code: 'INVALID_LABEL' });
  assert.throws(() => safeLabelFileName('x'.repeat(300)), { code: 'INVALID_LABEL' });

  const dir = tempDir(t, 'peersync-ks-');
  const ks = new FileKeystore(dir, { passphrase: null });
  const { server } = await identities();
  await ks.save(server);
  copyFileSync(join(dir, 'doco-sync-server.json'), join(dir, 'impostor.json'));
  await assert.rejects(ks.get('impostor'), (err: unknown) => err instanceof KeystoreError && err.code === 'CORRUPT_ENTRY' && /holds label "doco-sync-server"/.test(err.message));

  writeFileSync(join(dir, 'broken.json'), '{ not json');
  await assert.rejects(ks.get('broken'), { code: 'CORRUPT_ENTRY' });
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  assert.deepEqual(
    (await ks.list()).map((e) => e.label),
    ['doco-sync-server', 'doco-sync-server'],
    'unreadable files are skipped; the copy lists its stored label',
  );
});
