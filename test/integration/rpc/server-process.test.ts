import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { type MessageConnection, ResponseError } from 'vscode-jsonrpc/node';
import { UsersFile } from '../../../server/listener/users-file';
import * as P from '../../../server/rpc/protocol';
import { fingerprintSha256, pemToDer } from '../../../server/tls';
import { tempDir } from '../../helpers/temp-dir';
import { startRpcServer } from '../../helpers/rpc-server';
import { withTimeout } from '../../helpers/wait';

async function startServer(t: TestContext, dataFolder: string): Promise<MessageConnection> {
  return startRpcServer(t, { dataFolder });
}

function nextNotification<T>(conn: MessageConnection, type: { method: string }, pred: (p: T) => boolean, ms = 10_000): Promise<T> {
  let sub: { dispose(): void } | undefined;
  const seen = new Promise<T>((resolve) => {
    sub = conn.onNotification(type.method, (p: T) => {
      if (pred(p)) resolve(p);
    });
  });
  return withTimeout(seen, `a matching ${type.method} notification`, ms).finally(() => sub?.dispose());
}

test('the server process: databases, documents, stale saves, listener, replication, notifications', async (t) => {
  const conn = await startServer(t, tempDir(t));
  const db = await conn.sendRequest(P.CreateDatabase, { name: 'notes' });
  assert.equal(db.name, 'notes');
  assert.deepEqual(
    db.collections.map((c) => c.name),
    ['_default._default'],
  );
  const ref = { db: 'notes', collection: '_default._default', docId: 'hello' };

  const changed = nextNotification<{ docIds: string[] }>(conn, P.DatabaseChanged, (p) => p.docIds.includes('hello'));
  const saved = await conn.sendRequest(P.SaveDocument, { ...ref, baseRevId: null, body: { text: 'hi' } });
  assert.match(saved.revId, /^1-/);
  await changed;
  const again = await conn.sendRequest(P.SaveDocument, { ...ref, baseRevId: saved.revId, body: { text: 'hi again' } });
  await assert.rejects(conn.sendRequest(P.SaveDocument, { ...ref, baseRevId: saved.revId, body: { text: 'stale' } }), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.equal(e.code, P.RpcErrorCode.conflict);
    assert.deepEqual(e.data, { currentRevId: again.revId });
    return true;
  });
  assert.deepEqual((await conn.sendRequest(P.GetDocument, ref))?.body, { text: 'hi again' });
  const page = await conn.sendRequest(P.ListDocuments, { db: 'notes', collection: '_default._default', limit: 10 });
  assert.equal(page.total, 1);
  await assert.rejects(conn.sendRequest(P.GetDocument, { ...ref, db: 'nope' }), (e: unknown) => e instanceof ResponseError && e.code === P.RpcErrorCode.notFound);

  // A second database in the same server replicates with the first through a listener.
  await conn.sendRequest(P.CreateDatabase, { name: 'phone' });
  const listener = await conn.sendRequest(P.StartListener, { db: 'notes', port: 0, networkInterface: '127.0.0.1', tls: false });
  assert.equal(listener.state, 'listening');
  assert.equal(listener.urls[0], `ws://127.0.0.1:${listener.port}/notes`);
  const idle = nextNotification<P.ReplicatorInfo>(conn, P.ReplicatorStatusChanged, (s) => s.activity === 'idle');
  const rep = await conn.sendRequest(P.StartReplication, { db: 'phone', target: listener.urls[0]!, type: 'pushAndPull', continuous: true });
  assert.equal(rep.target, listener.urls[0]);
  const status = await idle;
  assert.equal(status.completed, 1);
  assert.equal((await conn.sendRequest(P.GetDocument, { ...ref, db: 'phone' }))?.revId, again.revId);

  const list = await conn.sendRequest(P.ListReplications);
  assert.equal(list.length, 1);
  const stopped = await conn.sendRequest(P.StopReplication, { id: rep.id });
  assert.equal(stopped.activity, 'stopped');
  await conn.sendRequest(P.StopListener, { id: listener.id });
  assert.deepEqual(await conn.sendRequest(P.ListListeners), []);
});

test('the server process: TLS identities, listener certificates, a users file and pinned replication', async (t) => {
  const dir = tempDir(t);
  const conn = await startServer(t, join(dir, 'data'));
  const coll = '_default._default';
  await conn.sendRequest(P.CreateDatabase, { name: 'notes' });
  await conn.sendRequest(P.CreateDatabase, { name: 'phone' });
  await conn.sendRequest(P.SaveDocument, { db: 'notes', collection: coll, docId: 'pinned', baseRevId: null, body: { via: 'wss' } });
  const isCode = (code: number) => (e: unknown) => e instanceof ResponseError && e.code === code;

  // createIdentity: a server identity saved in the keystore of notes.
  const before = Date.now();
  const created = await conn.sendRequest(P.CreateIdentity, { db: 'notes', label: 'notes-server', commonName: 'notes.peersync.test', isServer: true, validityDays: 30 });
  assert.equal(created.label, 'notes-server');
  assert.equal(created.subject.commonName, 'notes.peersync.test');
  assert.equal(created.selfSigned, true);
  assert.match(created.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(fingerprintSha256(pemToDer(created.pem)), created.fingerprintSha256);
  const days = (Date.parse(created.notAfter) - before) / 86_400_000;
  assert.ok(days > 29.9 && days < 30.1, `valid for 30 days (${days})`);
  await assert.rejects(conn.sendRequest(P.CreateIdentity, { db: 'notes', label: 'notes-server', commonName: 'x', isServer: true }), isCode(P.RpcErrorCode.exists));
  await assert.rejects(conn.sendRequest(P.CreateIdentity, { db: 'notes', label: 'anonymous-x', commonName: 'x', isServer: true }), isCode(P.RpcErrorCode.invalid));
  await assert.rejects(conn.sendRequest(P.CreateIdentity, { db: 'nope', label: 'x', commonName: 'x', isServer: true }), isCode(P.RpcErrorCode.notFound));
  const other = await conn.sendRequest(P.CreateIdentity, { db: 'notes', label: 'other', commonName: 'other', isServer: true });
  const identities = await conn.sendRequest(P.ListIdentities, { db: 'notes' });
  assert.deepEqual(
    identities.map((i) => [i.label, i.fingerprintSha256, i.anonymous]),
    [
      ['notes-server', created.fingerprintSha256, false],
      ['other', other.fingerprintSha256, false],
    ],
  );
  assert.deepEqual(await conn.sendRequest(P.ListIdentities, { db: 'phone' }), []);

  // A wss:// listener with that identity; its certificate is the identity's.
  const secure = await conn.sendRequest(P.StartListener, { db: 'notes', port: 0, networkInterface: '127.0.0.1', identityLabel: 'notes-server' });
  assert.equal(secure.tls, true);
  assert.equal(secure.urls[0], `wss://127.0.0.1:${secure.port}/notes`);
  assert.equal(secure.certificateFingerprint, created.fingerprintSha256);
  assert.equal(secure.certificateLabel, 'notes-server');
  assert.equal(secure.authentication, 'none');
  const cert = await conn.sendRequest(P.GetListenerCertificate, { id: secure.id });
  assert.equal(cert.fingerprintSha256, created.fingerprintSha256);
  assert.equal(cert.pem, created.pem);
  assert.deepEqual([cert.subject.commonName, cert.notBefore, cert.notAfter, cert.selfSigned], ['notes.peersync.test', created.notBefore, created.notAfter, true]);
  await assert.rejects(conn.sendRequest(P.StartListener, { db: 'notes', port: 0, networkInterface: '127.0.0.1', identityLabel: 'missing' }), isCode(P.RpcErrorCode.notFound));
  await assert.rejects(conn.sendRequest(P.StartListener, { db: 'notes', port: 0, tls: false, identityLabel: 'notes-server' }), isCode(P.RpcErrorCode.invalid));
  await assert.rejects(conn.sendRequest(P.GetListenerCertificate, { id: 'listener-999' }), isCode(P.RpcErrorCode.notFound));

  // A second, ws:// listener that checks passwords against a users file.
  const usersPath = join(dir, 'users.json');
  await new UsersFile(usersPath).add('sam', 's3cret');
  const guarded = await conn.sendRequest(P.StartListener, { db: 'notes', port: 0, networkInterface: '127.0.0.1', tls: false, usersFile: usersPath });
  assert.equal(guarded.authentication, 'password');
  assert.equal(guarded.tls, false);
  await assert.rejects(conn.sendRequest(P.GetListenerCertificate, { id: guarded.id }), isCode(P.RpcErrorCode.invalid));
  await assert.rejects(conn.sendRequest(P.StartListener, { db: 'notes', port: 0, tls: false, usersFile: join(dir, 'missing.json') }), isCode(P.RpcErrorCode.notFound));
  await assert.rejects(conn.sendRequest(P.StartListener, { db: 'notes', port: 0, tls: false, clientCaFile: join(dir, 'ca.pem') }), isCode(P.RpcErrorCode.invalid));

  // The next replicator on `target` to reach idle, stop or fail (replicators removed earlier still send a last status).
  const removed = new Set<string>();
  const settled = (target: string) =>
    nextNotification<P.ReplicatorInfo>(
      conn,
      P.ReplicatorStatusChanged,
      (s) => !removed.has(s.id) && s.target === target && (s.activity === 'idle' || s.activity === 'stopped' || s.error !== undefined),
      20_000,
    );
  const remove = async (id: string): Promise<void> => {
    removed.add(id);
    await conn.sendRequest(P.RemoveReplication, { id });
  };

  // Pinned with the listener's certificate (PEM): reaches idle and pulls the document.
  let done = settled(secure.urls[0]!);
  const pinned = await conn.sendRequest(P.StartReplication, { db: 'phone', target: secure.urls[0]!, type: 'pull', continuous: true, pinnedServerCertificate: cert.pem });
  let status = await done;
  assert.equal(status.activity, 'idle', JSON.stringify(status));
  assert.equal(status.error, undefined);
  assert.deepEqual((await conn.sendRequest(P.GetDocument, { db: 'phone', collection: coll, docId: 'pinned' }))?.body, { via: 'wss' });
  await remove(pinned.id);

  // pinnedServerCertificateFile: the same certificate as a DER file is accepted; another identity's is refused.
  const derFile = join(dir, 'listener.cer');
  writeFileSync(derFile, pemToDer(cert.pem));
  done = settled(secure.urls[0]!);
  const fromFile = await conn.sendRequest(P.StartReplication, { db: 'phone', target: secure.urls[0]!, type: 'pull', continuous: true, pinnedServerCertificateFile: derFile });
  status = await done;
  assert.equal(status.activity, 'idle', JSON.stringify(status));
  await remove(fromFile.id);
  const otherFile = join(dir, 'other.pem');
  writeFileSync(otherFile, other.pem);
  done = settled(secure.urls[0]!);
  const wrong = await conn.sendRequest(P.StartReplication, { db: 'phone', target: secure.urls[0]!, type: 'pull', continuous: true, pinnedServerCertificateFile: otherFile });
  status = await done;
  assert.match(status.error?.message ?? '', /certificate/i, `a different pinned certificate is refused (${JSON.stringify(status)})`);
  await remove(wrong.id);
  await assert.rejects(
    conn.sendRequest(P.StartReplication, { db: 'phone', target: secure.urls[0]!, type: 'pull', continuous: false, pinnedServerCertificateFile: usersPath }),
    isCode(P.RpcErrorCode.invalid),
  );

  // The users-file listener: the right password replicates, a wrong one is refused.
  done = settled(guarded.urls[0]!);
  const withPassword = await conn.sendRequest(P.StartReplication, { db: 'phone', target: guarded.urls[0]!, type: 'pull', continuous: true, username: 'sam', password: 's3cret' });
  status = await done;
  assert.equal(status.activity, 'idle', JSON.stringify(status));
  await remove(withPassword.id);
  done = settled(guarded.urls[0]!);
  const badPassword = await conn.sendRequest(P.StartReplication, { db: 'phone', target: guarded.urls[0]!, type: 'pull', continuous: false, username: 'sam', password: 'nope' });
  status = await done;
  assert.match(status.error?.message ?? '', /401|credentials|password/i, JSON.stringify(status));
  await remove(badPassword.id);

  // Client certificates signed by a CA file: the listener starts (wss://); a replicator without a client certificate is refused.
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, other.pem);
  const certAuth = await conn.sendRequest(P.StartListener, { db: 'notes', port: 0, networkInterface: '127.0.0.1', clientCaFile: caFile });
  assert.equal(certAuth.authentication, 'clientCertificate');
  assert.equal(certAuth.tls, true);
  assert.ok(certAuth.certificateFingerprint, 'served with the anonymous identity');
  assert.equal(certAuth.certificateLabel?.startsWith('anonymous-'), true);
  done = settled(certAuth.urls[0]!);
  const noClientCert = await conn.sendRequest(P.StartReplication, { db: 'phone', target: certAuth.urls[0]!, type: 'pull', continuous: false, acceptOnlySelfSignedServerCertificate: true });
  status = await done;
  assert.match(status.error?.message ?? '', /403|certificate/i, JSON.stringify(status));
  await remove(noClientCert.id);
  await assert.rejects(conn.sendRequest(P.StartListener, { db: 'notes', port: 0, clientCaFile: usersPath }), isCode(P.RpcErrorCode.invalid));
  await assert.rejects(conn.sendRequest(P.StartListener, { db: 'notes', port: 0, clientCaFile: caFile, usersFile: usersPath }), isCode(P.RpcErrorCode.invalid));

  for (const l of [secure, guarded, certAuth]) await conn.sendRequest(P.StopListener, { id: l.id });
  assert.deepEqual(await conn.sendRequest(P.ListListeners), []);
});
