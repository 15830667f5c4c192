/// <reference types="mocha" />
// What the server keeps across restarts (listeners, replications, remote peers), and views that
// follow the server's own events when the change comes from outside the extension (the CLI).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { cli, createDb, extensionPath, nextEvent, peersync, tempDir, uniqueName, until, withAnswers } from '../../helpers/exthost';
import { headlessPeer } from '../../helpers/headless-peer';
import { withTimeout } from '../../helpers/wait';
import type { PeerSyncApi } from '../../../extension/api';

const COLL = '_default._default';

/** Restarts the server through the extension's command; resolves when it answers again. */
async function restartServer(api: PeerSyncApi): Promise<void> {
  const stopped = nextEvent(api.events.onDidChangeServerState, (s) => s === 'stopped', 'the server to stop for the restart');
  const running = stopped.then(() => nextEvent(api.events.onDidChangeServerState, (s) => s === 'running', 'the server to run again', 30_000));
  await vscode.commands.executeCommand('peersync.restartServer');
  await running;
  await api.whenReady();
}

async function remotePeerLabels(api: PeerSyncApi): Promise<string[]> {
  const groups = await api.views.peers.getChildren();
  const remote = groups.find((g) => g.label === 'Remote peers');
  return remote ? (await api.views.peers.getChildren(remote)).map((n) => String(n.label)) : [];
}

suite('PeerSync: saved state and changes from outside the extension', () => {
  const cleanups: (() => Promise<void>)[] = [];
  teardown(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  test('a listener and a password replication come back after a server restart; the stored password resumes it, else Start asks for it', async () => {
    const api = await peersync();
    const users = join(tempDir(), 'users.json');
    await withAnswers(api, { input: { 'Add User: name': 'sam', 'Add User: password': 's3cret' } }, () => vscode.commands.executeCommand('peersync.addUser', users));
    const remote = await headlessPeer(3, users);
    cleanups.push(remote.stop);
    const db = await createDb('kept');

    const listener = await withAnswers(
      api,
      {
        quickPick: {
          'Start Listener: database': db,
          'Start Listener: network interface': '127.0.0.1',
          'Start Listener: access': 'Read-write',
          'Start Listener: TLS': 'No TLS (ws://)',
          'Start Listener: authentication': 'None',
        },
        input: { 'Start Listener: port': '0' },
      },
      () => vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListener'),
    );
    assert.equal(listener?.persisted, true);
    cleanups.push(async () => void (await api.request(P.StopListener, { id: listener.id })));

    const caughtUp = nextEvent(api.events.onReplicatorStatus, (r) => r.target === remote.url && r.activity === 'idle' && r.completed >= 3, 'the replication to catch up');
    const replication = await withAnswers(
      api,
      {
        quickPick: {
          'Start Replication: local database': db,
          'Start Replication: direction': 'Pull',
          'Start Replication: mode': 'Continuous',
          'Start Replication: conflicts': 'Default',
          'Start Replication: authentication': 'Username and password…',
        },
        input: { 'Start Replication: username': 'sam', 'Start Replication: password': 's3cret' },
      },
      () => vscode.commands.executeCommand<P.ReplicatorInfo>('peersync.startReplication', remote.url),
    );
    assert.ok(replication);
    cleanups.push(async () => void (await api.request(P.RemoveReplication, { id: replication.id })));
    assert.equal(replication.persisted, true);
    assert.equal(replication.username, 'sam');
    await caughtUp;

    // After a restart the server brings both back; the replication waits for its password, which the extension supplies.
    let restarted = false;
    const sub = api.events.onDidChangeServerState((s) => s === 'stopped' && (restarted = true));
    const resumed = nextEvent(api.events.onReplicatorStatus, (r) => restarted && r.id === replication.id && r.activity === 'idle', 'the saved replication to resume with the stored password', 40_000);
    try {
      await restartServer(api);
      await resumed;
    } finally {
      sub.dispose();
    }
    const listeners = await api.request(P.ListListeners);
    assert.ok(
      listeners.some((l) => l.id === listener.id && l.db === db && l.state === 'listening'),
      `the listener is back (have ${JSON.stringify(listeners.map((l) => l.id))})`,
    );
    assert.equal((await api.request(P.ListDocuments, { db, collection: COLL, limit: 10 })).total, 3);

    // Without a stored password (Remove Peer forgets it) it stays paused until Start is given one.
    await withAnswers(api, { quickPick: { 'Remove Peer': remote.url } }, () => vscode.commands.executeCommand('peersync.removePeer'));
    await restartServer(api);
    const waiting = await until(
      async () => {
        const node = (await api.views.replications.getChildren()).find((n) => n.id === `replicator:${replication.id}`);
        return node && String(node.description).includes('paused — needs password') ? node : undefined;
      },
      [api.views.replications.onDidRefresh],
      'the Replications view to show the replication waiting for its password',
      30_000,
    );
    assert.equal(waiting.contextValue, 'replicator.stopped');
    const idleAgain = nextEvent(api.events.onReplicatorStatus, (r) => r.id === replication.id && r.activity === 'idle', 'the replication to run with the password typed');
    const asked = await withAnswers(api, { input: { 'Start Replication: password': 's3cret' } }, async (prompts) => {
      await vscode.commands.executeCommand('peersync.resumeReplication', replication.id);
      return prompts;
    });
    assert.ok(asked.some((p) => p.kind === 'input' && p.text === 'Start Replication: password'));
    await idleAgain;
  });

  test('remote peers added in the extension are listed after a server restart', async () => {
    const api = await peersync();
    const url = `ws://127.0.0.1:9/${uniqueName('peer')}`;
    await vscode.commands.executeCommand('peersync.addPeer', url);
    cleanups.push(async () => void (await api.request(P.RemovePeer, { url })));
    assert.ok((await api.request(P.ListPeers)).some((p) => p.url === url));
    await restartServer(api);
    await until(async () => (await remotePeerLabels(api)).includes(url), [api.views.peers.onDidRefresh], 'the Peers view to list the saved peer after the restart');
  });

  test('the Databases view shows a document saved by the command line through the running server', async () => {
    const api = await peersync();
    const db = await createDb('outside');
    let seenAt: number | undefined;
    const changed = nextEvent(api.events.onDatabaseChanged, (e) => e.db === db && e.docIds.includes('from-cli'), 'the server to report the command line’s save').then(
      () => (seenAt = api.views.databases.refreshCount),
    );
    const put = await cli(['db', 'put', 'from-cli', '{"by":"cli"}', '--db', join(api.dataFolder(), db)]);
    assert.equal(put.code, 0, put.stderr);
    await changed;
    await until(
      async () => {
        if (seenAt === undefined || api.views.databases.refreshCount <= seenAt) return false;
        const dbNode = (await api.views.databases.getChildren()).find((n) => n.label === db);
        const coll = dbNode && (await api.views.databases.getChildren(dbNode)).find((n) => n.label === COLL);
        return coll && (await api.views.databases.getChildren(coll)).some((n) => n.label === 'from-cli');
      },
      [api.views.databases.onDidRefresh],
      'the Databases view to refresh with the new document',
    );
  });

  test('the Replications view follows a replication the command line runs inside the server', async () => {
    const api = await peersync();
    const db = await createDb('cli-rep');
    // Nobody listens there: the replication keeps retrying, so the command line keeps reporting.
    const target = `ws://127.0.0.1:9/${uniqueName('nobody')}`;
    const before = api.views.replications.refreshCount;
    const child = spawn(process.execPath, [join(extensionPath(), 'dist', 'cli.js'), 'replicate', '--db', join(api.dataFolder(), db), '--target', target, '--continuous', '--json'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    // Its first status line means it follows the replication by id, so it stops and removes it when told to end.
    const following = new Promise<void>((resolve) => createInterface({ input: child.stdout! }).once('line', () => resolve()));
    await withTimeout(following, 'the command line to report the replication', 20_000);
    const node = await until(
      async () => (await api.views.replications.getChildren()).find((n) => n.label === target),
      [api.views.replications.onDidRefresh],
      'the Replications view to show the command line’s replication',
    );
    assert.ok(api.views.replications.refreshCount > before);
    assert.match(String(node.description), new RegExp(db));
    child.kill('SIGTERM');
    await until(
      async () => !(await api.views.replications.getChildren()).some((n) => n.label === target),
      [api.views.replications.onDidRefresh],
      'the Replications view to drop it when the command line ends',
    );
  });
});
