import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import forge from 'node-forge';
import { Pkcs12Error, createIdentity, exportCertificateDer, exportIdentityPkcs12, importIdentity } from '../../../server/tls';
import { tempDir } from '../../helpers/temp-dir';

test("PKCS#12 export -> import round trip (the tutorial's listener-cert-pkey.p12 + listener-pinned-cert.cer)", async (t) => {
  const dir = tempDir(t, 'peersync-p12-');
  const ca = await createIdentity({ isServer: false, isCA: true, label: 'ca', attributes: { commonName: 'Bundle CA' } });
  const listener = await createIdentity({ isServer: true, label: 'listener', issuer: ca, attributes: { commonName: 'listener.local', organization: 'Cöuchbase' } });

  const p12Path = join(dir, 'listener-cert-pkey.p12');
  writeFileSync(p12Path, exportIdentityPkcs12(listener, 'couchbase'));
  writeFileSync(join(dir, 'listener-pinned-cert.cer'), exportCertificateDer(listener));

  const imported = importIdentity(readFileSync(p12Path), 'couchbase', 'doco-sync-server');
  assert.equal(imported.label, 'doco-sync-server');
  assert.equal(imported.fingerprintSha256, listener.fingerprintSha256);
  assert.deepEqual(imported.certificateChainPem, listener.certificateChainPem, 'whole chain, leaf first');
  assert.deepEqual(imported.subject, listener.subject);
  assert.equal(imported.isSelfSigned, false);
  assert.ok(createPrivateKey(imported.privateKeyPem).equals(createPrivateKey(listener.privateKeyPem)), 'same private key');
  assert.deepEqual(readFileSync(join(dir, 'listener-pinned-cert.cer')), imported.certificateDer);

  // The archive carries the label as friendly name and is readable by OpenSSL (Node's pfx option).
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(readFileSync(p12Path).toString('binary')), 'couchbase');
  assert.equal(p12.getBags({ friendlyName: 'listener' }).friendlyName?.length, 2);
  for (const algorithm of ['aes256', '3des'] as const) {
    assert.doesNotThrow(() => tls.createSecureContext({ pfx: exportIdentityPkcs12(listener, 'pw', { algorithm }), passphrase: 'pw' }));
  }
});

test('PKCS#12 errors: wrong password, not PKCS#12, no key, no certificate', async () => {
  const id = await createIdentity({ isServer: true, label: 'x', attributes: { commonName: 'x' } });
  const p12 = exportIdentityPkcs12(id, 'right');

  assert.throws(
    () => importIdentity(p12, 'wrong', 'x'),
    (err: unknown) => err instanceof Pkcs12Error && err.code === 'WRONG_PASSWORD' && /wrong password/.test(err.message),
  );
  assert.throws(
    () => importIdentity(Buffer.from('definitely not DER'), 'right', 'x'),
    (err: unknown) => err instanceof Pkcs12Error && err.code === 'NOT_PKCS12',
  );

  const certOnly = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(null, [forge.pki.certificateFromPem(id.certificatePem)], 'pw')).getBytes(), 'binary');
  assert.throws(
    () => importIdentity(certOnly, 'pw', 'x'),
    (err: unknown) => err instanceof Pkcs12Error && err.code === 'NO_PRIVATE_KEY' && /no private key/.test(err.message),
  );

  const keyOnly = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(id.privateKeyPem), null as unknown as forge.pki.Certificate[], 'pw')).getBytes(), 'binary');
  assert.throws(
    () => importIdentity(keyOnly, 'pw', 'x'),
    (err: unknown) => err instanceof Pkcs12Error && err.code === 'NO_CERTIFICATE' && /no certificate/.test(err.message),
  );

  const other = await createIdentity({ isServer: true, label: 'y', attributes: { commonName: 'y' } });
  const mismatched = Buffer.from(
    forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(other.privateKeyPem), [forge.pki.certificateFromPem(id.certificatePem)], 'pw')).getBytes(),
    'binary',
  );
  assert.throws(
    () => importIdentity(mismatched, 'pw', 'x'),
    (err: unknown) => err instanceof Pkcs12Error && err.code === 'KEY_MISMATCH',
  );
});
