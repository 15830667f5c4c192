import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import forge from 'node-forge';
import {
  TLSIdentityError,
  certificateDer,
  createIdentity,
  derToPem,
  exportCertificateDer,
  exportCertificatePem,
  identityFromPem,
  identityTlsOptions,
  isIdentityValidAt,
  looksLikeHost,
  pemToDer,
  relabelIdentity,
} from '../../../server/tls';

const DAY = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const FINGERPRINT_RE = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

test('a self-signed server identity: subject, SANs, one-year validity, fingerprint, PEM/DER export', async () => {
  const id = await createIdentity({
    isServer: true,
    label: 'doco-sync-server',
    attributes: { commonName: 'PeerSync Listener', organization: 'Cöuch Örg', organizationalUnit: 'Mobile', country: 'us', locality: 'Paris', emailAddress: 'ops@example.com' },
  });

  assert.equal(id.label, 'doco-sync-server');
  assert.deepEqual(id.subject, {
    commonName: 'PeerSync Listener',
    organization: 'Cöuch Örg',
    organizationalUnit: 'Mobile',
    country: 'US',
    locality: 'Paris',
    emailAddress: 'ops@example.com',
  });
  assert.deepEqual(id.issuer, id.subject);
  assert.equal(id.isSelfSigned, true);
  assert.equal(id.isCA, false);
  // Not a host name ("PeerSync Listener"), so only the defaults.
  assert.deepEqual(id.subjectAltNames, ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']);

  const lifetime = id.notAfter.getTime() - id.notBefore.getTime();
  assert.ok(Math.abs(lifetime - 365 * DAY) <= 5 * 60 * 1000, `validity ≈ 1 year, got ${lifetime / DAY} days`);
  assert.ok(id.notBefore.getTime() <= Date.now());
  assert.ok(isIdentityValidAt(id));
  assert.ok(!isIdentityValidAt(id, new Date(id.notAfter.getTime() + 1000)));

  const x509 = new X509Certificate(id.certificateDer);
  assert.match(id.fingerprintSha256, FINGERPRINT_RE);
  assert.equal(id.fingerprintSha256, x509.fingerprint256, 'same format as Node / OpenSSL');
  assert.equal(id.serialNumber, x509.serialNumber.toUpperCase());
  assert.ok(!/^[89A-F]/.test(id.serialNumber), 'serial is positive');
  assert.ok(x509.checkPrivateKey(createPrivateKey(id.privateKeyPem)), 'key matches certificate');
  assert.match(id.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  assert.equal(createPublicKey(id.privateKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
  assert.deepEqual(x509.keyUsage, [SERVER_AUTH]);
  assert.equal(x509.ca, false);

  // PEM <-> DER round trips.
  assert.deepEqual(pemToDer(id.certificatePem), id.certificateDer);
  assert.equal(derToPem(id.certificateDer), id.certificatePem);
  assert.equal(exportCertificatePem(id), id.certificatePem);
  assert.deepEqual(exportCertificateDer(id), id.certificateDer);
  assert.deepEqual(certificateDer(id.certificatePem), id.certificateDer);
  assert.deepEqual(certificateDer(Buffer.from(id.certificatePem)), id.certificateDer, 'PEM text held in bytes');
  assert.deepEqual(certificateDer(id.certificateDer), id.certificateDer);
  assert.equal(id.certificateChainPem.length, 1);
  assert.equal(id.certificateChainPem[0], id.certificatePem);

  // Extensions as written by forge.
  const fcert = forge.pki.certificateFromPem(id.certificatePem);
  assert.equal((fcert.getExtension('basicConstraints') as { cA?: boolean }).cA, false);
  const ku = fcert.getExtension('keyUsage') as { digitalSignature?: boolean; keyEncipherment?: boolean; keyCertSign?: boolean };
  assert.equal(ku.digitalSignature, true);
  assert.equal(ku.keyEncipherment, true);
  assert.equal(ku.keyCertSign, false);
  assert.ok(fcert.getExtension('subjectKeyIdentifier'));
  assert.equal(fcert.getExtension('authorityKeyIdentifier'), null);
  assert.equal(fcert.siginfo.algorithmOid, forge.pki.oids.sha256WithRSAEncryption);

  const opts = identityTlsOptions(id);
  assert.equal(opts.key, id.privateKeyPem);
  assert.equal(opts.cert, id.certificatePem);
  assert.equal(opts.minVersion, 'TLSv1.2');

  // Rebuilding from PEM gives the same identity.
  const again = identityFromPem('copy', id.privateKeyPem, id.certificatePem);
  assert.equal(again.fingerprintSha256, id.fingerprintSha256);
  assert.equal(again.label, 'copy');
  assert.equal(relabelIdentity(id, 'other').label, 'other');
});

test('a host-like common name is added to the SANs; explicit SANs replace the defaults; client identities', async () => {
  const host = await createIdentity({ isServer: true, label: 'h', attributes: { commonName: 'sync.example.com' } });
  assert.deepEqual(host.subjectAltNames, ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:sync.example.com']);

  const explicit = await createIdentity({ isServer: true, label: 'e', attributes: { commonName: 'x' }, subjectAltNames: ['peer.local', '10.0.0.7', 'fe80::1'] });
  assert.deepEqual(explicit.subjectAltNames, ['DNS:peer.local', 'IP Address:10.0.0.7', 'IP Address:FE80:0:0:0:0:0:0:1']);

  const client = await createIdentity({ isServer: false, label: 'c', attributes: { commonName: 'alice' } });
  assert.deepEqual(client.subjectAltNames, []);
  assert.deepEqual(new X509Certificate(client.certificateDer).keyUsage, [CLIENT_AUTH]);

  assert.equal(looksLikeHost('PeerSyncAnonymousCertificate'), false);
  assert.equal(looksLikeHost('192.168.1.5'), true);
  assert.equal(looksLikeHost('::1'), true);
  assert.equal(looksLikeHost('a.b'), true);
  assert.equal(looksLikeHost('has space.com'), false);
});

test('a CA and a CA-signed server identity: not self-signed, chain verifies against the CA only', async () => {
  const ca = await createIdentity({ isServer: false, isCA: true, label: 'test-ca', attributes: { commonName: 'PeerSync Test CA', organization: 'Tëst' } });
  assert.equal(ca.isCA, true);
  assert.equal(ca.isSelfSigned, true);
  const caForge = forge.pki.certificateFromPem(ca.certificatePem);
  const caKu = caForge.getExtension('keyUsage') as { keyCertSign?: boolean };
  assert.equal(caKu.keyCertSign, true);
  assert.equal(caForge.getExtension('extKeyUsage'), null, 'a CA carries no extKeyUsage');

  const leaf = await createIdentity({ isServer: true, label: 'leaf', issuer: ca, attributes: { commonName: 'listener.example.com' } });
  assert.equal(leaf.isSelfSigned, false);
  assert.equal(leaf.isCA, false);
  assert.deepEqual(leaf.issuer, ca.subject, 'non-ASCII issuer name copied without double encoding');
  assert.deepEqual(leaf.certificateChainPem, [leaf.certificatePem, ca.certificatePem]);

  const leafForge = forge.pki.certificateFromPem(leaf.certificatePem);
  assert.equal(caForge.verify(leafForge), true);
  assert.equal(forge.pki.verifyCertificateChain(forge.pki.createCaStore([ca.certificatePem]), [leafForge]), true);
  const aki = leafForge.getExtension('authorityKeyIdentifier') as { value: string };
  const caSki = caForge.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
  assert.ok(forge.util.bytesToHex(aki.value).endsWith(caSki.subjectKeyIdentifier), 'authorityKeyIdentifier = CA subjectKeyIdentifier');

  const otherCa = await createIdentity({ isServer: false, isCA: true, label: 'other-ca', attributes: { commonName: 'Other CA' } });
  assert.throws(() => forge.pki.verifyCertificateChain(forge.pki.createCaStore([otherCa.certificatePem]), [leafForge]));

  const x509 = new X509Certificate(leaf.certificateDer);
  assert.ok(x509.checkIssued(new X509Certificate(ca.certificateDer)));
  assert.ok(x509.verify(new X509Certificate(ca.certificateDer).publicKey));

  // Same name as its issuer, but signed by the CA's key: not self-signed.
  const lookalike = await createIdentity({ isServer: true, label: 'lookalike', issuer: ca, attributes: { commonName: 'PeerSync Test CA', organization: 'Tëst' } });
  assert.deepEqual(lookalike.subject, lookalike.issuer);
  assert.equal(lookalike.isSelfSigned, false);

  // The chain is put leaf first whatever order the PEMs come in.
  const reordered = identityFromPem('r', leaf.privateKeyPem, [ca.certificatePem, leaf.certificatePem]);
  assert.deepEqual(reordered.certificateChainPem, leaf.certificateChainPem);
  assert.throws(() => identityFromPem('r', leaf.privateKeyPem, ca.certificatePem), /none of the certificates matches the private key/);
});

test('invalid requests fail with clear errors', async () => {
  await assert.rejects(
    createIdentity({ isServer: true, label: 'x', attributes: { commonName: '  ' } }),
    (err: unknown) => err instanceof TLSIdentityError && /commonName is required/.test(err.message),
  );
  await assert.rejects(createIdentity({ isServer: true, label: '', attributes: { commonName: 'x' } }), /label must not be empty/);
  await assert.rejects(createIdentity({ isServer: true, label: 'x', attributes: { commonName: 'x', country: 'USA' } }), /two-letter country code/);
  await assert.rejects(createIdentity({ isServer: true, label: 'x', attributes: { commonName: 'x' }, expiration: new Date(Date.now() - DAY) }), /must be after notBefore/);
  const notCa = await createIdentity({ isServer: true, label: 'not-ca', attributes: { commonName: 'x' } });
  await assert.rejects(createIdentity({ isServer: true, label: 'x', attributes: { commonName: 'y' }, issuer: notCa }), /is not a CA certificate/);
  assert.throws(() => pemToDer('nothing here'), /no "BEGIN CERTIFICATE" block/);
  assert.throws(() => identityFromPem('x', 'not a key', notCa.certificatePem), /cannot read the private key/);
});

test('explicit validity dates are kept (to the second)', async () => {
  const notBefore = new Date('2030-01-02T03:04:05.678Z');
  const expiration = new Date('2055-06-07T08:09:10.000Z'); // after 2049: GeneralizedTime
  const id = await createIdentity({ isServer: true, label: 'x', attributes: { commonName: 'x' }, notBefore, expiration });
  assert.equal(id.notBefore.toISOString(), '2030-01-02T03:04:05.000Z');
  assert.equal(id.notAfter.toISOString(), '2055-06-07T08:09:10.000Z');
  assert.ok(!isIdentityValidAt(id));
});
