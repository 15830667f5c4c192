/// <reference types="mocha" />
// The Start Replication wizard (steps, Back, a pasted URL), Start Listener's port proposal, Edit
// Replication…, and errors a person can act on (wrong scheme, a peer leaving, a restart under an open tab).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { BACK_ANSWER, cli, createDb, encode, extensionPath, KEEP_ANSWER, nextEvent, peersync, tempDir, until, withAnswers } from '../../helpers/exthost';
import { headlessPeer } from '../../helpers/headless-peer';

const COLL = '_default._default';

/** A loopback port held open by this test (so PeerSync finds it taken). */
function holdPort(port = 0): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: Server): number => (server.address() as { port: number }).port;
const close = (server: Server | undefined): Promise<void> => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));

suite('PeerSync: wizard, editing and actionable errors', () => {
  const cleanups: (() => Promise<void>)[] = [];
  teardown(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  test('Start Replication: numbered steps, Back keeps the answers, a pasted URL is used, this peer’s own listener is not offered', async () => {
    const api = await peersync();
    const db = await createDb('wizard');
    await createDb('wizardother'); // two databases: the wizard asks which one
    const own = await api.request(P.StartListener, { db, port: 0, networkInterface: '127.0.0.1', tls: false, persist: false });
    cleanups.push(async () => void (await api.request(P.StopListener, { id: own.id })));
    const remote = await headlessPeer(3);
    cleanups.push(remote.stop);

    const { info, prompts } = await withAnswers(
      api,
      {
        quickPick: {
          'Start Replication: peer': remote.url, // not in the list: typed (pasted) into the picker
          'Start Replication: local database': db,
          'Start Replication: direction': ['Pull', KEEP_ANSWER],
          'Start Replication: conflicts': 'Default',
          'Start Replication: mode': [BACK_ANSWER, 'One-shot'],
          'Start Replication: authentication': 'None',
        },
      },
      async (p) => ({ info: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication'), prompts: p }),
    );
    assert.ok(info, 'the replication ran');
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: info.id })));
    assert.equal(info.target, remote.url, 'the pasted URL is the target');
    assert.equal(info.type, 'pull', 'the direction answered before going back is kept');
    assert.equal(info.completed, 3);

    const peerPick = prompts.find((p) => p.text === 'Start Replication: peer');
    assert.ok(peerPick);
    assert.ok(!peerPick.items.some((i) => own.urls.includes(i)), `own listener not offered (items: ${peerPick.items.join(' | ')})`);
    const steps = prompts.filter((p) => p.kind === 'quickPick' && p.step !== undefined).map((p) => `${p.text.replace('Start Replication: ', '')} ${p.step ?? ''}`);
    assert.deepEqual(steps, ['peer 1/5', 'local database 2/5', 'direction 3/5', 'mode 4/5', 'direction 3/5', 'mode 4/5', 'authentication 5/5']);
    const again = prompts.filter((p) => p.text === 'Start Replication: direction');
    assert.equal(again[1]?.active, 'Pull', 'going back shows the earlier answer');
  });

  test('a wizard step in the real workbench: Back reports back, Enter takes the earlier answer', async () => {
    const api = await peersync();
    const items = [{ label: 'Push and pull' }, { label: 'Push' }, { label: 'Pull' }];
    const back = api.ui.showStepQuickPick(items, { title: 'Wizard step: back', step: 2, totalSteps: 3 });
    await vscode.commands.executeCommand('workbench.action.quickInputBack');
    assert.equal(await back, vscode.QuickInputButtons.Back);
    const kept = api.ui.showStepQuickPick(items, { title: 'Wizard step: keep', step: 2, totalSteps: 3, active: items[2]! });
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await kept, items[2]);
  });

  test('Start Listener proposes a free port when the default is taken, and asks for the port alone when the chosen one is taken', async () => {
    const api = await peersync();
    const db = await createDb('ports');
    const preferred = vscode.workspace.getConfiguration('peersync').get<number>('defaultPort', 4984);
    const heldDefault = await holdPort(preferred); // undefined: something else holds it already
    const heldOther = (await holdPort())!;
    cleanups.push(
      () => close(heldDefault),
      () => close(heldOther),
    );

    const { info, prompts } = await withAnswers(
      api,
      {
        quickPick: { 'Start Listener: network interface': '127.0.0.1', 'Start Listener: access': 'Read-write', 'Start Listener: TLS': 'No TLS (ws://)', 'Start Listener: authentication': 'None' },
        input: { 'Start Listener: port': [String(portOf(heldOther)), KEEP_ANSWER] },
      },
      async (p) => ({ info: await vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListener', db), prompts: p }),
    );
    assert.ok(info, 'the listener started');
    cleanups.push(async () => void (await api.request(P.StopListener, { id: info.id })));
    const ports = prompts.filter((p) => p.text === 'Start Listener: port');
    assert.equal(ports.length, 2, 'asked for the port again');
    assert.notEqual(ports[0]!.value, String(preferred), 'the first proposal is not the taken default');
    assert.notEqual(ports[1]!.value, String(portOf(heldOther)));
    assert.equal(String(info.port), ports[1]!.value, 'the listener took the proposed free port');
    assert.equal(prompts.filter((p) => p.kind === 'quickPick').length, 4, 'the other answers were not asked again');
    const notices = prompts.filter((p) => p.kind === 'info' || p.kind === 'error').map((p) => p.text);
    assert.ok(
      notices.every((t) => !/PeerSync:\s*PeerSync:/.test(t)),
      notices.join(' / '),
    );
  });

  test('Edit Replication…: target, direction and document IDs change in place and show in the view', async () => {
    const api = await peersync();
    const db = await createDb('edited');
    const first = await headlessPeer(5);
    const second = await headlessPeer(5);
    cleanups.push(first.stop, second.stop);
    // Push from an empty database: nothing arrives until the edit makes it pull.
    const info = await api.request(P.StartReplication, { db, target: first.url, type: 'push', continuous: true, persist: false });
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: info.id })));
    const node = await until(
      async () => (await api.views.replications.getChildren()).find((n) => n.id === `replicator:${info.id}`),
      [api.views.replications.onDidRefresh],
      'the replication in the view',
    );

    const { updated, prompts } = await withAnswers(
      api,
      {
        quickPick: { 'Edit Replication': ['Target', 'Direction', 'Document IDs', '$(check) Save changes'], 'Edit Replication: direction': 'Pull' },
        input: { 'Edit Replication: target': second.url, 'Edit Replication: document IDs': 'r-001, r-003' },
      },
      async (p) => ({ updated: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.editReplication', node), prompts: p }),
    );
    assert.ok(updated, JSON.stringify(prompts.filter((p) => p.kind === 'error')));
    assert.equal(updated.id, info.id, 'edited in place');
    assert.equal(updated.target, second.url);
    assert.equal(updated.type, 'pull');
    assert.deepEqual(updated.params?.documentIds, ['r-001', 'r-003']);
    const menu = prompts.find((p) => p.text === 'Edit Replication');
    assert.deepEqual(menu?.items.slice(0, 3), [`Target: ${first.url}`, 'Direction: push', 'Mode: continuous'], 'the menu shows the current values');
    const edited = await until(
      async () => (await api.views.replications.getChildren()).find((n) => n.id === `replicator:${info.id}` && n.label === second.url && /· pull ·/.test(String(n.description))),
      [api.views.replications.onDidRefresh],
      'the view to show the new settings',
    );
    const details = await api.views.replications.getChildren(edited);
    assert.equal(details.find((d) => d.label === 'Documents')?.description, 'r-001, r-003');
    // Only the two documents arrive from the new target.
    await until(async () => (await api.request(P.ListDocuments, { db, collection: COLL, limit: 10 })).total === 2 || undefined, [api.events.onDatabaseChanged], 'the two documents', 20_000, 200);
  });

  test('Edit Replication…: a field filter is set as "field: values" and cleared by leaving it empty', async () => {
    const api = await peersync();
    const db = await createDb('filtered');
    const info = await api.request(P.StartReplication, { db, target: 'ws://127.0.0.1:9/nowhere', type: 'pull', continuous: true, persist: false, paused: true });
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: info.id })));
    const node = await until(
      async () => (await api.views.replications.getChildren()).find((n) => n.id === `replicator:${info.id}`),
      [api.views.replications.onDidRefresh],
      'the replication in the view',
    );
    const set = await withAnswers(api, { quickPick: { 'Edit Replication': ['Field filter', '$(check) Save changes'] }, input: { 'Edit Replication: field filter': 'channel: kitchen, garden' } }, () =>
      vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.editReplication', node),
    );
    assert.deepEqual([set?.params?.filterField, set?.params?.filterValues], ['channel', ['kitchen', 'garden']]);
    const { cleared, prompts } = await withAnswers(
      api,
      { quickPick: { 'Edit Replication': ['Field filter', '$(check) Save changes'] }, input: { 'Edit Replication: field filter': '' } },
      async (p) => ({ cleared: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.editReplication', node), prompts: p }),
    );
    assert.ok(prompts.find((p) => p.text === 'Edit Replication')?.items.includes('Field filter: channel: kitchen, garden'), 'the menu shows the filter');
    assert.equal(cleared?.params?.filterField, undefined);
  });

  test('Edit Replication…: a new wss:// target asks how to trust its certificate, and then replicates', async () => {
    const api = await peersync();
    const served = await createDb('wssserved');
    const local = await createDb('wssedited');
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${served}/${COLL}/over-tls.json` }), encode('{"tls":true}'));
    const listener = await api.request(P.StartListener, { db: served, port: 0, networkInterface: '127.0.0.1', persist: false });
    cleanups.push(async () => void (await api.request(P.StopListener, { id: listener.id })));
    const info = await api.request(P.StartReplication, { db: local, target: 'ws://127.0.0.1:9/nowhere', type: 'pull', continuous: true, persist: false });
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: info.id })));
    const url = listener.urls[0]!;
    const idle = nextEvent(api.events.onReplicatorStatus, (r) => r.id === info.id && r.target === url && r.activity === 'idle', 'the edited replication to catch up');
    const updated = await withAnswers(
      api,
      {
        quickPick: { 'Edit Replication': ['Target', '$(check) Save changes'], 'Edit Replication: server certificate': 'Accept the peer’s self-signed certificate' },
        input: { 'Edit Replication: target': url },
        warning: () => undefined,
      },
      () => vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.editReplication', info.id),
    );
    assert.equal(updated?.params?.acceptOnlySelfSignedServerCertificate, true);
    await idle;
    assert.deepEqual((await api.request(P.GetDocument, { db: local, collection: COLL, docId: 'over-tls' }))?.body, { tls: true });
  });

  test('ws:// to a TLS listener fails at once with "use wss://"', async () => {
    const api = await peersync();
    const served = await createDb('tlsserved');
    const local = await createDb('tlsclient');
    const listener = await api.request(P.StartListener, { db: served, port: 0, networkInterface: '127.0.0.1', persist: false });
    cleanups.push(async () => void (await api.request(P.StopListener, { id: listener.id })));
    const wrong = `ws://127.0.0.1:${listener.port}/${served}`;
    const started = Date.now();
    const { final, prompts } = await withAnswers(
      api,
      {
        quickPick: {
          'Start Replication: local database': local,
          'Start Replication: direction': 'Pull',
          'Start Replication: mode': 'One-shot',
          'Start Replication: authentication': 'None',
          'Start Replication: conflicts': 'Default',
        },
      },
      async (p) => ({ final: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', wrong), prompts: p }),
    );
    assert.ok(final);
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: final.id })));
    assert.ok(Date.now() - started < 15_000, 'no retries before saying so');
    const error = prompts.find((p) => p.kind === 'error');
    assert.ok(error, 'an error is shown');
    assert.match(error.text, new RegExp(`use wss://127\\.0\\.0\\.1:${listener.port}/${served}`));
  });

  test('the status bar’s connection count drops to 0 when a peer leaves', async () => {
    const api = await peersync();
    const db = await createDb('leaving');
    const listener = await api.request(P.StartListener, { db, port: 0, networkInterface: '127.0.0.1', tls: false, persist: false });
    cleanups.push(async () => void (await api.request(P.StopListener, { id: listener.id })));
    const dir = join(tempDir(), 'leaver');
    assert.equal((await cli(['db', 'create', '--db', dir])).code, 0);
    const child = spawn(process.execPath, [join(extensionPath(), 'dist', 'cli.js'), 'replicate', '--db', dir, '--target', listener.urls[0]!, '--continuous'], { stdio: 'ignore' });
    cleanups.push(async () => void child.kill('SIGKILL'));
    await until(() => api.statusBarText().includes(`:${listener.port} · 1 connection`) || undefined, [api.events.onListenerStatus], 'the status bar to count the peer', 20_000);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    await until(() => api.statusBarText().includes(`:${listener.port} · 0 connections`) || undefined, [api.events.onListenerStatus], 'the status bar to drop to 0', 20_000);
  });

  test('a document tab read while the server is down and restarting waits for it instead of failing', async () => {
    const api = await peersync();
    const db = await createDb('reopened');
    const uri = vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/kept.json` });
    await vscode.workspace.fs.writeFile(uri, encode('{"kept":true}'));
    await vscode.window.showTextDocument(uri);
    // A tab read while the server is down, as VS Code does for tabs it restores while the server starts.
    await vscode.commands.executeCommand('peersync.stopServer');
    assert.equal(api.serverState(), 'stopped');
    const read = vscode.workspace.fs.readFile(uri);
    // A folder's stat never waits for the server: once it answers, the read above has reached PeerSync.
    await vscode.workspace.fs.stat(vscode.Uri.from({ scheme: 'peersync', path: `/${db}` }));
    await vscode.commands.executeCommand('peersync.restartServer');
    const bytes = await read;
    assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), { kept: true });
    assert.equal(api.serverState(), 'running');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
