import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ANONYMOUS_COMMON_NAME, FileKeystore, KeystoreError, anonymousIdentity, anonymousIdentityLabel, safeLabelFileName } from '../../../server/tls';
import { tempDir } from '../../helpers/temp-dir';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const DB_UUID = '5E0B6A1C-93D7-4B8E-9A41-0D2F3C4B5A69';

test('the anonymous identity is created once, stored, and reused (also by a new keystore instance, i.e. after a restart)', async (t) => {
  const dir = tempDir(t, 'peersync-anon-');
  const ks = new FileKeystore(dir, { passphrase: null });
  const first = await anonymousIdentity(ks, DB_UUID);
  assert.equal(first.label, 'anonymous-5e0b6a1c-93d7-4b8e-9a41-0d2f3c4b5a69');
  assert.equal(first.label, anonymousIdentityLabel(DB_UUID));
  assert.equal(first.subject.commonName, ANONYMOUS_COMMON_NAME);
  assert.equal(first.isSelfSigned, true);
  assert.ok(first.subjectAltNames.includes('DNS:localhost'));
  assert.ok(Math.abs(first.notAfter.getTime() - Date.now() - 365 * DAY) < 5 * 60 * 1000, 'one year by default');

  const listed = await ks.list();
  assert.deepEqual(
    listed.map((e) => [e.label, e.commonName, e.fingerprintSha256]),
    [[first.label, ANONYMOUS_COMMON_NAME, first.fingerprintSha256]],
  );

  const second = await anonymousIdentity(ks, DB_UUID);
  assert.equal(second.fingerprintSha256, first.fingerprintSha256);
  const afterRestart = await anonymousIdentity(new FileKeystore(dir, { passphrase: null }), DB_UUID);
  assert.equal(afterRestart.fingerprintSha256, first.fingerprintSha256);
  assert.equal(afterRestart.privateKeyPem, first.privateKeyPem);

  const otherDb = await anonymousIdentity(ks, '11111111-2222-3333-4444-555555555555');
  assert.notEqual(otherDb.fingerprintSha256, first.fingerprintSha256, 'one identity per database');
});

test('an anonymous identity with less than 24 h of validity left is replaced', async (t) => {
  const ks = new FileKeystore(tempDir(t, 'peersync-anon-'), { passphrase: null });
  const now = new Date();

  // Created with only an hour of validity: already inside the renewal window.
  const shortLived = await anonymousIdentity(ks, DB_UUID, { now, validityMs: HOUR });
  assert.ok(Math.abs(shortLived.notAfter.getTime() - (now.getTime() + HOUR)) < 1000);
  const renewed = await anonymousIdentity(ks, DB_UUID, { now });
  assert.notEqual(renewed.fingerprintSha256, shortLived.fingerprintSha256);
  assert.equal((await ks.get(renewed.label))?.fingerprintSha256, renewed.fingerprintSha256, 'the renewed one is stored');

  // A year-long one: reused 25 h before expiry, replaced 23 h before expiry.
  const at25h = new Date(renewed.notAfter.getTime() - 25 * HOUR);
  assert.equal((await anonymousIdentity(ks, DB_UUID, { now: at25h })).fingerprintSha256, renewed.fingerprintSha256);
  const at23h = new Date(renewed.notAfter.getTime() - 23 * HOUR);
  const replaced = await anonymousIdentity(ks, DB_UUID, { now: at23h });
  assert.notEqual(replaced.fingerprintSha256, renewed.fingerprintSha256);
  assert.ok(replaced.notBefore.getTime() <= at23h.getTime());
  assert.ok(Math.abs(replaced.notAfter.getTime() - (at23h.getTime() + 365 * DAY)) < 1000, 'new validity counted from `now`');
});

test('a damaged anonymous entry is replaced; an encrypted one without the passphrase is an error, not overwritten', async (t) => {
  const dir = tempDir(t, 'peersync-anon-');
  const label = anonymousIdentityLabel(DB_UUID);
  writeFileSync(join(dir, safeLabelFileName(label)), 'garbage');
  const fresh = await anonymousIdentity(new FileKeystore(dir, { passphrase: null }), DB_UUID);
  assert.equal(fresh.subject.commonName, ANONYMOUS_COMMON_NAME);

  const dir2 = tempDir(t, 'peersync-anon-');
  const locked = await anonymousIdentity(new FileKeystore(dir2, { passphrase: 'secret' }), DB_UUID);
  await assert.rejects(anonymousIdentity(new FileKeystore(dir2, { passphrase: null }), DB_UUID), (err: unknown) => err instanceof KeystoreError && err.code === 'PASSPHRASE_REQUIRED');
  assert.equal((await anonymousIdentity(new FileKeystore(dir2, { passphrase: 'secret' }), DB_UUID)).fingerprintSha256, locked.fingerprintSha256);
});
