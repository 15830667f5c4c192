/// <reference types="mocha" />
// Listeners, replication with headless peers (the CLI as a separate process), the Peers and
// Replications views and the replication dashboard (its numbers read back from the webview DOM).
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { cli, createDb, encode, nextEvent, peersync, tempDir, until, withAnswers } from '../../helpers/exthost';
import { headlessPeer } from '../../helpers/headless-peer';

const COLL = '_default._default';

suite('PeerSync: listeners, peers and replication', () => {
  const cleanups: (() => Promise<void>)[] = [];
  teardown(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Start Listener: a headless peer (a separate CLI process) pulls a document from it', async () => {
    const api = await peersync();
    const db = await createDb('served');
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/greeting.json` }), encode('{"text":"hello from VS Code"}'));

    const answers = {
      quickPick: {
        'Start Listener: database': db,
        'Start Listener: network interface': '127.0.0.1',
        'Start Listener: access': 'Read-write',
        'Start Listener: TLS': 'No TLS (ws://)',
        'Start Listener: authentication': 'None',
      },
      input: { 'Start Listener: port': '0' },
    };
    const info = await withAnswers(api, answers, () => vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListener'));
    assert.ok(info, 'Start Listener returned the listener');
    cleanups.push(async () => void (await api.request(P.StopListener, { id: info.id }).catch(() => undefined)));
    assert.equal(info.state, 'listening');
    assert.equal(info.tls, false);
    const url = info.urls[0]!;
    assert.equal(url, `ws://127.0.0.1:${info.port}/${db}`);

    // The Peers view and the status bar show it.
    const groups = await api.views.peers.getChildren();
    const thisPeer = groups.find((g) => g.label === 'This peer');
    assert.ok(thisPeer);
    const listeners = await api.views.peers.getChildren(thisPeer);
    const node = listeners.find((l) => l.label === `${db} :${info.port}`);
    assert.ok(node, `the Peers view lists the listener (has ${listeners.map((l) => l.label).join(', ')})`);
    assert.equal(node.description, '0 connections · TLS off');
    assert.match((node.tooltip as vscode.MarkdownString).value, /\(listening\)/);
    assert.equal(node.contextValue, 'listener');
    await until(() => api.statusBarText().includes(`:${info.port}`), [api.events.onListenerStatus], 'the status bar to show the port', 10_000, 100);

    // A second, headless peer pulls from the listener.
    const dir = join(tempDir(), 'phone');
    assert.equal((await cli(['db', 'create', '--db', dir])).code, 0);
    const pulled = await cli(['replicate', '--db', dir, '--target', url, '--pull']);
    assert.equal(pulled.code, 0, pulled.stderr);
    const got = await cli(['db', 'get', 'greeting', '--db', dir]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), { text: 'hello from VS Code' });

    // Copy Listener URL, then Stop Listener.
    const copied = await withAnswers(api, { quickPick: { 'Copy Listener URL: listener': `${db} :${info.port}` } }, async (p) => {
      await vscode.commands.executeCommand('peersync.copyListenerUrl');
      return p.filter((x) => x.kind === 'clipboard').map((x) => x.text);
    });
    assert.deepEqual(copied, [url]);
    const stopped = await withAnswers(api, { quickPick: { 'Stop Listener': `${db} :${info.port}` } }, () => vscode.commands.executeCommand<boolean>('peersync.stopListener'));
    assert.equal(stopped, true);
    assert.ok(!(await api.request(P.ListListeners)).some((l) => l.id === info.id));
  });

  test('Start Replication (one-shot pull) from a headless peer brings its documents, under a progress notification', async () => {
    const api = await peersync();
    const remote = await headlessPeer(30);
    cleanups.push(remote.stop);
    const db = await createDb('pulled');
    const answers = {
      quickPick: {
        'Start Replication: peer': '$(add) Enter a URL…',
        'Start Replication: local database': db,
        'Start Replication: direction': 'Pull',
        'Start Replication: mode': 'One-shot',
        'Start Replication: conflicts': 'Default',
        'Start Replication: authentication': 'None',
      },
      input: { 'Start Replication: peer URL': remote.url },
    };
    const { final, prompts } = await withAnswers(api, answers, async (p) => ({ final: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication'), prompts: p }));
    assert.equal(final?.activity, 'stopped');
    assert.equal(final.error, undefined);
    assert.equal(final.completed, 30);
    assert.ok(
      prompts.some((p) => p.kind === 'info' && /finished: 30 of 30 documents/.test(p.text)),
      'the user is told it finished',
    );
    assert.deepEqual((await api.request(P.GetDocument, { db, collection: COLL, docId: 'r-007' }))?.body, { i: 7, from: 'headless' });
    assert.equal((await api.request(P.ListDocuments, { db, collection: COLL, limit: 100 })).total, 30);
    // The target is remembered as a remote peer.
    const groups = await api.views.peers.getChildren();
    const remotes = await api.views.peers.getChildren(groups.find((g) => g.label === 'Remote peers'));
    assert.ok(remotes.some((r) => r.label === remote.url && r.contextValue === 'remotePeer'));
    await api.request(P.RemoveReplication, { id: final.id });
  });

  test('Start Replication with a username and password: kept in secret storage and offered next time', async () => {
    const api = await peersync();
    const users = join(tempDir(), 'users.json');
    const added = await cli(['users', 'add', 'sam', '--file', users, '--password-env', 'PEERSYNC_TEST_PW'], { PEERSYNC_TEST_PW: 's3cret' });
    assert.equal(added.code, 0, added.stderr);
    const remote = await headlessPeer(5, users);
    cleanups.push(remote.stop);
    const db = await createDb('auth');
    const base = { 'Start Replication: local database': db, 'Start Replication: direction': 'Pull', 'Start Replication: mode': 'One-shot', 'Start Replication: conflicts': 'Default' };

    const wrong = await withAnswers(
      api,
      { quickPick: { ...base, 'Start Replication: authentication': 'Username and password…' }, input: { 'Start Replication: username': 'sam', 'Start Replication: password': 'nope' } },
      async (p) => ({ final: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', remote.url), prompts: p }),
    );
    assert.equal(wrong.final?.activity, 'stopped');
    assert.ok(wrong.final.error, 'a wrong password stops the replicator with an error');
    assert.ok(wrong.prompts.some((p) => p.kind === 'error' && p.text.startsWith(`Replication with ${remote.url} failed`)));

    const right = await withAnswers(
      api,
      { quickPick: { ...base, 'Start Replication: authentication': 'Username and password…' }, input: { 'Start Replication: username': 'sam', 'Start Replication: password': 's3cret' } },
      () => vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', remote.url),
    );
    assert.equal(right?.error, undefined);
    assert.equal(right.completed, 5);

    // Next time the saved credentials are offered first, and work.
    const again = await withAnswers(api, { quickPick: { ...base, 'Start Replication: authentication': 'Saved credentials (sam)' } }, async (p) => ({
      final: await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', remote.url),
      prompts: p,
    }));
    const authPick = again.prompts.find((p) => p.text === 'Start Replication: authentication');
    assert.deepEqual(authPick?.items, ['Saved credentials (sam)', 'None', 'Username and password…']);
    assert.equal(again.final?.error, undefined);
    assert.ok(!again.prompts.some((p) => p.kind === 'input'), 'no password asked again');
    for (const r of [wrong.final, right, again.final]) await api.request(P.RemoveReplication, { id: r.id });
  });

  test('a continuous replication: Replications view, dashboard numbers (read from its DOM), stop / start / remove', async () => {
    const api = await peersync();
    const remote = await headlessPeer(20);
    cleanups.push(remote.stop);
    const db = await createDb('live');

    await vscode.commands.executeCommand('peersync.openDashboard');
    await until(() => api.probeDashboard().catch(() => undefined), [], 'the dashboard to load', 20_000, 100);

    const idle = nextEvent(api.events.onReplicatorStatus, (r) => r.target === remote.url && r.activity === 'idle' && r.completed >= 20, 'the replicator to catch up');
    const answers = {
      quickPick: {
        'Start Replication: local database': db,
        'Start Replication: direction': 'Push and pull',
        'Start Replication: mode': 'Continuous',
        'Start Replication: conflicts': 'Default',
        'Start Replication: authentication': 'None',
      },
    };
    const info = await withAnswers(api, answers, () => vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', remote.url));
    assert.ok(info);
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: info.id }).catch(() => undefined)));
    assert.equal(info.continuous, true);
    const caughtUp = await idle;
    assert.equal(caughtUp.id, info.id);

    // Replications view
    const items = await until(
      async () => {
        const nodes = await api.views.replications.getChildren();
        const n = nodes.find((x) => x.id === `replicator:${info.id}`);
        return n && /idle/.test(String(n.description)) ? n : undefined;
      },
      [api.views.replications.onDidRefresh],
      'the Replications view to show the replicator idle',
    );
    assert.equal(items.label, remote.url);
    assert.equal(items.contextValue, 'replicator.running');
    assert.match(String(items.description), new RegExp(`${db} · push and pull · continuous · idle · ${caughtUp.completed}/${caughtUp.total}`));

    // Dashboard: what the webview shows, read back from its DOM.
    const shown = await until(
      async () => {
        const probe = await api.probeDashboard();
        const r = probe?.replicators.find((x) => x.id === info.id);
        return probe && r && r.activity === 'idle' && r.completed === caughtUp.completed ? { probe, r } : undefined;
      },
      [api.events.onReplicatorStatus],
      'the dashboard to show the replicator idle',
      20_000,
      150,
    );
    assert.equal(shown.r.total, caughtUp.total);
    assert.ok(shown.r.completed >= 20);
    assert.ok(shown.probe.logRows >= 20, `the log shows the pulled documents (${shown.probe.logRows} rows)`);

    // A local change is pushed to the headless peer.
    const pushed = nextEvent(api.events.onReplicatorStatus, (r) => r.id === info.id && r.activity === 'idle' && r.completed > caughtUp.completed, 'the push');
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/from-vscode.json` }), encode('{"pushed":true}'));
    await pushed;

    // Stop, start again, remove.
    const stopped = await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.stopReplication', info.id);
    assert.equal(stopped?.activity, 'stopped');
    await until(
      async () => (await api.views.replications.getChildren()).find((x) => x.id === `replicator:${info.id}` && x.contextValue === 'replicator.stopped'),
      [api.views.replications.onDidRefresh],
      'the view to show it stopped',
      10_000,
      200,
    );
    const restarted = await vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.resumeReplication', info.id);
    assert.notEqual(restarted?.activity, 'stopped');
    assert.equal(await vscode.commands.executeCommand<boolean>('peersync.removeReplication', info.id), true);
    assert.ok(!(await api.request(P.ListReplications)).some((r) => r.id === info.id));
    await until(
      async () => {
        const probe = await api.probeDashboard();
        return probe && !probe.replicators.some((r) => r.id === info.id);
      },
      [],
      'the dashboard to drop the removed replicator',
      10_000,
      150,
    );

    // The headless peer has the document pushed from VS Code.
    await remote.stop();
    const got = await cli(['db', 'get', 'from-vscode', '--db', remote.dir]);
    assert.deepEqual(JSON.parse(got.stdout), { pushed: true });
  });

  test('an unreachable peer: the replicator goes offline with the reason and its next retry time', async () => {
    const api = await peersync();
    const db = await createDb('offline');
    const target = 'ws://127.0.0.1:9/nowhere'; // discard port: connection refused
    const offline = nextEvent(api.events.onReplicatorStatus, (r) => r.target === target && r.activity === 'offline' && r.nextAttemptAt !== undefined, 'the replicator to go offline');
    const startedAt = Date.now();
    const info = await api.request(P.StartReplication, { db, target, type: 'pull', continuous: true });
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: info.id }).catch(() => undefined)));
    const status = await offline;
    // After the failed attempt; not compared with the clock now, which a busy machine may have moved past it.
    assert.ok(status.nextAttemptAt! > startedAt);
    // The reason, in words, before the retry time; the tooltip has the meaning and the server's message.
    const node = await until(
      async () => (await api.views.replications.getChildren()).find((x) => x.id === `replicator:${info.id}` && /offline · connection refused · retry at/.test(String(x.description))),
      [api.views.replications.onDidRefresh],
      'the view to show the reason and the retry time',
      10_000,
      200,
    );
    const tooltip = (node.tooltip as vscode.MarkdownString).value;
    assert.match(tooltip, /\*\*Why:\*\* connection refused: nothing listens at that address and port/);
    assert.match(tooltip, /ECONNREFUSED/);
  });
});
