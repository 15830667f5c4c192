import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { ClientRequest } from 'node:http';
import { before, describe, test, type TestContext } from 'node:test';
import { ListenerCertificateAuthenticator, type ClientCertificateCheck } from '../../../server/listener/authenticators';
import { Listener, type AuthFailure, type TlsFailure } from '../../../server/listener/listener';
import { openTempDb } from '../../helpers/open-db';
import { waitForCondition, withTimeout } from '../../helpers/wait';
import { issue, type Issued } from '../../helpers/pki';

/**
 * Client-certificate chains judged by a real TLS listener on loopback: a PKI made here (root →
 * intermediate → leaves) and the ways a chain can be forged or misused.
 */

const DAY = 86_400_000;

interface Outcome {
  /** 101 when the WebSocket upgrade was accepted, else the HTTP status; undefined when the connection failed first. */
  readonly status: number | undefined;
  readonly error?: string;
}

/** An upgrade request over TLS presenting `certs` (the client's own first) and its key. */
function attempt(url: string, client: { certs: Issued[]; key: Issued } | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<Outcome> {
  const u = new URL(url.replace(/^wss:/, 'https:') + '/_blipsync');
  let req: ClientRequest | undefined;
  const outcome = new Promise<Outcome>((resolve) => {
    req = request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      agent: false,
      // The listener's own certificate is not what these tests are about.
      rejectUnauthorized: false,
      maxVersion,
      ...(client ? { cert: client.certs.map((c) => c.certPem).join(''), key: client.key.keyPem } : {}),
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'BLIP_3+CBMobile_3' },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101 });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: undefined, error: e.code ?? e.message }));
    req.end();
  });
  return withTimeout(outcome, 'the listener to answer or close', 15_000).finally(() => req?.destroy());
}

async function listen(t: TestContext, anchors: Issued[], accept?: ClientCertificateCheck): Promise<{ listener: Listener; url: string; refusals: AuthFailure[]; tlsErrors: TlsFailure[] }> {
  const { db } = await openTempDb(t);
  const listener = new Listener({
    database: db,
    networkInterface: '127.0.0.1',
    authenticator: new ListenerCertificateAuthenticator(
      anchors.map((a) => a.certPem),
      accept,
    ),
  });
  const refusals: AuthFailure[] = [];
  const tlsErrors: TlsFailure[] = [];
  listener.on('authFailure', (f) => refusals.push(f));
  listener.on('tlsError', (f) => tlsErrors.push(f));
  await listener.start();
  t.after(() => listener.stop());
  return { listener, url: listener.urls[0]!, refusals, tlsErrors };
}

function assertRefused(outcome: Outcome, refusals: AuthFailure[], reason: RegExp): void {
  assert.equal(outcome.status, 403, `expected 403, got ${outcome.status ?? outcome.error}`);
  assert.match(refusals.at(-1)?.reason ?? '', reason);
  assert.equal(refusals.at(-1)?.remoteAddress, '127.0.0.1');
}

/**
 * A forged signature over TLS 1.2: OpenSSL's failed check ends the handshake (the client sees a
 * reset) unless it finished first (then 403). Refused either way, and reported either way.
 */
async function assertRefusedOverTls12(l: Awaited<ReturnType<typeof listen>>, outcome: Outcome): Promise<void> {
  assert.notEqual(outcome.status, 101);
  if (outcome.status !== undefined) {
    assertRefused(outcome, l.refusals, /CERT_SIGNATURE_FAILURE/);
    return;
  }
  await waitForCondition(
    () => l.tlsErrors.length > 0,
    (notify) => (l.listener.on('tlsError', notify), () => l.listener.off('tlsError', notify)),
    10_000,
    'the failed handshake to be reported',
  );
  // OpenSSL's reason depends on the forged signature's bytes (bad padding, too large for the modulus…).
  assert.match(l.tlsErrors.at(-1)!.reason, /\(ERR_SSL_[A-Z0-9_]+\)$/);
  assert.equal(l.tlsErrors.at(-1)!.remoteAddress, '127.0.0.1');
}

describe('client certificates against a real PKI', () => {
  let root: Issued;
  let inter: Issued;
  let leaf: Issued;
  let attacker: Issued;
  before(() => {
    root = issue({ commonName: 'Test Root CA', ca: true });
    inter = issue({ commonName: 'Test Issuing CA', ca: true, issuer: root });
    leaf = issue({ commonName: 'phone-1', issuer: inter, clientAuth: true });
    attacker = issue({ commonName: 'Attacker CA', ca: true });
  });

  test('a leaf of the intermediate, sent with it, is accepted with the root as the anchor', async (t) => {
    const l = await listen(t, [root]);
    assert.equal((await attempt(l.url, { certs: [leaf, inter], key: leaf })).status, 101, JSON.stringify(l.refusals));
    assert.equal((await attempt(l.url, { certs: [leaf, inter], key: leaf }, 'TLSv1.2')).status, 101);
  });

  test('the intermediate can be the anchor on its own (a partial chain)', async (t) => {
    const l = await listen(t, [inter]);
    const o = await attempt(l.url, { certs: [leaf], key: leaf });
    assert.equal(o.status, 101, JSON.stringify(l.refusals));
    assert.equal((await attempt(l.url, { certs: [leaf, inter], key: leaf })).status, 101);
  });

  test('no certificate gets 403', async (t) => {
    const l = await listen(t, [root]);
    assertRefused(await attempt(l.url, undefined), l.refusals, /no client certificate/);
  });

  test('intermediate as the anchor: a leaf naming it but signed by another key is refused, with or without the real intermediate appended', async (t) => {
    const l = await listen(t, [inter]);
    const forged = issue({ commonName: 'admin', issuer: attacker, claimedIssuerName: inter.cert.subject.attributes, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [forged, inter], key: forged }), l.refusals, /CERT_SIGNATURE_FAILURE/);
    assertRefused(await attempt(l.url, { certs: [forged], key: forged }), l.refusals, /CERT_SIGNATURE_FAILURE|not issued by a trusted certificate/);
    await assertRefusedOverTls12(l, await attempt(l.url, { certs: [forged, inter], key: forged }, 'TLSv1.2'));
  });

  test('a leaf claiming the root as issuer but signed by another key is refused', async (t) => {
    const l = await listen(t, [root]);
    const forged = issue({ commonName: 'admin', issuer: attacker, claimedIssuerName: root.cert.subject.attributes, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [forged], key: forged }), l.refusals, /CERT_SIGNATURE_FAILURE/);
    await assertRefusedOverTls12(l, await attempt(l.url, { certs: [forged], key: forged }, 'TLSv1.2'));
  });

  test('a certificate signed by an ordinary client certificate (CA:FALSE) is refused: no impersonating CN=admin', async (t) => {
    const l = await listen(t, [root]);
    // Without a keyUsage extension only basicConstraints forbids signing.
    const plainClient = issue({ commonName: 'phone-2', issuer: root, clientAuth: true, noKeyUsage: true });
    const admin = issue({ commonName: 'admin', issuer: plainClient, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [admin, plainClient], key: admin }), l.refusals, /INVALID_PURPOSE|INVALID_CA/);
    const usualClient = issue({ commonName: 'phone-3', issuer: root, clientAuth: true });
    const admin2 = issue({ commonName: 'admin', issuer: usualClient, clientAuth: true });
    // OpenSSL names this one (a signer whose key usage lacks certificate signing) only as unspecified.
    assertRefused(await attempt(l.url, { certs: [admin2, usualClient], key: admin2 }), l.refusals, /INVALID_PURPOSE|INVALID_CA|UNSPECIFIED/);
  });

  test('an expired intermediate makes its leaves invalid', async (t) => {
    const l = await listen(t, [root]);
    const expired = issue({ commonName: 'Expired CA', ca: true, issuer: root, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const under = issue({ commonName: 'phone-4', issuer: expired, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [under, expired], key: under }), l.refusals, /CERT_HAS_EXPIRED/);
  });

  test('an expired or not yet valid leaf is refused', async (t) => {
    const l = await listen(t, [root]);
    const old = issue({ commonName: 'old', issuer: root, clientAuth: true, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    assertRefused(await attempt(l.url, { certs: [old], key: old }), l.refusals, /CERT_HAS_EXPIRED/);
    const future = issue({ commonName: 'future', issuer: root, clientAuth: true, notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });
    assertRefused(await attempt(l.url, { certs: [future], key: future }), l.refusals, /CERT_NOT_YET_VALID/);
  });

  test('a certificate for servers only (extendedKeyUsage serverAuth) is refused', async (t) => {
    const l = await listen(t, [root]);
    const serverOnly = issue({ commonName: 'web', issuer: root, serverAuth: true });
    assertRefused(await attempt(l.url, { certs: [serverOnly], key: serverOnly }), l.refusals, /INVALID_PURPOSE/);
    const serverCa = issue({ commonName: 'Server CA', ca: true, issuer: root, serverAuth: true });
    const underServerCa = issue({ commonName: 'phone-5', issuer: serverCa, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [underServerCa, serverCa], key: underServerCa }), l.refusals, /INVALID_PURPOSE/);
  });

  test('the application callback adds a check to a verified chain and never replaces it', async (t) => {
    const seen: string[] = [];
    const l = await listen(t, [root], (cert) => {
      seen.push(cert.subject.split('\n').find((p) => p.startsWith('CN=')) ?? '');
      return !cert.subject.includes('CN=phone-6');
    });
    assert.equal((await attempt(l.url, { certs: [leaf, inter], key: leaf })).status, 101);
    assert.deepEqual(seen, ['CN=phone-1']);
    const vetoed = issue({ commonName: 'phone-6', issuer: root, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [vetoed], key: vetoed }), l.refusals, /refused by the application/);
    const stranger = issue({ commonName: 'stranger', issuer: attacker, clientAuth: true });
    assertRefused(await attempt(l.url, { certs: [stranger, attacker], key: stranger }), l.refusals, /not issued by a trusted certificate/);
    assert.equal(seen.length, 2, 'the callback never saw the unverified chain');
  });
});
