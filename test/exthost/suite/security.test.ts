/// <reference types="mocha" />
// TLS identities, listener certificates and listener authentication, driven through the commands
// with the prompts answered by the `ui` hooks: Create TLS Identity, Start Listener with that
// identity, Show Listener Certificate (Copy Fingerprint / Save Certificate…), a replication that
// pins the saved certificate, and a listener that checks passwords against a users file.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { cli, createDb, encode, nextEvent, peersync, tempDir, until, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

suite('PeerSync: security (TLS identities, listener certificates, authentication)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  teardown(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Create TLS Identity, Start Listener with it; Show Listener Certificate has the fingerprint ListListeners reports; a replication pins the saved certificate', async () => {
    const api = await peersync();
    const db = await createDb('secure');
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/secret.json` }), encode('{"over":"wss"}'));

    // Create TLS Identity
    const label = `${db}-server`;
    const created = await withAnswers(
      api,
      {
        quickPick: { 'Create TLS Identity: database': db, 'Create TLS Identity: kind': 'Server' },
        input: { 'Create TLS Identity: label': label, 'Create TLS Identity: common name': 'vscode.peersync.test', 'Create TLS Identity: validity (days)': '30' },
      },
      async (prompts) => ({ identity: await vscode.commands.executeCommand<(P.CertificateInfo & { label: string }) | undefined>('peersync.createIdentity'), prompts }),
    );
    const identity = created.identity;
    assert.ok(identity, 'Create TLS Identity returned the identity');
    assert.equal(identity.label, label);
    assert.equal(identity.subject.commonName, 'vscode.peersync.test');
    assert.match(identity.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(
      created.prompts.some((p) => p.kind === 'info' && p.text.includes(identity.fingerprintSha256)),
      'the fingerprint is shown',
    );
    const stored = await api.request(P.ListIdentities, { db });
    assert.ok(
      stored.some((i) => i.label === label && i.fingerprintSha256 === identity.fingerprintSha256 && !i.anonymous),
      `the keystore lists it (${JSON.stringify(stored)})`,
    );

    // Start Listener: wss:// with the identity from the keystore
    const startAnswers = {
      quickPick: {
        'Start Listener: database': db,
        'Start Listener: network interface': '127.0.0.1',
        'Start Listener: access': 'Read-write',
        'Start Listener: TLS': 'TLS (wss://) with an identity from the keystore…',
        'Start Listener: identity': label,
        'Start Listener: authentication': 'None',
      },
      input: { 'Start Listener: port': '0' },
    };
    const started = await withAnswers(api, startAnswers, async (prompts) => ({ info: await vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListener'), prompts }));
    const info = started.info;
    assert.ok(info, 'Start Listener returned the listener');
    cleanups.push(async () => void (await api.request(P.StopListener, { id: info.id }).catch(() => undefined)));
    assert.deepEqual(started.prompts.find((p) => p.text === 'Start Listener: identity')?.items, [label, '$(add) Create TLS Identity…'], 'the anonymous identity is not offered');
    assert.equal(info.tls, true);
    assert.equal(info.certificateFingerprint, identity.fingerprintSha256);
    const url = info.urls[0]!;
    assert.equal(url, `wss://127.0.0.1:${info.port}/${db}`);
    const listed = (await api.request(P.ListListeners)).find((l) => l.id === info.id);
    assert.ok(listed?.certificateFingerprint);

    // Show Listener Certificate (quick pick), Copy Fingerprint
    const shown = await withAnswers(
      api,
      { quickPick: { 'Show Listener Certificate: listener': `${db} :${info.port}` }, info: (_m, items) => (items.includes('Copy Fingerprint') ? 'Copy Fingerprint' : undefined) },
      async (prompts) => ({ cert: await vscode.commands.executeCommand<P.CertificateInfo | undefined>('peersync.showListenerCertificate'), prompts }),
    );
    assert.ok(shown.cert);
    assert.equal(shown.cert.fingerprintSha256, listed.certificateFingerprint);
    assert.equal(shown.cert.subject.commonName, 'vscode.peersync.test');
    assert.equal(shown.cert.notAfter, identity.notAfter);
    assert.deepEqual(
      shown.prompts.filter((p) => p.kind === 'clipboard').map((p) => p.text),
      [listed.certificateFingerprint],
    );
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.scheme, 'peersync-cert');
    const text = editor.document.getText();
    assert.ok(text.includes(listed.certificateFingerprint), 'the document shows the fingerprint');
    assert.match(text, /Subject CN:\s+vscode\.peersync\.test/);
    assert.ok(text.includes(shown.cert.pem.trim()), 'the document holds the PEM');

    // From the Peers view's listener item (the context menu): Save Certificate… as DER
    const groups = await api.views.peers.getChildren();
    const node = (await api.views.peers.getChildren(groups.find((g) => g.label === 'This peer'))).find((n) => n.label === `${db} :${info.port}`);
    assert.ok(node, 'the Peers view lists the listener');
    assert.equal(node.contextValue, 'listener');
    const derPath = join(tempDir(), 'listener.cer');
    await withAnswers(
      api,
      { quickPick: { 'Save Certificate: format': 'DER' }, saveDialog: vscode.Uri.file(derPath), info: (_m, items) => (items.includes('Save Certificate…') ? 'Save Certificate…' : undefined) },
      () => vscode.commands.executeCommand('peersync.showListenerCertificate', node),
    );
    assert.equal(fingerprintOf(readFileSync(derPath)), listed.certificateFingerprint, 'the saved DER file is the listener certificate');

    // Start Replication to the wss:// URL, pinning the saved certificate file
    const local = await createDb('pinning');
    const idle = nextEvent(api.events.onReplicatorStatus, (r) => r.target === url && r.db === local && (r.activity === 'idle' || r.error !== undefined), 'the pinned replication to catch up');
    const replicate = await withAnswers(
      api,
      {
        quickPick: {
          'Start Replication: peer': url,
          'Start Replication: local database': local,
          'Start Replication: direction': 'Pull',
          'Start Replication: mode': 'Continuous',
          'Start Replication: conflicts': 'Default',
          'Start Replication: authentication': 'None',
          'Start Replication: server certificate': 'Pin a certificate file…',
        },
        openDialog: [vscode.Uri.file(derPath)],
      },
      async (prompts) => ({ rep: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication'), prompts }),
    );
    assert.ok(replicate.rep);
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: replicate.rep.id }).catch(() => undefined)));
    assert.ok(replicate.prompts.some((p) => p.kind === 'open' && p.text === 'Start Replication: pinned certificate'));
    const status = await idle;
    assert.equal(status.error, undefined, JSON.stringify(status));
    assert.deepEqual((await api.request(P.GetDocument, { db: local, collection: COLL, docId: 'secret' }))?.body, { over: 'wss' });
  });

  test('Start Listener with a users file requires passwords; Show Listener Certificate on a ws:// listener says there is none', async () => {
    const api = await peersync();
    const db = await createDb('guarded');
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/guarded.json` }), encode('{"ok":true}'));
    const users = join(tempDir(), 'users.json');
    const added = await cli(['users', 'add', 'sam', '--file', users, '--password-env', 'PEERSYNC_TEST_PW'], { PEERSYNC_TEST_PW: 's3cret' });
    assert.equal(added.code, 0, added.stderr);

    const answers = {
      quickPick: {
        'Start Listener: database': db,
        'Start Listener: network interface': '127.0.0.1',
        'Start Listener: access': 'Read-only',
        'Start Listener: TLS': 'No TLS (ws://)',
        'Start Listener: authentication': 'Users file…',
      },
      input: { 'Start Listener: port': '0' },
      openDialog: [vscode.Uri.file(users)],
    };
    const started = await withAnswers(api, answers, async (prompts) => ({ info: await vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListener'), prompts }));
    const info = started.info;
    assert.ok(info);
    cleanups.push(async () => void (await api.request(P.StopListener, { id: info.id }).catch(() => undefined)));
    assert.equal(info.authentication, 'password');
    assert.equal(info.tls, false);
    assert.deepEqual(started.prompts.find((p) => p.text === 'Start Listener: authentication')?.items, ['None', 'Users file…'], 'no client certificates without TLS');
    assert.ok(
      started.prompts.some((p) => p.kind === 'warning' && /passwords unencrypted over ws:\/\//.test(p.text)),
      'the person who chose passwords over ws:// is told, not only the log',
    );
    const node = await until(
      async () => {
        const groups = await api.views.peers.getChildren();
        return (await api.views.peers.getChildren(groups.find((g) => g.label === 'This peer'))).find((n) => n.label === `${db} :${info.port}`);
      },
      [api.views.peers.onDidRefresh],
      'the Peers view to list the listener',
      10_000,
      200,
    );
    assert.equal(node.description, '0 connections · TLS off · passwords · read-only');

    // No certificate on ws://
    const none = await withAnswers(api, {}, async (prompts) => ({ cert: await vscode.commands.executeCommand('peersync.showListenerCertificate', info.id), prompts }));
    assert.equal(none.cert, undefined);
    assert.ok(none.prompts.some((p) => p.kind === 'info' && /plain ws:\/\/ and has no certificate/.test(p.text)));

    // Without credentials a pull is refused; with them it succeeds.
    const local = await createDb('guest');
    const url = info.urls[0]!;
    const settle = (not?: string) => nextEvent(api.events.onReplicatorStatus, (r) => r.target === url && r.db === local && r.id !== not && r.activity === 'stopped', 'a one-shot pull to stop');
    let stopped = settle();
    const anonymous = await api.request(P.StartReplication, { db: local, target: url, type: 'pull', continuous: false });
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: anonymous.id }).catch(() => undefined)));
    assert.ok((await stopped).error, 'refused without credentials');
    await api.request(P.RemoveReplication, { id: anonymous.id });
    stopped = settle(anonymous.id);
    const withPassword = await api.request(P.StartReplication, { db: local, target: url, type: 'pull', continuous: false, username: 'sam', password: 's3cret' });
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: withPassword.id }).catch(() => undefined)));
    const done = await stopped;
    assert.equal(done.error, undefined, JSON.stringify(done));
    assert.deepEqual((await api.request(P.GetDocument, { db: local, collection: COLL, docId: 'guarded' }))?.body, { ok: true });
  });
});
