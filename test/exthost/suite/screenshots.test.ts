/// <reference types="mocha" />
// UI states for the README screenshots. Skipped unless the run's --grep names them, e.g.
//   node test/exthost/run.mjs --grep "screenshot: views" --timeout 40 --screenshot-at-end media/screenshots/views.png
// Each test sets the workbench up to show one thing and then holds it: when a run ends, the extension
// host shuts down (and our views and status bar item with it) before the runner's end-of-run
// screenshot, so these runs end by the runner's --timeout instead, which photographs the live
// workbench (the run reports the timeout; that is expected here).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ConflictPanel } from '../../../extension/panels/conflict-panel';
import * as P from '../../../server/rpc/protocol';
import { cli, encode, extensionPath, fixture, nextEvent, peersync, tempDir, until, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';
const wanted = (process.env['PEERSYNC_EXTHOST_GREP'] ?? '').includes('screenshot');

async function db(name: string, docs: number): Promise<void> {
  const api = await peersync();
  await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
  const dir = tempDir();
  const file = join(dir, 'seed.jsonl');
  const kinds = ['task', 'list', 'note'];
  writeFileSync(
    file,
    Array.from({ length: docs }, (_, i) => JSON.stringify({ _id: `${kinds[i % 3]}-${String(i).padStart(3, '0')}`, type: kinds[i % 3], title: `Item ${i}`, done: i % 4 === 0 })).join('\n'),
  );
  await withAnswers(api, { quickPick: { 'Import JSON Documents: database': name } }, () => vscode.commands.executeCommand('peersync.importDocuments', undefined, file));
}

async function headless(count: number): Promise<string> {
  const dir = join(tempDir(), 'phone');
  await cli(['db', 'create', '--db', dir]);
  const file = join(dir, '..', 'seed.jsonl');
  writeFileSync(file, Array.from({ length: count }, (_, i) => JSON.stringify({ _id: `phone-${i}`, from: 'phone', i })).join('\n'));
  await cli(['db', 'import', file, '--db', dir]);
  const child = spawn(process.execPath, [join(extensionPath(), 'dist', 'cli.js'), 'serve', '--db', dir, '--port', '0', '--interface', '127.0.0.1', '--no-tls', '--json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve) => child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { urls: string[] }).urls[0]!)));
}

async function listener(name: string): Promise<P.ListenerInfo> {
  const api = await peersync();
  return withAnswers(
    api,
    {
      quickPick: {
        'Start Listener: database': name,
        'Start Listener: network interface': '127.0.0.1',
        'Start Listener: access': 'Read-write',
        'Start Listener: TLS': 'No TLS (ws://)',
        'Start Listener: authentication': 'None',
      },
      input: { 'Start Listener: port': '0' },
    },
    () => vscode.commands.executeCommand<P.ListenerInfo>('peersync.startListener'),
  );
}

async function sampleWorld(): Promise<{ phoneUrl: string; listenerInfo: P.ListenerInfo }> {
  const api = await peersync();
  await db('inventory', 240);
  await db('notes', 12);
  await fixture('make-conflict.ts', [join(api.dataFolder(), 'groceries'), 'milk']);
  await withAnswers(api, { input: { 'Create Database: name': 'groceries' } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
  const listenerInfo = await listener('inventory');
  // A headless peer replicating continuously with our listener (shows as a connected client).
  const phone = join(tempDir(), 'tablet');
  await cli(['db', 'create', '--db', phone]);
  spawn(process.execPath, [join(extensionPath(), 'dist', 'cli.js'), 'replicate', '--db', phone, '--target', listenerInfo.urls[0]!, '--continuous'], { stdio: 'ignore' });
  await until(async () => (await api.request(P.ListListeners)).find((l) => l.connectionCount > 0), [api.events.onListenerStatus], 'a client to connect');
  const phoneUrl = await headless(150);
  const idle = nextEvent(api.events.onReplicatorStatus, (r) => r.target === phoneUrl && r.activity === 'idle', 'the replication to catch up');
  await api.request(P.StartReplication, { db: 'notes', target: phoneUrl, type: 'pushAndPull', continuous: true });
  await idle;
  await api.request(P.StartReplication, { db: 'notes', target: 'ws://127.0.0.1:9/laptop', type: 'push', continuous: true });
  await vscode.commands.executeCommand('peersync.addPeer', 'ws://192.168.1.20:4984/inventory');
  return { phoneUrl, listenerInfo };
}

/** Expands a database's default collection in the Databases view. */
async function revealCollection(name: string): Promise<void> {
  const api = await peersync();
  const dbNode = (await api.views.databases.getChildren()).find((n) => n.label === name);
  assert.ok(dbNode);
  const coll = (await api.views.databases.getChildren(dbNode))[0]!;
  await api.views.databases.reveal(coll, { expand: true, select: false, focus: false });
}

/** Keeps the workbench as it is until the runner's --timeout photographs it. */
function hold(): Promise<never> {
  console.log('[exthost-test] screenshot state ready; holding for the runner timeout');
  return new Promise<never>(() => undefined);
}

suite('screenshot', function () {
  this.timeout(0);
  suiteSetup(function () {
    if (!wanted) this.skip();
  });

  test('screenshot: views', async () => {
    const api = await peersync();
    await sampleWorld();
    await vscode.commands.executeCommand('workbench.view.extension.peersync');
    await revealCollection('groceries');
    await revealCollection('inventory');
    await vscode.commands.executeCommand('peersync.openDocument', { db: 'inventory', collection: COLL, docId: 'list-001' });
    assert.ok((await api.views.conflicts.getChildren()).length > 0);
    await hold();
  });

  test('screenshot: dashboard', async () => {
    const api = await peersync();
    const { phoneUrl } = await sampleWorld();
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('peersync.openDashboard');
    await until(() => api.probeDashboard().catch(() => undefined), [], 'the dashboard', 20_000, 100);
    // Some live traffic for the sparkline and the log.
    for (let i = 0; i < 30; i++) {
      await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/notes/${COLL}/note-${i}.json` }), encode(JSON.stringify({ text: `note ${i}` })));
    }
    await until(
      async () => ((await api.probeDashboard())?.replicators.find((r) => r.activity === 'idle' && r.completed >= 180) ? true : undefined),
      [api.events.onReplicatorStatus],
      `${phoneUrl} to push the notes`,
      20_000,
      200,
    );
    await hold();
  });

  test('screenshot: conflict editor', async () => {
    const api = await peersync();
    await fixture('make-conflict.ts', [join(api.dataFolder(), 'kitchen'), 'milk', '--three']);
    await withAnswers(api, { input: { 'Create Database: name': 'kitchen' } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    const panel = await vscode.commands.executeCommand<ConflictPanel>('peersync.resolveConflict', { db: 'kitchen', collection: COLL, docId: 'milk' });
    await panel.shown;
    await hold();
  });

  test('screenshot: document and revision history', async () => {
    const api = await peersync();
    await withAnswers(api, { input: { 'Create Database: name': 'inventory' } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
    const ref = { db: 'inventory', collection: COLL, docId: 'list-42' };
    let rev = (await api.request(P.SaveDocument, { ...ref, baseRevId: null, body: { type: 'list', name: 'Weekend', items: [] } })).revId;
    rev = (await api.request(P.SaveDocument, { ...ref, baseRevId: rev, body: { type: 'list', name: 'Weekend', items: [{ name: 'milk', qty: 2 }] } })).revId;
    await api.request(P.SaveDocument, {
      ...ref,
      baseRevId: rev,
      body: {
        type: 'list',
        name: 'Weekend shopping',
        owner: 'sam',
        items: [
          { name: 'milk', qty: 2 },
          { name: 'bread', qty: 1, done: true },
        ],
      },
    });
    await vscode.commands.executeCommand('workbench.view.extension.peersync');
    await revealCollection('inventory');
    await vscode.commands.executeCommand('peersync.openDocument', ref);
    await vscode.commands.executeCommand('peersync.showRevisionHistory', ref);
    await hold();
  });

  test('screenshot: blob preview', async () => {
    const api = await peersync();
    await fixture('make-blob-db.ts', [join(api.dataFolder(), 'inventory')]);
    await withAnswers(api, { input: { 'Create Database: name': 'inventory' } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
    await vscode.commands.executeCommand('workbench.view.extension.peersync');
    // Room for the blobs: the other views move to the Explorer.
    await vscode.commands.executeCommand('vscode.moveViews', { viewIds: ['peersync.peers', 'peersync.replications', 'peersync.conflicts'], destinationId: 'workbench.view.explorer' });
    await vscode.commands.executeCommand('workbench.view.extension.peersync');
    await revealCollection('inventory');
    const coll = (await api.views.databases.getChildren((await api.views.databases.getChildren()).find((n) => n.label === 'inventory')))[0]!;
    const docs = await api.views.databases.getChildren(coll);
    for (const id of ['list', 'pending'])
      await api.views.databases.reveal(
        docs.find((d) => d.label === id)!,
        { expand: true, select: false, focus: false },
      );
    const [apple] = await api.views.databases.getChildren(docs.find((d) => d.label === 'list'));
    await vscode.commands.executeCommand(apple!.command!.command, ...(apple!.command!.arguments ?? []));
    await until(() => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputCustom || undefined, [vscode.window.tabGroups.onDidChangeTabs], 'the image preview');
    // The demo's images are 64 px: zoom in so they read in the picture.
    for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('imagePreview.zoomIn');
    await hold();
  });

  test('screenshot: query playground', async () => {
    await db('inventory', 240);
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    const file = join(tempDir(), 'open-lists.peersync-query');
    writeFileSync(
      file,
      '-- db: inventory\n-- Lists and tasks not done yet, newest title first\nSELECT META().id, type, title, done\nFROM _\nWHERE type IN ["list", "task"] AND done = false\nORDER BY title DESC\nLIMIT 500\n',
    );
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(file)));
    editor.selection = new vscode.Selection(new vscode.Position(3, 0), new vscode.Position(3, 0));
    await vscode.commands.executeCommand('peersync.runQuery');
    await hold();
  });

  test('screenshot: resolved conflicts', async () => {
    const api = await peersync();
    await fixture('make-conflict.ts', [join(api.dataFolder(), 'kitchen'), 'milk', '--three']);
    await withAnswers(api, { input: { 'Create Database: name': 'kitchen' } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
    await api.request(P.ResolveConflict, { db: 'kitchen', collection: COLL, docId: 'milk', resolution: { kind: 'resolver', name: 'default' } });
    const [record] = await api.request(P.ListResolvedConflicts, { db: 'kitchen' });
    assert.ok(record);
    await vscode.commands.executeCommand('workbench.view.extension.peersync');
    await vscode.commands.executeCommand('vscode.moveViews', { viewIds: ['peersync.peers', 'peersync.replications'], destinationId: 'workbench.view.explorer' });
    await vscode.commands.executeCommand('workbench.view.extension.peersync');
    await api.views.resolvedConflicts.revealRecord(record);
    // The discarded branch of the newest record, opened beside the tree.
    const [dbNode] = await api.views.resolvedConflicts.getChildren();
    const [newest] = await api.views.resolvedConflicts.getChildren(dbNode);
    const [discarded] = await api.views.resolvedConflicts.getChildren(newest);
    if (discarded?.command) await vscode.commands.executeCommand(discarded.command.command, ...(discarded.command.arguments ?? []));
    await hold();
  });
});
