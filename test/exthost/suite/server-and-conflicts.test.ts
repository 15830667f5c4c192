/// <reference types="mocha" />
// Conflicts (view + conflict editor), and the server's lifecycle: stop → "not running", restart,
// crash → automatic restart at most 3 times in 3 minutes.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ConflictPanel } from '../../../extension/panels/conflict-panel';
import * as P from '../../../server/rpc/protocol';
import { extensionPath, fixture, nextEvent, peersync, uniqueName, until, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';

/** A database in the extension's data folder with a conflicted document, opened by the server. */
async function conflictedDb(docId: string, three = false): Promise<string> {
  const api = await peersync();
  const name = uniqueName('conflicts');
  const made = await fixture('make-conflict.ts', [join(api.dataFolder(), name), docId, ...(three ? ['--three'] : [])]);
  assert.equal(made.code, 0, made.stderr);
  await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
  return name;
}

/** PIDs of this extension host's children running dist/server.js. */
function serverPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('dist/server.js'))
    .map((l) => Number.parseInt(l.trim(), 10));
}

suite('PeerSync: conflicts', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the Conflicts view lists a conflicted document; Keep remote in the conflict editor resolves it', async () => {
    const api = await peersync();
    const db = await conflictedDb('milk');
    const ref = { db, collection: COLL, docId: 'milk' };
    const listed = await until(
      async () => (await api.views.conflicts.getChildren()).find((n) => n.label === 'milk' && n.description === `${db} · ${COLL}`),
      [api.views.conflicts.onDidRefresh],
      'the Conflicts view to list milk',
    );
    assert.equal(listed.contextValue, 'conflict');
    // The Databases view marks it too.
    const dbNode = (await api.views.databases.getChildren()).find((n) => n.label === db);
    const docs = await api.views.databases.getChildren((await api.views.databases.getChildren(dbNode))[0]);
    assert.equal(docs.find((d) => d.label === 'milk')?.contextValue, 'document.conflicted');

    const panel = await vscode.commands.executeCommand<ConflictPanel>('peersync.resolveConflict', listed);
    assert.ok(panel, 'the conflict editor opened');
    const view = await panel.load();
    assert.equal(view.conflicted, true);
    assert.equal(view.leaves.length, 2);
    const remote = view.leaves.find((l) => l.role === 'remote')!;
    const local = view.leaves.find((l) => l.role === 'local')!;
    assert.deepEqual(remote.body, { name: 'oat milk', qty: 1, done: true });
    assert.deepEqual(local.body, { name: 'milk', qty: 2, done: false, note: 'local edit' });
    assert.ok(view.tree.length >= 3 && view.tree.some((n) => n.winner));

    const changed = nextEvent(api.events.onDatabaseChanged, (e) => e.db === db && e.docIds.includes('milk'), 'DatabaseChanged for milk');
    const resolved = await panel.resolve({ kind: 'winner', revId: remote.revId }, 'Kept remote.');
    await changed;
    assert.deepEqual((await api.request(P.GetDocument, ref))?.body, remote.body);
    assert.equal((await api.request(P.GetDocument, ref))?.revId, resolved.revId);
    const after = await panel.load();
    assert.equal(after.conflicted, false);
    assert.equal(after.currentRevId, resolved.revId);
    assert.equal(panel.panel.title, 'Resolved: milk');
    await until(
      async () => !(await api.views.conflicts.getChildren()).some((n) => n.label === 'milk' && n.description === `${db} · ${COLL}`) || undefined,
      [api.views.conflicts.onDidRefresh],
      'the Conflicts view to drop milk',
    );
  });

  test('three conflicting leaves; Save merged writes the merged body', async () => {
    const api = await peersync();
    const db = await conflictedDb('eggs', true);
    const ref = { db, collection: COLL, docId: 'eggs' };
    const panel = await vscode.commands.executeCommand<ConflictPanel>('peersync.resolveConflict', ref);
    const view = await panel.load();
    assert.equal(view.leaves.length, 3);
    assert.deepEqual(view.leaves.find((l) => l.role === 'other')?.body, { name: 'milk', qty: 6 });
    await panel.resolve({ kind: 'merged', body: { name: 'oat milk', qty: 6, done: false } }, 'Merged.');
    const doc = await api.request(P.GetDocument, ref);
    assert.deepEqual(doc?.body, { name: 'oat milk', qty: 6, done: false });
    assert.equal(doc?.conflicted, false);
    assert.equal(await api.request(P.GetConflict, ref), null);
  });
});

suite('PeerSync: the server process', () => {
  test('stopping the server: commands say "not running", documents are unavailable; Restart Server reopens the databases', async () => {
    const api = await peersync();
    const name = uniqueName('survivor');
    await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
    await vscode.commands.executeCommand('peersync.stopServer');
    assert.equal(api.serverState(), 'stopped');

    const prompts = await withAnswers(api, {}, async (p) => {
      assert.equal(await vscode.commands.executeCommand('peersync.createDatabase'), undefined);
      assert.equal(await vscode.commands.executeCommand('peersync.startListener'), undefined);
      return p;
    });
    const errors = prompts.filter((p) => p.kind === 'error');
    assert.equal(errors.length, 2, JSON.stringify(prompts));
    for (const e of errors) {
      assert.equal(e.text, 'PeerSync server is not running.');
      assert.deepEqual(e.items, ['Restart Server', 'Show Logs']);
    }
    assert.ok(!prompts.some((p) => p.kind === 'input' || p.kind === 'quickPick'), 'no prompt before saying so');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.from({ scheme: 'peersync', path: `/${name}/${COLL}/x.json` }))), /not running/);
    assert.deepEqual(await api.views.databases.getChildren(), [], 'the Databases view is empty (its welcome says the server is down)');
    assert.match(api.statusBarText(), /server stopped/);

    await vscode.commands.executeCommand('peersync.restartServer');
    await api.whenReady();
    assert.equal(api.serverState(), 'running');
    assert.ok(
      (await api.request(P.ListDatabases)).some((d) => d.name === name),
      'the databases in the data folder are open again',
    );
  });

  test('a crashed server is restarted, at most 3 times in 3 minutes; then the user is offered Restart Server', async () => {
    const api = await peersync();
    const name = uniqueName('crash');
    await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
    for (let i = 1; i <= 3; i++) {
      const pids = serverPids();
      assert.equal(pids.length, 1, `one server process (${pids.join(', ')})`);
      const back = nextEvent(api.events.onDidChangeServerState, (s) => s === 'running', `the server to be restarted after crash ${i}`);
      process.kill(pids[0]!, 'SIGKILL');
      await back;
      assert.ok(
        (await api.request(P.ListDatabases)).some((d) => d.name === name),
        `after crash ${i} the databases are open again`,
      );
      assert.notDeepEqual(serverPids(), pids);
    }
    // The fourth crash within 3 minutes: no automatic restart; the user is told, and chooses Restart Server.
    const restarted = await withAnswers(api, { error: (m) => (/crashed 4 times within 3 minutes/.test(m) ? 'Restart Server' : undefined) }, async (prompts) => {
      const stopped = nextEvent(api.events.onDidChangeServerState, (s) => s === 'stopped', 'the server to stay down');
      const running = nextEvent(api.events.onDidChangeServerState, (s) => s === 'running', 'the user-requested restart');
      process.kill(serverPids()[0]!, 'SIGKILL');
      await stopped;
      await running;
      return prompts;
    });
    const gaveUp = restarted.find((p) => p.kind === 'error');
    assert.ok(gaveUp, 'the user was told');
    assert.deepEqual(gaveUp.items, ['Restart Server', 'Show Logs']);
    await api.whenReady();
    assert.ok((await api.request(P.ListDatabases)).some((d) => d.name === name));
  });
});

suite('PeerSync: activation', () => {
  test('activation and first server start are timed (written for the benchmark, not asserted)', async () => {
    const api = await peersync();
    const t = api.activationTimings();
    assert.ok(Number.isFinite(t.activateMs) && t.activateMs >= 0, `activateMs ${t.activateMs}`);
    assert.ok(t.serverReadyMs !== undefined && Number.isFinite(t.serverReadyMs), `serverReadyMs ${String(t.serverReadyMs)}`);
    // bench/results is git-ignored; `npm run bench` reports this file when it exists.
    const dir = path.join(extensionPath(), 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'exthost-activation.json'), JSON.stringify({ ...t, vscode: vscode.version, measuredAt: new Date().toISOString() }, null, 2) + '\n');
  });
});
