import assert from 'node:assert/strict';
import { connect as netConnect, createServer } from 'node:net';
import { before, describe, test, type TestContext } from 'node:test';
import { ListenerCertificateAuthenticator, ListenerPasswordAuthenticator } from '../../../server/listener/authenticators';
import { Listener, type ListenerConfig } from '../../../server/listener/listener';
import { Replicator } from '../../../server/replication/replicator';
import { ClientCertificateAuthenticator, type ReplicatorConfig, type ReplicatorStatus } from '../../../server/replication/replicator-types';
import type { Database } from '../../../server/store';
import { FileKeystore, createIdentity, exportCertificatePem, exportIdentityPkcs12, importIdentity, type TLSIdentity } from '../../../server/tls';
import { openTempDb } from '../../helpers/open-db';
import { tempDir } from '../../helpers/temp-dir';
import { withTimeout } from '../../helpers/wait';

interface Fixture {
  db: Database;
  listener: Listener;
  url: string;
}

async function serve(t: TestContext, config: Partial<ListenerConfig>): Promise<Fixture> {
  const { db } = await openTempDb(t);
  db.defaultCollection.save({ id: 'doc', body: { secret: 'only for trusted peers' } });
  const listener = new Listener({ database: db, networkInterface: '127.0.0.1', ...config });
  await listener.start();
  t.after(() => listener.stop());
  return { db, listener, url: listener.urls[0]! };
}

async function pullFrom(t: TestContext, url: string, options: Partial<ReplicatorConfig>): Promise<{ status: ReplicatorStatus; db: Database }> {
  const { db } = await openTempDb(t);
  const r = new Replicator({ database: db, target: url, type: 'pull', maxAttempts: 1, ...options });
  r.start();
  return { status: await stoppedWithin(r, url), db };
}

/** Guards against a hang only (one attempt: every outcome here is decided by the first connection). */
const HANG_GUARD_MS = 60_000;

function stoppedWithin(r: Replicator, url: string): Promise<ReplicatorStatus> {
  return withTimeout(r.whenStopped(), `the replicator with ${url} to stop`, HANG_GUARD_MS).catch((e: Error) => {
    throw new Error(`${e.message} (status ${r.status.activity})`);
  });
}

function expectOk(result: { status: ReplicatorStatus; db: Database }): void {
  assert.equal(result.status.error, undefined, result.status.error?.message);
  assert.ok(result.db.defaultCollection.get('doc'), 'the document arrived');
}

function expectRefused(result: { status: ReplicatorStatus; db: Database }, pattern: RegExp): void {
  assert.ok(result.status.error, 'should have failed');
  assert.equal(result.status.error.transient, false, 'a trust failure is permanent (no retry storm)');
  assert.match(result.status.error.message, pattern);
  assert.equal(result.db.defaultCollection.count(), 0, 'no document data was received');
}

// The tutorial's Table 2: listener TLS mode × replicator validation mode.
describe('TLS mode × server-certificate validation (seed 002, Table 2)', () => {
  let generated: TLSIdentity;
  let imported: TLSIdentity;
  let other: TLSIdentity;
  before(async () => {
    generated = await createIdentity({ isServer: true, label: 'generated', attributes: { commonName: 'listener.local' } });
    const source = await createIdentity({ isServer: true, label: 'p12-source', attributes: { commonName: 'Inventory Listener', organization: 'Tutorial' } });
    imported = importIdentity(exportIdentityPkcs12(source, 'p12 password'), 'p12 password', 'imported');
    other = await createIdentity({ isServer: true, label: 'other', attributes: { commonName: 'someone else' } });
  });

  test('TLS disabled: ws:// works without any validation option; wss-only options are rejected up front', async (t) => {
    const f = await serve(t, { disableTLS: true });
    assert.match(f.url, /^ws:\/\//);
    expectOk(await pullFrom(t, f.url, {}));
    assert.throws(() => new Replicator({ database: f.db, target: f.url, acceptOnlySelfSignedServerCertificate: true }), /need a wss:\/\/ target/);
  });

  for (const [mode, identity] of [
    ['anonymous', () => undefined],
    ['imported PKCS#12', () => imported],
    ['generated self-signed', () => generated],
  ] as const) {
    describe(`TLS with ${mode} identity`, () => {
      test('self-signed-only validation accepts it', async (t) => {
        const id = identity();
        const f = await serve(t, id ? { tlsIdentity: id } : {});
        assert.match(f.url, /^wss:\/\//);
        expectOk(await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true }));
      });
      test('default (CA) validation refuses it: self-signed is not trusted by the system CAs', async (t) => {
        const id = identity();
        const f = await serve(t, id ? { tlsIdentity: id } : {});
        expectRefused(await pullFrom(t, f.url, {}), /not trusted|self.signed|SELF_SIGNED/i);
      });
      test('pinning its certificate accepts it; pinning another certificate refuses it', async (t) => {
        const id = identity();
        const f = await serve(t, id ? { tlsIdentity: id } : {});
        const presented = f.listener.tlsIdentity!;
        expectOk(await pullFrom(t, f.url, { pinnedServerCertificate: exportCertificatePem(presented) }));
        expectRefused(await pullFrom(t, f.url, { pinnedServerCertificate: exportCertificatePem(other) }), /pinned/);
      });
    });
  }
});

describe('a CA-signed listener certificate', () => {
  let ca: TLSIdentity;
  let server: TLSIdentity;
  before(async () => {
    ca = await createIdentity({ isServer: false, isCA: true, label: 'test-ca', attributes: { commonName: 'PeerSync Test CA' } });
    server = await createIdentity({ isServer: true, issuer: ca, label: 'ca-signed', attributes: { commonName: 'localhost' } });
  });

  test('is accepted by default validation with the CA as a trusted root, refused without it', async (t) => {
    const f = await serve(t, { tlsIdentity: server });
    expectOk(await pullFrom(t, f.url, { trustedRootCertificates: [exportCertificatePem(ca)] }));
    expectRefused(await pullFrom(t, f.url, {}), /not trusted|SELF_SIGNED|UNABLE/i);
  });

  test('is refused by self-signed-only validation', async (t) => {
    const f = await serve(t, { tlsIdentity: server });
    expectRefused(await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true }), /not self-signed/);
  });

  test('expired and not-yet-valid certificates are refused', async (t) => {
    const day = 86_400_000;
    const expired = await createIdentity({
      isServer: true,
      issuer: ca,
      label: 'expired',
      attributes: { commonName: 'localhost' },
      notBefore: new Date(Date.now() - 10 * day),
      expiration: new Date(Date.now() - day),
    });
    const future = await createIdentity({
      isServer: true,
      issuer: ca,
      label: 'future',
      attributes: { commonName: 'localhost' },
      notBefore: new Date(Date.now() + day),
      expiration: new Date(Date.now() + 10 * day),
    });
    for (const id of [expired, future]) {
      const f = await serve(t, { tlsIdentity: id });
      expectRefused(await pullFrom(t, f.url, { trustedRootCertificates: [exportCertificatePem(ca)] }), /expired|not yet valid|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/i);
    }
  });
});

describe('client-certificate authentication', () => {
  let ca: TLSIdentity;
  let otherCa: TLSIdentity;
  let client: TLSIdentity;
  let stranger: TLSIdentity;
  before(async () => {
    ca = await createIdentity({ isServer: false, isCA: true, label: 'client-ca', attributes: { commonName: 'Clients CA' } });
    otherCa = await createIdentity({ isServer: false, isCA: true, label: 'other-ca', attributes: { commonName: 'Other CA' } });
    client = await createIdentity({ isServer: false, issuer: ca, label: 'phone', attributes: { commonName: 'phone-1' } });
    stranger = await createIdentity({ isServer: false, issuer: otherCa, label: 'stranger', attributes: { commonName: 'stranger' } });
  });

  test('a client signed by the trusted CA is accepted; missing or foreign certificates get 403', async (t) => {
    const f = await serve(t, { authenticator: new ListenerCertificateAuthenticator([exportCertificatePem(ca)]) });
    expectOk(await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true, authenticator: new ClientCertificateAuthenticator(client) }));
    const missing = await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true });
    assert.equal(missing.status.error?.code, 403);
    assert.equal(missing.db.defaultCollection.count(), 0);
    const foreign = await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true, authenticator: new ClientCertificateAuthenticator(stranger) });
    assert.equal(foreign.status.error?.code, 403);
    assert.equal(foreign.db.defaultCollection.count(), 0);
  });

  test('a callback decides on top of a verified chain; a refusal is 403', async (t) => {
    const seen: string[] = [];
    const f = await serve(t, {
      authenticator: new ListenerCertificateAuthenticator([exportCertificatePem(ca), exportCertificatePem(otherCa)], (cert) => {
        seen.push(cert.subject);
        return cert.subject.includes('CN=phone-1');
      }),
    });
    expectOk(await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true, authenticator: new ClientCertificateAuthenticator(client) }));
    assert.equal((await pullFrom(t, f.url, { acceptOnlySelfSignedServerCertificate: true, authenticator: new ClientCertificateAuthenticator(stranger) })).status.error?.code, 403);
    assert.ok(seen.some((s) => s.includes('stranger')));
  });

  test('requires TLS', async (t) => {
    const { db } = await openTempDb(t);
    assert.throws(() => new Listener({ database: db, disableTLS: true, authenticator: new ListenerCertificateAuthenticator([exportCertificatePem(ca)]) }), /requires TLS/);
  });
});

describe('mismatched transports fail clearly and fast', () => {
  test('a plaintext client to a TLS listener', async (t) => {
    const f = await serve(t, {});
    const r = await pullFrom(t, f.url.replace('wss://', 'ws://'), {});
    assert.ok(r.status.error);
    assert.notEqual(r.status.error.code, 'HANDSHAKE_TIMEOUT', 'refused by the listener, not given up on after the connect timeout');
    assert.equal(r.db.defaultCollection.count(), 0);
  });

  test('a TLS client to a plaintext listener', async (t) => {
    const f = await serve(t, { disableTLS: true });
    const r = await pullFrom(t, f.url.replace('ws://', 'wss://'), { acceptOnlySelfSignedServerCertificate: true });
    assert.ok(r.status.error);
    assert.match(r.status.error.message, /TLS|SSL|wrong version|EPROTO|packet/i);
    assert.notEqual(r.status.error.code, 'HANDSHAKE_TIMEOUT', 'refused by the listener, not given up on after the connect timeout');
  });
});

/** A TCP relay in front of a listener that records every byte the listener sends back. */
async function recordingRelay(t: TestContext, url: string): Promise<{ url: string; received: () => Buffer }> {
  const port = Number(new URL(url).port);
  const chunks: Buffer[] = [];
  const relay = createServer((client) => {
    const upstream = netConnect(port, '127.0.0.1');
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => chunks.push(d));
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  t.after(() => relay.close());
  const relayPort = (relay.address() as { port: number }).port;
  return { url: url.replace(`:${port}/`, `:${relayPort}/`), received: () => Buffer.concat(chunks) };
}

test('a peer without credentials receives no document data (asserted on the bytes the listener sent)', async (t) => {
  const f = await serve(t, { disableTLS: true, authenticator: new ListenerPasswordAuthenticator(() => false) });
  const relay = await recordingRelay(t, f.url);
  const r = await pullFrom(t, relay.url, {});
  assert.equal(r.status.error?.code, 401);
  const sent = relay.received().toString('latin1');
  assert.match(sent, /^HTTP\/1\.1 401/);
  assert.ok(!sent.includes('only for trusted peers') && !sent.includes('"doc"'), 'no document data');
});

test('a peer that does not trust the listener sends nothing and receives no document data', async (t) => {
  const f = await serve(t, {});
  const relay = await recordingRelay(t, f.url);
  const stranger = await createIdentity({ isServer: true, label: 'x', attributes: { commonName: 'x' } });
  const refused = await pullFrom(t, relay.url, { pinnedServerCertificate: exportCertificatePem(stranger) });
  assert.ok(refused.status.error);
  // Only the TLS handshake came back: the upgrade request was never sent, so no application data.
  assert.ok(relay.received().length < 8_000, `only handshake bytes came back (${relay.received().length})`);
});

test('the anonymous identity is kept and reused across listener restarts', async (t) => {
  const { db } = await openTempDb(t);
  const keystore = new FileKeystore(tempDir(t));
  const a = new Listener({ database: db, networkInterface: '127.0.0.1', keystore });
  await a.start();
  const first = a.tlsIdentity!.fingerprintSha256;
  assert.equal(a.tlsIdentity!.subject.commonName, 'PeerSyncAnonymousCertificate');
  await a.stop();
  await a.start();
  assert.equal(a.tlsIdentity!.fingerprintSha256, first, 'same certificate after a restart');
  await a.stop();
  const b = new Listener({ database: db, networkInterface: '127.0.0.1', keystore });
  await b.start();
  assert.equal(b.tlsIdentity!.fingerprintSha256, first, 'same certificate for a new listener on the same database');
  await b.stop();
});
