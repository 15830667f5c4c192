/// <reference types="mocha" />
// Activation, databases and the peersync: file system (saves, stale saves, invalid JSON).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { createDb, decode, encode, nextEvent, peersync, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';

function docUri(db: string, docId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${COLL}/${docId}.json` });
}

suite('PeerSync: activation and documents', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('activation starts the server: whenReady resolves and ListDatabases answers', async () => {
    const api = await peersync();
    assert.equal(api.serverState(), 'running');
    assert.ok(api.client()?.isRunning(), 'the language client runs');
    const dbs = await api.request(P.ListDatabases);
    assert.ok(Array.isArray(dbs));
    assert.match(api.statusBarText(), /PeerSync/);
  });

  test('Create Database shows it in the Databases view with its default collection', async () => {
    const api = await peersync();
    const name = await createDb('docs');
    const roots = await api.views.databases.getChildren();
    const node = roots.find((n) => n.label === name);
    assert.ok(node, `the Databases view lists ${name} (has: ${roots.map((n) => n.label).join(', ')})`);
    assert.equal(node.contextValue, 'database');
    const collections = await api.views.databases.getChildren(node);
    assert.deepEqual(
      collections.map((c) => c.label),
      [COLL],
    );
  });

  test('a document written through the peersync: file system is readable via GetDocument, and back as pretty JSON', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const uri = docUri(db, 'hello');
    await vscode.workspace.fs.writeFile(uri, encode('{"text":"hi","n":[1,2]}'));
    const doc = await api.request(P.GetDocument, { db, collection: COLL, docId: 'hello' });
    assert.deepEqual(doc?.body, { text: 'hi', n: [1, 2] });
    assert.match(doc?.revId ?? '', /^1-/);
    // Pretty JSON, 2 spaces (the store keeps bodies in canonical key order).
    assert.equal(decode(await vscode.workspace.fs.readFile(uri)), '{\n  "n": [\n    1,\n    2\n  ],\n  "text": "hi"\n}\n');
    // The collection now lists the document, with its revision.
    const roots = await api.views.databases.getChildren();
    const collections = await api.views.databases.getChildren(roots.find((n) => n.label === db));
    const docs = await api.views.databases.getChildren(collections[0]);
    assert.deepEqual(
      docs.map((d) => d.label),
      ['hello'],
    );
    assert.equal(docs[0]!.contextValue, 'document');
  });

  test('saving a document in an editor without changing it makes no new revision (nothing to replicate)', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const uri = docUri(db, 'same');
    await vscode.workspace.fs.writeFile(uri, encode('{"qty":4,"name":"milk"}'));
    const before = await api.request(P.GetDocument, { db, collection: COLL, docId: 'same' });
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    // Touch it so the save really writes, with the same content in the end.
    await editor.edit((e) => e.insert(new vscode.Position(0, 1), ' '));
    await editor.edit((e) => e.delete(new vscode.Range(new vscode.Position(0, 1), new vscode.Position(0, 2))));
    assert.equal(await editor.document.save(), true);
    const after = await api.request(P.GetDocument, { db, collection: COLL, docId: 'same' });
    assert.equal(after?.revId, before?.revId, 'the same revision');
    assert.equal(after?.sequence, before?.sequence);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('invalid JSON is refused with a clear error and nothing is written', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const uri = docUri(db, 'j');
    await vscode.workspace.fs.writeFile(uri, encode('{"ok":true}'));
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, encode('{"ok": tru'))), /not valid JSON/);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, encode('[1,2]'))), /must be a JSON object/);
    const doc = await api.request(P.GetDocument, { db, collection: COLL, docId: 'j' });
    assert.deepEqual(doc?.body, { ok: true });
    assert.match(doc!.revId, /^1-/);
  });

  test('in an editor, saving invalid JSON fails and keeps the edit (the editor stays dirty)', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const uri = docUri(db, 'edit-me');
    await vscode.workspace.fs.writeFile(uri, encode('{"a":1}'));
    const editor = await vscode.window.showTextDocument(uri);
    assert.equal(editor.document.languageId, 'json');
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), '{ "a": 2, oops }'));
    assert.equal(await editor.document.save(), false, 'the save failed');
    assert.equal(editor.document.isDirty, true);
    assert.equal(editor.document.getText(), '{ "a": 2, oops }');
    const doc = await api.request(P.GetDocument, { db, collection: COLL, docId: 'edit-me' });
    assert.deepEqual(doc?.body, { a: 1 });
    // Fixing it and saving again works, based on the revision the editor opened.
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), '{ "a": 2 }'));
    assert.equal(await editor.document.save(), true);
    const after = await api.request(P.GetDocument, { db, collection: COLL, docId: 'edit-me' });
    assert.deepEqual(after?.body, { a: 2 });
    assert.match(after!.revId, /^2-/);
  });

  test('a stale save offers Overwrite / Discard and reload / Compare; Overwrite saves on top of the stored revision', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const ref = { db, collection: COLL, docId: 'stale' };
    const uri = docUri(db, 'stale');
    await vscode.workspace.fs.writeFile(uri, encode('{"v":"base"}'));
    const base = await api.request(P.GetDocument, ref);
    assert.equal(api.fileSystem.openedRevision(uri), base!.revId);
    // Someone else changes it behind the editor's back.
    const theirs = await api.request(P.SaveDocument, { ...ref, baseRevId: base!.revId, body: { v: 'theirs' } });

    const prompts = await withAnswers(api, { warning: () => 'Overwrite' }, async (p) => {
      await vscode.workspace.fs.writeFile(uri, encode('{"v":"mine"}'));
      return p;
    });
    const warning = prompts.find((p) => p.kind === 'warning');
    assert.ok(warning, 'the conflict was offered');
    assert.deepEqual(warning.items, ['Overwrite', 'Discard and reload', 'Compare']);
    assert.match(warning.text, new RegExp(`changed since you opened it.*${theirs.revId}`));
    const now = await api.request(P.GetDocument, ref);
    assert.deepEqual(now?.body, { v: 'mine' });
    const tree = await api.request(P.GetRevisionTree, ref);
    assert.equal(tree?.find((n) => n.revId === now!.revId)?.parentRevId, theirs.revId, 'the overwrite extends their revision (no conflict branch)');
    assert.equal(api.fileSystem.openedRevision(uri), now!.revId);
  });

  test('a stale save: Compare opens the stored version beside yours, and the next save overwrites what was compared', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const ref = { db, collection: COLL, docId: 'compare' };
    const uri = docUri(db, 'compare');
    await vscode.workspace.fs.writeFile(uri, encode('{"v":"base"}'));
    const base = await api.request(P.GetDocument, ref);
    const theirs = await api.request(P.SaveDocument, { ...ref, baseRevId: base!.revId, body: { v: 'theirs' } });
    const opened = nextEvent(vscode.window.tabGroups.onDidChangeTabs, (e) => e.opened.some((t) => t.input instanceof vscode.TabInputTextDiff), 'the diff editor');
    await withAnswers(api, { warning: () => 'Compare' }, async () => {
      await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, encode('{"v":"mine"}'))), /Compare the versions, then save again/);
    });
    const tab = (await opened).opened.find((t) => t.input instanceof vscode.TabInputTextDiff)!;
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.original.scheme, 'peersync-rev');
    assert.equal(new URLSearchParams(input.original.query).get('rev'), theirs.revId);
    assert.equal(input.modified.toString(), uri.toString());
    assert.equal((await vscode.workspace.openTextDocument(input.original)).getText(), '{\n  "v": "theirs"\n}\n');
    assert.deepEqual((await api.request(P.GetDocument, ref))?.body, { v: 'theirs' }, 'not saved yet');
    // Saving again (after comparing) is based on the compared revision: no second offer.
    const prompts = await withAnswers(api, {}, async (p) => {
      await vscode.workspace.fs.writeFile(uri, encode('{"v":"merged"}'));
      return p;
    });
    assert.deepEqual(prompts, []);
    const now = await api.request(P.GetDocument, ref);
    assert.deepEqual(now?.body, { v: 'merged' });
    assert.match(now!.revId, /^3-/);
  });

  test('a stale save in an editor: dismissing keeps the edit; Discard and reload brings back the stored version', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const ref = { db, collection: COLL, docId: 'stale-editor' };
    const uri = docUri(db, 'stale-editor');
    await vscode.workspace.fs.writeFile(uri, encode('{"v":"base"}'));
    const editor = await vscode.window.showTextDocument(uri);
    const base = await api.request(P.GetDocument, ref);
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), '{"v":"mine"}\n'));
    await api.request(P.SaveDocument, { ...ref, baseRevId: base!.revId, body: { v: 'theirs' } });

    const dismissed = await withAnswers(api, { warning: () => undefined }, async (p) => ({ saved: await editor.document.save(), prompts: p }));
    assert.equal(dismissed.saved, false, 'dismissing the offer does not save');
    assert.ok(dismissed.prompts.some((p) => p.kind === 'warning'));
    assert.equal(editor.document.isDirty, true);
    assert.equal(editor.document.getText(), '{"v":"mine"}\n');
    assert.deepEqual((await api.request(P.GetDocument, ref))?.body, { v: 'theirs' });

    const reloaded = nextEvent(
      vscode.workspace.onDidChangeTextDocument,
      (e) => e.document.uri.toString() === uri.toString() && e.document.getText().includes('theirs'),
      'the editor to reload the stored version',
    );
    const saved = await withAnswers(api, { warning: () => 'Discard and reload' }, () => Promise.resolve(editor.document.save()));
    assert.equal(saved, true);
    await reloaded;
    assert.equal(editor.document.getText(), '{\n  "v": "theirs"\n}\n');
    assert.equal(editor.document.isDirty, false);
    assert.deepEqual((await api.request(P.GetDocument, ref))?.body, { v: 'theirs' }, 'nothing was written');
  });

  test('a clean editor follows changes made elsewhere (DatabaseChanged → reload)', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const ref = { db, collection: COLL, docId: 'follow' };
    const uri = docUri(db, 'follow');
    await vscode.workspace.fs.writeFile(uri, encode('{"n":1}'));
    const editor = await vscode.window.showTextDocument(uri);
    const base = await api.request(P.GetDocument, ref);
    const changed = nextEvent(
      vscode.workspace.onDidChangeTextDocument,
      (e) => e.document.uri.toString() === uri.toString() && e.document.getText().includes('"n": 2'),
      'the editor to show the new revision',
    );
    await api.request(P.SaveDocument, { ...ref, baseRevId: base!.revId, body: { n: 2 } });
    await changed;
    assert.equal(editor.document.isDirty, false);
  });

  test('New Document opens {} for a new ID; the first save creates it; Delete Document deletes it', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const uri = await withAnswers(api, { quickPick: { 'New Document: database': db }, input: { 'New Document: ID': 'fresh' } }, () =>
      vscode.commands.executeCommand<vscode.Uri>('peersync.newDocument'),
    );
    assert.equal(uri?.path, `/${db}/${COLL}/fresh.json`);
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.toString(), uri.toString());
    assert.equal(editor.document.getText(), '{}\n');
    assert.equal(await api.request(P.GetDocument, { db, collection: COLL, docId: 'fresh' }), null, 'not created before the first save');
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), '{"type":"task","title":"write tests"}'));
    assert.equal(await editor.document.save(), true);
    assert.deepEqual((await api.request(P.GetDocument, { db, collection: COLL, docId: 'fresh' }))?.body, { type: 'task', title: 'write tests' });

    const deleted = await withAnswers(api, { warning: () => 'Delete' }, () => vscode.commands.executeCommand<boolean>('peersync.deleteDocument', { db, collection: COLL, docId: 'fresh' }));
    assert.equal(deleted, true);
    const doc = await api.request(P.GetDocument, { db, collection: COLL, docId: 'fresh' });
    assert.equal(doc?.deleted, true, 'a tombstone revision');
  });

  test('Copy ID and Show Revision History work on a document', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const ref = { db, collection: COLL, docId: 'hist' };
    const r1 = await api.request(P.SaveDocument, { ...ref, baseRevId: null, body: { v: 1 } });
    const r2 = await api.request(P.SaveDocument, { ...ref, baseRevId: r1.revId, body: { v: 2 } });
    const copied = await withAnswers(api, {}, async (p) => {
      await vscode.commands.executeCommand('peersync.copyDocumentId', ref);
      return p.filter((x) => x.kind === 'clipboard').map((x) => x.text);
    });
    assert.deepEqual(copied, ['hist']);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('peersync.showRevisionHistory', ref);
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(text, new RegExp(`current: ${r2.revId}`));
    assert.match(text, new RegExp(`└─ ${r2.revId} {2}★ current winner`));
    assert.ok(text.includes(r1.revId));
  });

  test('Import JSON Documents and Export Collection round-trip through files', async () => {
    const api = await peersync();
    const db = await createDb('docs');
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'peersync-io-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, Array.from({ length: 250 }, (_, i) => JSON.stringify({ _id: `item-${String(i).padStart(3, '0')}`, i })).join('\n'));
    const imported = await withAnswers(api, { quickPick: { 'Import JSON Documents: database': db }, openDialog: [vscode.Uri.file(input)] }, () =>
      vscode.commands.executeCommand<number>('peersync.importDocuments'),
    );
    assert.equal(imported, 250);
    const page = await api.request(P.ListDocuments, { db, collection: COLL, limit: 1000 });
    assert.equal(page.total, 250);

    // The view pages documents: 100, then "Load more…".
    const roots = await api.views.databases.getChildren();
    const dbNode = roots.find((n) => n.label === db)!;
    assert.match(String(dbNode.description), /250 docs/);
    const coll = (await api.views.databases.getChildren(dbNode))[0]!;
    let docs = await api.views.databases.getChildren(coll);
    assert.equal(docs.length, 101);
    assert.equal(docs[100]!.label, 'Load more…');
    assert.equal(docs[100]!.description, '100 of 250');
    const refreshed = nextEvent(api.views.databases.onDidRefresh, () => true, 'the view to refresh');
    await vscode.commands.executeCommand('peersync.loadMoreDocuments', db, COLL);
    await refreshed;
    docs = await api.views.databases.getChildren(coll);
    assert.equal(docs.length, 201);
    assert.equal(docs[199]!.label, 'item-199');

    const out = join(dir, 'out.jsonl');
    const exported = await withAnswers(api, { quickPick: { 'Export Collection: database': db }, saveDialog: vscode.Uri.file(out) }, () =>
      vscode.commands.executeCommand<number>('peersync.exportCollection'),
    );
    assert.equal(exported, 250);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { _id: string; i: number });
    assert.equal(lines.length, 250);
    assert.deepEqual(lines.find((l) => l._id === 'item-042')?.i, 42);
  });
});
