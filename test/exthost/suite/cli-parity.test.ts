/// <reference types="mocha" />
// Commands that match the command line: purge, collections, users files, identity import / export /
// delete, and the advanced listener options.
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { createDb, encode, peersync, tempDir, until, withAnswers } from '../../helpers/exthost';
import { headlessPeer } from '../../helpers/headless-peer';
import { withTimeout } from '../../helpers/wait';

const COLL = '_default._default';

/** The certificate (DER) a TLS server on loopback presents. */
function peerCertificate(port: number): Promise<Buffer> {
  const handshake = new Promise<Buffer>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(raw);
    });
    socket.once('error', reject);
  });
  return withTimeout(handshake, 'the TLS handshake with the headless peer', 10_000);
}

suite('PeerSync: commands that match the command line', () => {
  test('Purge Document asks first (modal), then removes the document and its history', async () => {
    const api = await peersync();
    const db = await createDb('purge');
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/doomed.json` }), encode('{"n":1}'));
    const ref = { db, collection: COLL, docId: 'doomed' };
    const declined = await withAnswers(api, { warning: () => undefined }, () => vscode.commands.executeCommand<boolean>('peersync.purgeDocument', ref));
    assert.equal(declined, false);
    assert.ok(await api.request(P.GetDocument, ref), 'a declined purge leaves the document');
    const purged = await withAnswers(api, { warning: (m) => (m.startsWith('Purge “doomed”') ? 'Purge' : undefined) }, () => vscode.commands.executeCommand<boolean>('peersync.purgeDocument', ref));
    assert.equal(purged, true);
    assert.equal(await api.request(P.GetDocument, ref), null);
    assert.equal(await api.request(P.GetRevisionTree, ref), null);
  });

  test('Create Collection adds it, and the Databases view shows it', async () => {
    const api = await peersync();
    const db = await createDb('coll');
    const summary = await withAnswers(api, { input: { 'Create Collection: name': 'shop.items' } }, () => vscode.commands.executeCommand<P.DatabaseSummary>('peersync.createCollection', db));
    assert.ok(summary?.collections.some((c) => c.name === 'shop.items'));
    await until(
      async () => {
        const dbNode = (await api.views.databases.getChildren()).find((n) => n.label === db);
        return dbNode && (await api.views.databases.getChildren(dbNode)).some((n) => n.label === 'shop.items');
      },
      [api.views.databases.onDidRefresh],
      'the Databases view to show the new collection',
    );
  });

  test('users files: add (creating the file), list, remove', async () => {
    const api = await peersync();
    const file = join(tempDir(), 'users.json');
    const first = await withAnswers(
      api,
      { quickPick: { 'Add User: users file': 'New users file…' }, saveDialog: vscode.Uri.file(file), input: { 'Add User: name': 'ann', 'Add User: password': 'pw-ann' } },
      () => vscode.commands.executeCommand<string[]>('peersync.addUser'),
    );
    assert.deepEqual(first, ['ann']);
    assert.ok(existsSync(file));
    await withAnswers(api, { input: { 'Add User: name': 'bob', 'Add User: password': 'pw-bob' } }, () => vscode.commands.executeCommand('peersync.addUser', file));
    const listed = await withAnswers(api, { openDialog: [vscode.Uri.file(file)] }, () => vscode.commands.executeCommand<string[]>('peersync.listUsers'));
    assert.deepEqual([...listed].sort(), ['ann', 'bob']);
    const left = await withAnswers(api, { quickPick: { 'Remove User: user': 'ann' } }, () => vscode.commands.executeCommand<string[]>('peersync.removeUser', file));
    assert.deepEqual(left, ['bob']);
  });

  test('TLS identities: export as PKCS#12, import it under another label, delete it', async () => {
    const api = await peersync();
    const db = await createDb('ids');
    const created = await api.request(P.CreateIdentity, { db, label: 'server-a', commonName: 'localhost', isServer: true });
    const p12 = join(tempDir(), 'server-a.p12');
    const exported = await withAnswers(
      api,
      { quickPick: { 'Export TLS Identity: identity': 'server-a', 'Export TLS Identity: format': 'PKCS#12' }, input: { 'Export TLS Identity: password': 'secret' }, saveDialog: vscode.Uri.file(p12) },
      () => vscode.commands.executeCommand<string>('peersync.exportIdentity', db),
    );
    assert.equal(exported, p12);
    assert.ok(existsSync(p12));

    const label = await withAnswers(api, { openDialog: [vscode.Uri.file(p12)], input: { 'Import TLS Identity: password': 'secret', 'Import TLS Identity: label': 'server-b' } }, () =>
      vscode.commands.executeCommand<string>('peersync.importIdentity', db),
    );
    assert.equal(label, 'server-b');
    const identities = await api.request(P.ListIdentities, { db });
    assert.equal(identities.find((i) => i.label === 'server-b')?.fingerprintSha256, created.fingerprintSha256);

    const deleted = await withAnswers(api, { quickPick: { 'Delete TLS Identity: identity': 'server-b' }, warning: (m) => (m.includes('“server-b”') ? 'Delete' : undefined) }, () =>
      vscode.commands.executeCommand<boolean>('peersync.deleteIdentity', db),
    );
    assert.equal(deleted, true);
    assert.deepEqual(
      (await api.request(P.ListIdentities, { db })).map((i) => i.label),
      ['server-a'],
    );
  });

  test('Start Listener (Advanced) asks for the connection limits', async () => {
    const api = await peersync();
    const db = await createDb('limits');
    const { info, prompts } = await withAnswers(
      api,
      {
        quickPick: { 'Start Listener: network interface': '127.0.0.1', 'Start Listener: access': 'Read-only', 'Start Listener: TLS': 'No TLS (ws://)', 'Start Listener: authentication': 'None' },
        input: {
          'Start Listener: port': '0',
          'Start Listener: maximum connections': '4',
          'Start Listener: maximum connections per address': '2',
          'Start Listener: idle timeout (seconds)': '',
        },
      },
      async (p) => ({ info: await vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListenerAdvanced', db), prompts: p }),
    );
    assert.ok(info, 'the listener started');
    try {
      assert.equal(info.readOnly, true);
      assert.deepEqual(
        prompts.filter((p) => p.kind === 'input').map((p) => p.text),
        ['Start Listener: port', 'Start Listener: maximum connections', 'Start Listener: maximum connections per address', 'Start Listener: idle timeout (seconds)'],
      );
    } finally {
      await api.request(P.StopListener, { id: info.id });
    }
  });

  test('Start Replication (Advanced): only the listed documents, from a peer whose certificate file is pinned; the pin is kept with the peer', async () => {
    const api = await peersync();
    const remote = await headlessPeer(5, undefined, true);
    const ids: string[] = [];
    try {
      const der = await peerCertificate(Number(new URL(remote.url).port));
      const certFile = join(tempDir(), 'peer.cer');
      writeFileSync(certFile, der);
      const db = await createDb('pinned');
      const base = {
        'Start Replication: local database': db,
        'Start Replication: direction': 'Pull',
        'Start Replication: mode': 'One-shot',
        'Start Replication: conflicts': 'Default',
        'Start Replication: authentication': 'None',
      };
      const first = await withAnswers(
        api,
        {
          quickPick: { ...base, 'Start Replication: server certificate': 'Pin a certificate file…' },
          openDialog: [vscode.Uri.file(certFile)],
          input: { 'Start Replication: document IDs': 'r-001, r-003', 'Start Replication: maximum attempts': '' },
        },
        () => vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplicationAdvanced', remote.url),
      );
      assert.ok(first);
      ids.push(first.id);
      assert.equal(first.error, undefined);
      assert.equal(first.persisted, false, 'a one-shot run is not saved');
      assert.deepEqual(
        (await api.request(P.ListDocuments, { db, collection: COLL, limit: 10 })).docs.map((d) => d.id),
        ['r-001', 'r-003'],
      );
      const peer = (await api.request(P.ListPeers)).find((p) => p.url === remote.url);
      assert.equal(peer?.pinnedFingerprint, new X509Certificate(der).fingerprint256);

      // Next time the pinned certificate is offered, and is enough.
      const again = await withAnswers(api, { quickPick: { ...base, 'Start Replication: server certificate': 'The certificate pinned for this peer' } }, () =>
        vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', remote.url),
      );
      assert.ok(again);
      ids.push(again.id);
      assert.equal(again.error, undefined);
      assert.equal((await api.request(P.ListDocuments, { db, collection: COLL, limit: 10 })).total, 5);
    } finally {
      for (const id of ids) await api.request(P.RemoveReplication, { id }).catch(() => undefined);
      await api.request(P.RemovePeer, { url: remote.url }).catch(() => undefined);
      await remote.stop();
    }
  });
});
