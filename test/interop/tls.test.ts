import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/temp-dir';
import { cbliteGet, makeCbliteDb, runCblite } from './harness/cblite';
import { interopTest } from './harness/interop-test';
import { makePeersyncDb, peersyncGet } from './harness/peersync';
import { issue } from './harness/pki';
import { startServe } from '../helpers/serve';

/**
 * A listener identity whose certificate names DNS:localhost (the default SANs of `identity
 * create`), exported for cblite's --cacert: this cblite checks DNS names only, never IP SANs.
 */
function listenerIdentity(db: string, dir: string): string {
  const created = cli(['identity', 'create', 'listener', '--db', db]);
  assert.equal(created.status, 0, created.stderr);
  const pem = join(dir, 'listener.pem');
  const exported = cli(['identity', 'export', 'listener', pem, '--db', db]);
  assert.equal(exported.status, 0, exported.stderr);
  return pem;
}

interopTest('wss: cblite trusts the listener with --cacert and reaches it by the name localhost', async (t) => {
  const dir = tempDir(t);
  const shop = makePeersyncDb(join(dir, 'shop'), { secret: { over: 'tls' } });
  const listenerPem = listenerIdentity(shop, dir);
  const serve = await startServe(t, shop, { tls: true, args: ['--identity', 'listener'] });
  assert.match(serve.url, /^wss:\/\/localhost:\d+\/shop$/);

  const phone = await makeCbliteDb(dir, 'phone', { reply: { over: 'tls too' } });
  const untrusted = await runCblite(['pull', phone, serve.url]);
  assert.notEqual(untrusted.code, 0, `without --cacert the self-signed listener must not be trusted:\n${untrusted.output}`);
  assert.equal(await cbliteGet(phone, 'secret'), undefined);

  const ok = await runCblite(['cp', '--bidi', '--cacert', listenerPem, phone, serve.url]);
  assert.equal(ok.code, 0, ok.output);
  assert.deepEqual(await cbliteGet(phone, 'secret'), { over: 'tls' });
  assert.equal(await serve.stop(), 0);
  assert.deepEqual(peersyncGet(shop, 'reply')?.body, { over: 'tls too' });
});

interopTest('client certificates: serve --client-ca accepts a leaf of its root and refuses forged chains', async (t) => {
  const dir = tempDir(t);
  const root = issue({ commonName: 'Interop Root CA', ca: true });
  const client = issue({ commonName: 'phone', issuer: root, clientAuth: true });
  // Signed by another key while claiming the root's name: only the signature can tell.
  const impostorKey = issue({ commonName: 'Interop Root CA', ca: true });
  const forged = issue({ commonName: 'forged phone', issuer: impostorKey, claimedIssuerName: root.cert.subject.attributes, clientAuth: true });
  // A real leaf of the root, but not allowed to sign (CA:FALSE), used as an intermediate.
  const notCA = issue({ commonName: 'not a CA', issuer: root, clientAuth: true });
  const underNotCA = issue({ commonName: 'phone under a leaf', issuer: notCA, clientAuth: true });
  const write = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const roots = write('roots.pem', root.certPem);

  const shop = makePeersyncDb(join(dir, 'shop'), { ledger: { balance: 10 } });
  const listenerPem = listenerIdentity(shop, dir);
  const serve = await startServe(t, shop, { tls: true, args: ['--identity', 'listener', '--client-ca', roots] });

  const attempt = async (name: string, certPem: string, keyDer: Buffer): Promise<{ db: string; code: number | null; output: string }> => {
    const db = await makeCbliteDb(dir, name, { [`from-${name}`]: { by: name } });
    const r = await runCblite(['cp', '--bidi', '--cert', write(`${name}.pem`, certPem), '--key', write(`${name}.der`, keyDer), '--cacert', listenerPem, db, serve.url]);
    // A refusal must come from the listener, not from cblite failing to load its own key.
    assert.doesNotMatch(r.output, /mbedtls_pk_parse_key|configuring TLS client certificate/, r.output);
    return { db, code: r.code, output: r.output };
  };

  const forgedRun = await attempt('forged', forged.certPem, forged.keyDer);
  assert.notEqual(forgedRun.code, 0, `a leaf signed by another key claiming the root's name must be refused:\n${forgedRun.output}`);
  assert.equal(await cbliteGet(forgedRun.db, 'ledger'), undefined);

  const chainRun = await attempt('undernotca', underNotCA.certPem + notCA.certPem, underNotCA.keyDer);
  assert.notEqual(chainRun.code, 0, `a chain through a CA:FALSE certificate must be refused:\n${chainRun.output}`);
  assert.equal(await cbliteGet(chainRun.db, 'ledger'), undefined);

  const noCert = await makeCbliteDb(dir, 'nocert', { 'from-nocert': { by: 'nobody' } });
  const noCertRun = await runCblite(['cp', '--bidi', '--cacert', listenerPem, noCert, serve.url]);
  assert.notEqual(noCertRun.code, 0, `no client certificate must be refused:\n${noCertRun.output}`);

  // Each refusal is reported with the client's address, never silent. A missing certificate or a
  // chain OpenSSL rejects after the handshake is a 403; a forged signature ends this TLS 1.2
  // client's handshake instead (OpenSSL fails it on its next read), which is logged as a TLS error.
  for (const run of [chainRun, { output: noCertRun.output }]) assert.match(run.output, /403|Forbidden/, run.output);
  assert.match(forgedRun.output, /403|Forbidden|EOF|reset/i, forgedRun.output);
  // The no-certificate and CA:FALSE attempts are 403s; the forged one is a 403 or a failed
  // handshake, which OpenSSL may report more than once for one connection.
  const refused = (serve.stderr().match(/refused 127\.0\.0\.1: 403/g) ?? []).length;
  const tlsErrors = (serve.stderr().match(/TLS error with 127\.0\.0\.1/g) ?? []).length;
  assert.ok(refused >= 2 && refused + Math.min(tlsErrors, 1) >= 3, serve.stderr());

  const good = await attempt('phone', client.certPem, client.keyDer);
  assert.equal(good.code, 0, good.output);
  assert.deepEqual(await cbliteGet(good.db, 'ledger'), { balance: 10 });
  assert.equal(await serve.stop(), 0);

  assert.deepEqual(peersyncGet(shop, 'from-phone')?.body, { by: 'phone' });
  for (const refused of ['from-forged', 'from-undernotca', 'from-nocert']) assert.equal(peersyncGet(shop, refused), undefined, `${refused} must not reach the listener`);
});

interopTest('client certificates: an intermediate as --client-ca, a forged leaf with the real intermediate appended, and a server-only certificate', async (t) => {
  const dir = tempDir(t);
  const root = issue({ commonName: 'Interop Root CA', ca: true });
  const inter = issue({ commonName: 'Interop Issuing CA', ca: true, issuer: root });
  const client = issue({ commonName: 'phone', issuer: inter, clientAuth: true });
  const attacker = issue({ commonName: 'Attacker', ca: true });
  const forged = issue({ commonName: 'admin', issuer: attacker, claimedIssuerName: inter.cert.subject.attributes, clientAuth: true });
  const serverOnly = issue({ commonName: 'web', issuer: inter, serverAuth: true });
  const write = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const shop = makePeersyncDb(join(dir, 'shop'), { ledger: { balance: 10 } });
  const listenerPem = listenerIdentity(shop, dir);
  const serve = await startServe(t, shop, { tls: true, args: ['--identity', 'listener', '--client-ca', write('inter.pem', inter.certPem)] });
  const attempt = async (name: string, certPem: string, keyDer: Buffer): Promise<{ db: string; code: number | null; output: string }> => {
    const db = await makeCbliteDb(dir, name, { [`from-${name}`]: { by: name } });
    const r = await runCblite(['cp', '--bidi', '--cert', write(`${name}.pem`, certPem), '--key', write(`${name}.der`, keyDer), '--cacert', listenerPem, db, serve.url]);
    assert.doesNotMatch(r.output, /mbedtls_pk_parse_key|configuring TLS client certificate/, r.output);
    return { db, code: r.code, output: r.output };
  };

  const forgedRun = await attempt('forged', forged.certPem + inter.certPem, forged.keyDer);
  assert.notEqual(forgedRun.code, 0, `a leaf signed by another key must be refused even with the real intermediate appended:\n${forgedRun.output}`);
  assert.equal(await cbliteGet(forgedRun.db, 'ledger'), undefined);
  // The TLS 1.2 handshake checks the appended link itself and fails; the listener reports it.
  assert.match(serve.stderr(), /TLS error with 127\.0\.0\.1|refused 127\.0\.0\.1: 403/, serve.stderr());

  const serverRun = await attempt('web', serverOnly.certPem + inter.certPem, serverOnly.keyDer);
  assert.notEqual(serverRun.code, 0, `a serverAuth-only certificate must be refused:\n${serverRun.output}`);
  assert.match(serverRun.output, /403|Forbidden/, serverRun.output);
  assert.match(serve.stderr(), /refused 127\.0\.0\.1: 403 client certificate refused: .*\(INVALID_PURPOSE\)/, serve.stderr());

  const good = await attempt('phone', client.certPem, client.keyDer);
  assert.equal(good.code, 0, good.output);
  assert.deepEqual(await cbliteGet(good.db, 'ledger'), { balance: 10 });
  assert.equal(await serve.stop(), 0);
  for (const refused of ['from-forged', 'from-web']) assert.equal(peersyncGet(shop, refused), undefined, `${refused} must not reach the listener`);
});
