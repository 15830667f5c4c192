import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import tls from 'node:tls';
import {
  ServerCertificateError,
  ServerCertificateErrorCode,
  createIdentity,
  evaluateServerCertificate,
  resolveServerTrust,
  serverTrustMode,
  serverTrustTlsOptions,
  type TLSIdentity,
} from '../../../server/tls';

let ca: TLSIdentity;
let selfSigned: TLSIdentity;
let caSigned: TLSIdentity;

before(async () => {
  ca = await createIdentity({ isServer: false, isCA: true, label: 'ca', attributes: { commonName: 'Trust Test CA' } });
  selfSigned = await createIdentity({ isServer: true, label: 'ss', attributes: { commonName: 'self' } });
  caSigned = await createIdentity({ isServer: true, label: 'cs', issuer: ca, attributes: { commonName: 'signed' } });
});

function refusal(err: ServerCertificateError | undefined): ServerCertificateError {
  assert.ok(err instanceof ServerCertificateError, 'expected a refusal');
  return err;
}

test('mode precedence: a pin wins over acceptOnlySelfSigned, which wins over the CA default', () => {
  assert.equal(serverTrustMode({}), 'ca');
  assert.equal(serverTrustMode({ acceptOnlySelfSignedServerCertificate: false }), 'ca');
  assert.equal(serverTrustMode({ acceptOnlySelfSignedServerCertificate: true }), 'self-signed-only');
  assert.equal(serverTrustMode({ acceptOnlySelfSignedServerCertificate: true, pinnedServerCertificate: selfSigned.certificatePem }), 'pinned');
});

test('pinned: exact DER match only, given as PEM, DER or PEM bytes; nothing else matters', () => {
  for (const pinned of [caSigned.certificatePem, caSigned.certificateDer, Buffer.from(caSigned.certificatePem)]) {
    const trust = { pinnedServerCertificate: pinned, acceptOnlySelfSignedServerCertificate: true };
    // Accepted although not self-signed and although OpenSSL would not trust it.
    assert.equal(evaluateServerCertificate({ leafDer: caSigned.certificateDer, verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, trust), undefined);
    const err = refusal(evaluateServerCertificate({ leafDer: selfSigned.certificateDer }, trust));
    assert.equal(err.code, ServerCertificateErrorCode.PinnedMismatch);
    assert.equal(err.mode, 'pinned');
    assert.equal(err.peerFingerprintSha256, selfSigned.fingerprintSha256);
    assert.ok(err.message.includes(`server certificate does not match the pinned certificate (fingerprint ${selfSigned.fingerprintSha256}, pinned ${caSigned.fingerprintSha256})`), err.message);
  }
});

test('self-signed only: any self-signed leaf, never a CA-signed one', () => {
  const trust = { acceptOnlySelfSignedServerCertificate: true };
  assert.equal(evaluateServerCertificate({ leafDer: selfSigned.certificateDer, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, trust), undefined);
  assert.equal(evaluateServerCertificate({ leafDer: ca.certificateDer }, trust), undefined, 'a self-signed CA certificate is self-signed too');
  const err = refusal(evaluateServerCertificate({ leafDer: caSigned.certificateDer, verifyError: null }, trust));
  assert.equal(err.code, ServerCertificateErrorCode.NotSelfSigned);
  assert.match(err.message, /server certificate is not self-signed .*accepting only self-signed certificates \(--self-signed-only\) refuses it/);
});

test('CA default: OpenSSL verdicts become explanations with a fix; host names are checked', () => {
  const cases: Array<[string, RegExp]> = [
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /the certificate is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\); pin it \(peersync replicate --pin FILE\), accept self-signed certificates \(--self-signed-only\)/],
    ['CERT_HAS_EXPIRED', /the certificate has expired \(CERT_HAS_EXPIRED\); renew the server certificate/],
    ['CERT_NOT_YET_VALID', /the certificate is not yet valid \(CERT_NOT_YET_VALID\); check the clocks/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /issued by an unknown CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); pin it \(peersync replicate --pin FILE\) or add its root CA to the trusted roots \(--ca FILE\)/],
    ['SOMETHING_NEW', /: SOMETHING_NEW; pin it/],
  ];
  for (const [code, message] of cases) {
    const err = refusal(evaluateServerCertificate({ leafDer: caSigned.certificateDer, verifyError: code }, {}));
    assert.equal(err.code, ServerCertificateErrorCode.Untrusted);
    assert.equal(err.verifyError, code);
    assert.match(err.message, /^server certificate is not trusted by the system CAs or the trusted roots: /);
    assert.match(err.message, message);
  }
  assert.equal(evaluateServerCertificate({ leafDer: caSigned.certificateDer, verifyError: null }, {}), undefined);

  // Host check, with the certificate as Node reports it.
  const peer = { raw: caSigned.certificateDer, subject: { CN: 'signed' }, subjectaltname: 'DNS:localhost, IP Address:127.0.0.1' } as unknown as tls.PeerCertificate;
  assert.equal(evaluateServerCertificate({ leafDer: caSigned.certificateDer, host: 'localhost', peerCertificate: peer }, {}), undefined);
  const err = refusal(evaluateServerCertificate({ leafDer: caSigned.certificateDer, host: 'evil.example.com', peerCertificate: peer }, {}));
  assert.equal(err.code, ServerCertificateErrorCode.HostMismatch);
  assert.match(err.message, /not valid for host "evil.example.com"/);
});

test('no certificate, bad configuration, and the fallback fields of the ws options', () => {
  assert.equal(refusal(evaluateServerCertificate({ leafDer: undefined }, {})).code, ServerCertificateErrorCode.NoCertificate);
  assert.throws(
    () => resolveServerTrust({ pinnedServerCertificate: 'not a certificate' }),
    (err: unknown) => err instanceof TypeError && /pinnedServerCertificate is not a valid X.509 certificate/.test(err.message),
  );
  assert.throws(() => resolveServerTrust({ pinnedServerCertificate: Buffer.from([1, 2, 3]) }), TypeError);
  assert.throws(() => resolveServerTrust({ trustedRootCertificates: ['nope'] }), /trustedRootCertificates\[0\] contains no PEM certificate/);

  const withRoots = resolveServerTrust({ trustedRootCertificates: [ca.certificatePem] });
  assert.equal(withRoots.ca?.length, tls.rootCertificates.length + 1, 'system CAs plus the extra root');
  assert.equal(resolveServerTrust({}).ca, undefined, "no extra roots: Node's default store");

  const pinnedOpts = serverTrustTlsOptions({ pinnedServerCertificate: selfSigned.certificateDer });
  assert.equal(pinnedOpts.rejectUnauthorized, true);
  assert.deepEqual(pinnedOpts.ca, [selfSigned.certificatePem]);
  assert.equal(typeof pinnedOpts.createConnection, 'function');
  const selfOpts = serverTrustTlsOptions({ acceptOnlySelfSignedServerCertificate: true });
  assert.deepEqual(selfOpts.ca, [], 'fail closed when createConnection is ignored');
  assert.ok(!('ca' in serverTrustTlsOptions({})));
});
