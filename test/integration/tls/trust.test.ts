/**
 * Server-certificate validation against real TLS servers on 127.0.0.1: the accept/refuse matrix of
 * the three modes, that a refused connection sends nothing, and that the options work with `ws`.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { before, test, type TestContext } from 'node:test';
import tls from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import {
  ServerCertificateError,
  ServerCertificateErrorCode,
  connectWithServerTrust,
  createIdentity,
  identityTlsOptions,
  serverTrustTlsOptions,
  type ServerCertificateTrust,
  type TLSIdentity,
} from '../../../server/tls';
import { waitForCondition } from '../../helpers/wait';

const DAY = 24 * 60 * 60 * 1000;
const SECRET = 'Authorization: Basic c2VjcmV0';

interface Ids {
  ca: TLSIdentity;
  selfSigned: TLSIdentity;
  caSigned: TLSIdentity;
  expired: TLSIdentity;
  notYetValid: TLSIdentity;
  wrongHost: TLSIdentity;
}
let ids: Ids;

before(async () => {
  const ca = await createIdentity({ isServer: false, isCA: true, label: 'ca', attributes: { commonName: 'PeerSync Integration CA' } });
  const now = Date.now();
  const [selfSigned, caSigned, expired, notYetValid, wrongHost] = await Promise.all([
    createIdentity({ isServer: true, label: 'self-signed', attributes: { commonName: 'self-signed listener' } }),
    createIdentity({ isServer: true, label: 'ca-signed', issuer: ca, attributes: { commonName: 'ca-signed listener' } }),
    createIdentity({ isServer: true, label: 'expired', issuer: ca, attributes: { commonName: 'expired' }, notBefore: new Date(now - 3 * DAY), expiration: new Date(now - DAY) }),
    createIdentity({ isServer: true, label: 'future', issuer: ca, attributes: { commonName: 'future' }, notBefore: new Date(now + DAY), expiration: new Date(now + 3 * DAY) }),
    createIdentity({ isServer: true, label: 'wrong-host', issuer: ca, attributes: { commonName: 'elsewhere' }, subjectAltNames: ['elsewhere.example.com'] }),
  ]);
  ids = { ca, selfSigned, caSigned, expired, notYetValid, wrongHost };
});

interface TlsServer {
  port: number;
  /** Everything any client sent, decrypted. */
  received(): string;
  /** Resolves once a connection was seen and every TCP connection has closed again. */
  idle(): Promise<void>;
  events: EventEmitter;
}

/** A TLS server presenting `identity`; closed (connections destroyed) when the test ends. */
async function tlsServer(t: TestContext, identity: TLSIdentity): Promise<TlsServer> {
  let received = '';
  let seen = 0;
  const sockets = new Set<Socket>();
  const events = new EventEmitter();
  const server = tls.createServer(identityTlsOptions(identity), (socket) => {
    socket.on('data', (d: Buffer) => {
      received += d.toString();
      events.emit('data');
    });
    socket.on('error', () => {});
  });
  server.on('connection', (s: Socket) => {
    seen++;
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      events.emit('closed');
    });
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  const isIdle = (): boolean => seen > 0 && sockets.size === 0;
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    idle: () =>
      waitForCondition(
        isIdle,
        (notify) => {
          events.on('closed', notify);
          return () => events.off('closed', notify);
        },
        5000,
        'the server connections to close',
      ),
    events,
  };
}

type Outcome = { ok: true } | { ok: false; error: Error };

/** Connects, writes a "secret" before the handshake completes, and reports accept/refuse. */
function attempt(socket: tls.TLSSocket): Promise<Outcome> {
  socket.write(SECRET);
  return new Promise((resolve) => {
    socket.once('secureConnect', () => {
      socket.end();
      resolve({ ok: true });
    });
    socket.once('error', (error) => {
      socket.destroy();
      resolve({ ok: false, error });
    });
  });
}

async function connect(t: TestContext, identity: TLSIdentity, trust: ServerCertificateTrust, extra: tls.ConnectionOptions = {}): Promise<Outcome & { server: TlsServer }> {
  const server = await tlsServer(t, identity);
  const outcome = await attempt(connectWithServerTrust({ host: '127.0.0.1', port: server.port, ...extra }, trust));
  if (!outcome.ok) await server.idle(); // so received() is final
  return { ...outcome, server };
}

function assertAccepted(outcome: Outcome, what: string): void {
  assert.ok(outcome.ok, `${what} should be accepted, got: ${outcome.ok ? '' : outcome.error.message}`);
}

function assertRefused(outcome: Outcome & { server?: TlsServer }, code: string, message: RegExp, what: string): ServerCertificateError {
  assert.ok(!outcome.ok, `${what} should be refused`);
  assert.ok(outcome.error instanceof ServerCertificateError, `${what}: ${outcome.error.message}`);
  assert.equal(outcome.error.code, code, what);
  assert.match(outcome.error.message, message, what);
  return outcome.error;
}

test('pinned certificate: exact match accepted, anything else refused', async (t) => {
  const { selfSigned, caSigned, expired } = ids;
  const pinSelf: ServerCertificateTrust = { pinnedServerCertificate: selfSigned.certificateDer };
  assertAccepted(await connect(t, selfSigned, pinSelf), 'pinned self-signed');
  const mismatch = await connect(t, caSigned, pinSelf);
  assertRefused(mismatch, ServerCertificateErrorCode.PinnedMismatch, /does not match the pinned certificate/, 'pin mismatch');
  assert.equal(mismatch.server.received(), '', 'nothing was sent to the refused server');

  // "Nothing else matters": a CA-signed leaf with an unknown CA, and even an expired one, when pinned.
  assertAccepted(await connect(t, caSigned, { pinnedServerCertificate: caSigned.certificatePem }), 'pinned CA-signed leaf');
  assertAccepted(await connect(t, expired, { pinnedServerCertificate: expired.certificatePem }), 'pinned expired certificate');
  // The pin wins over acceptOnlySelfSignedServerCertificate.
  assertAccepted(await connect(t, caSigned, { pinnedServerCertificate: caSigned.certificatePem, acceptOnlySelfSignedServerCertificate: true }), 'pin + self-signed-only');
});

test('acceptOnlySelfSignedServerCertificate: self-signed accepted, CA-signed refused', async (t) => {
  const trust = { acceptOnlySelfSignedServerCertificate: true };
  const ok = await connect(t, ids.selfSigned, trust);
  assertAccepted(ok, 'self-signed');
  const refused = await connect(t, ids.caSigned, trust);
  assertRefused(refused, ServerCertificateErrorCode.NotSelfSigned, /accepting only self-signed certificates \(--self-signed-only\) refuses it/, 'CA-signed');
  assert.equal(refused.server.received(), '');
  // Trusting the CA does not help: "no matter who signed them".
  assertRefused(await connect(t, ids.caSigned, { ...trust, trustedRootCertificates: [ids.ca.certificatePem] }), ServerCertificateErrorCode.NotSelfSigned, /not self-signed/, 'CA-signed, CA trusted');
});

test('default (CA) validation: trusted chain accepted; self-signed, unknown CA, expired, not yet valid and wrong host refused', async (t) => {
  const trusted: ServerCertificateTrust = { trustedRootCertificates: [ids.ca.certificatePem] };
  const accepted = await connect(t, ids.caSigned, trusted);
  assertAccepted(accepted, 'CA-signed with the CA trusted');
  assertAccepted(await connect(t, ids.caSigned, trusted, { servername: 'localhost' }), 'CA-signed, DNS name checked via SNI name');

  const selfSigned = await connect(t, ids.selfSigned, trusted);
  const e1 = assertRefused(selfSigned, ServerCertificateErrorCode.Untrusted, /not trusted by the system CAs or the trusted roots: the certificate is self-signed/, 'self-signed');
  assert.equal(e1.verifyError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.equal(selfSigned.server.received(), '');

  // The listener sends its whole chain, root included, so OpenSSL reports an untrusted root in the chain.
  const e2 = assertRefused(
    await connect(t, ids.caSigned, {}),
    ServerCertificateErrorCode.Untrusted,
    /self-signed root that is not trusted.*add its root CA to the trusted roots \(--ca FILE\)/,
    'unknown CA',
  );
  assert.equal(e2.verifyError, 'SELF_SIGNED_CERT_IN_CHAIN');
  const e3 = assertRefused(await connect(t, ids.expired, trusted), ServerCertificateErrorCode.Untrusted, /has expired/, 'expired');
  assert.equal(e3.verifyError, 'CERT_HAS_EXPIRED');
  const e4 = assertRefused(await connect(t, ids.notYetValid, trusted), ServerCertificateErrorCode.Untrusted, /not yet valid/, 'not yet valid');
  assert.equal(e4.verifyError, 'CERT_NOT_YET_VALID');
  assertRefused(await connect(t, ids.wrongHost, trusted), ServerCertificateErrorCode.HostMismatch, /not valid for host "127.0.0.1"/, 'wrong host');
  // acceptOnlySelfSignedServerCertificate: false is the same as unset.
  assertAccepted(await connect(t, ids.caSigned, { ...trusted, acceptOnlySelfSignedServerCertificate: false }), 'explicit false');
});

test('the ws options fall back to failing closed when createConnection is ignored (plain tls.connect)', async (t) => {
  const fallback = async (identity: TLSIdentity, trust: ServerCertificateTrust): Promise<Outcome> => {
    const server = await tlsServer(t, identity);
    return attempt(tls.connect({ host: '127.0.0.1', port: server.port, ...serverTrustTlsOptions(trust) }));
  };
  assertAccepted(await fallback(ids.selfSigned, { pinnedServerCertificate: ids.selfSigned.certificatePem }), 'pinned self-signed');
  assert.equal((await fallback(ids.caSigned, { pinnedServerCertificate: ids.selfSigned.certificatePem })).ok, false);
  assert.equal((await fallback(ids.selfSigned, { acceptOnlySelfSignedServerCertificate: true })).ok, false, 'self-signed-only cannot be done without createConnection: refuse');
  assert.equal((await fallback(ids.caSigned, { acceptOnlySelfSignedServerCertificate: true })).ok, false);
  assertAccepted(await fallback(ids.caSigned, { trustedRootCertificates: [ids.ca.certificatePem] }), 'CA mode');
  assert.equal((await fallback(ids.selfSigned, { trustedRootCertificates: [ids.ca.certificatePem] })).ok, false);
});

test('why createConnection: Node skips checkServerIdentity when its own verification failed, and rejectUnauthorized:false ignores it', async (t) => {
  const server = await tlsServer(t, ids.caSigned);
  let called = false;
  const outcome = await attempt(
    tls.connect({
      host: '127.0.0.1',
      port: server.port,
      rejectUnauthorized: false,
      checkServerIdentity: () => {
        called = true;
        return new Error('refuse');
      },
    }),
  );
  assert.equal(outcome.ok, true, 'the connection went ahead');
  assert.equal(called, false, 'checkServerIdentity was never consulted');
  if (server.received() !== SECRET) await once(server.events, 'data');
  assert.equal(server.received(), SECRET, 'and the data was sent');
});

// ---------------------------------------------------------------------------------------------
// ws

interface WssServer {
  url: string;
  upgrades(): number;
}

async function wssServer(t: TestContext, identity: TLSIdentity): Promise<WssServer> {
  let upgrades = 0;
  const server = https.createServer(identityTlsOptions(identity));
  server.on('upgrade', () => upgrades++);
  server.on('tlsClientError', () => {});
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}/db/_blipsync`, upgrades: () => upgrades };
}

/**
 * Opens a ws client with the trust options, passed the way the transport's connector does it (a
 * tls-options object spread into the ws options); on success echoes one message and closes.
 */
function wsAttempt(url: string, trust: ServerCertificateTrust): Promise<Outcome> {
  const tlsOptions: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized' | 'checkServerIdentity'> = serverTrustTlsOptions(trust);
  const ws = new WebSocket(url, [], { ...tlsOptions, headers: { Authorization: 'Basic c2VjcmV0' } });
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.send('ping');
      ws.once('message', (data) => {
        assert.equal(data.toString(), 'ping');
        ws.close();
        ws.once('close', () => resolve({ ok: true }));
      });
    });
    ws.once('error', (error) => {
      ws.terminate();
      resolve({ ok: false, error });
    });
  });
}

test('the trust options work with the ws client (wss:// to a ws WebSocketServer on https)', async (t) => {
  const selfSigned = await wssServer(t, ids.selfSigned);
  const caSigned = await wssServer(t, ids.caSigned);

  assertAccepted(await wsAttempt(selfSigned.url, { pinnedServerCertificate: ids.selfSigned.certificateDer }), 'ws pinned');
  assertRefused(await wsAttempt(caSigned.url, { pinnedServerCertificate: ids.selfSigned.certificateDer }), ServerCertificateErrorCode.PinnedMismatch, /pinned/, 'ws pin mismatch');

  assertAccepted(await wsAttempt(selfSigned.url, { acceptOnlySelfSignedServerCertificate: true }), 'ws self-signed-only, self-signed');
  assertRefused(await wsAttempt(caSigned.url, { acceptOnlySelfSignedServerCertificate: true }), ServerCertificateErrorCode.NotSelfSigned, /not self-signed/, 'ws self-signed-only, CA-signed');

  assertAccepted(await wsAttempt(caSigned.url, { trustedRootCertificates: [ids.ca.certificatePem] }), 'ws CA mode');
  assertRefused(await wsAttempt(selfSigned.url, { trustedRootCertificates: [ids.ca.certificatePem] }), ServerCertificateErrorCode.Untrusted, /self-signed/, 'ws CA mode, self-signed');

  assert.equal(selfSigned.upgrades(), 2, 'only the accepted connections reached the HTTP upgrade');
  assert.equal(caSigned.upgrades(), 1);
});
