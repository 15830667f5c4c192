/// <reference types="mocha" />
// Databases as a whole (delete a database, a collection, several documents; filter by ID prefix)
// and a collection's JSON Schema in the document editor (diagnostics; a refused save keeps the edit).
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import * as P from '../../../server/rpc/protocol';
import { cli, createDb, encode, nextEvent, peersync, tempDir, uniqueName, until, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';

function docUri(db: string, docId: string, collection = COLL): vscode.Uri {
  return vscode.Uri.from({ scheme: 'peersync', path: `/${db}/${collection}/${docId}.json` });
}

async function dbNode(db: string): Promise<vscode.TreeItem> {
  const api = await peersync();
  const node = (await api.views.databases.getChildren()).find((n) => n.label === db);
  assert.ok(node, `the Databases view lists ${db}`);
  return node;
}

async function collectionNode(db: string, collection = COLL): Promise<vscode.TreeItem> {
  const api = await peersync();
  const node = (await api.views.databases.getChildren(await dbNode(db))).find((n) => n.label === collection);
  assert.ok(node, `${db} lists ${collection}`);
  return node;
}

suite('PeerSync: databases, collections and documents', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Delete Database asks first, naming it, then removes it and its folder', async () => {
    const api = await peersync();
    const db = await createDb('doomed');
    await vscode.workspace.fs.writeFile(docUri(db, 'a'), encode('{"x":1}'));
    const folder = join(api.dataFolder(), db);
    assert.ok(existsSync(folder));
    const declined = await withAnswers(api, { warning: () => undefined }, async (p) => ({
      ok: await vscode.commands.executeCommand<boolean>('peersync.deleteDatabase', await dbNode(db)),
      prompts: p,
    }));
    assert.equal(declined.ok, false);
    assert.equal(declined.prompts.find((p) => p.kind === 'warning')?.text, `Delete the database “${db}” for good?`);
    assert.ok(
      (await api.request(P.ListDatabases)).some((d) => d.name === db),
      'still there after Cancel',
    );

    const ok = await withAnswers(api, { warning: () => 'Delete Database' }, async () => vscode.commands.executeCommand<boolean>('peersync.deleteDatabase', await dbNode(db)));
    assert.equal(ok, true);
    assert.ok(!(await api.request(P.ListDatabases)).some((d) => d.name === db));
    assert.ok(!existsSync(folder), 'its folder is gone');
    await until(async () => !(await api.views.databases.getChildren()).some((n) => n.label === db) || undefined, [api.views.databases.onDidRefresh], 'the Databases view to drop it');
  });

  test('Close Database, then Refresh opens it again from the data folder; Open Database Folder opens one from elsewhere', async () => {
    const api = await peersync();
    const db = await createDb('closing');
    assert.equal(await vscode.commands.executeCommand('peersync.closeDatabase', await dbNode(db)), true);
    assert.ok(!(await api.request(P.ListDatabases)).some((d) => d.name === db), 'closed');
    assert.ok(existsSync(join(api.dataFolder(), db)), 'its folder stays');
    // A folder of the data folder that is not a readable database is reported, not opened.
    const broken = join(api.dataFolder(), uniqueName('broken'));
    mkdirSync(broken);
    writeFileSync(join(broken, 'journal.log'), 'not a journal');
    try {
      const prompts = await withAnswers(api, {}, async (p) => (await vscode.commands.executeCommand('peersync.refreshViews'), p));
      const warning = prompts.find((p) => p.kind === 'warning');
      assert.ok(warning?.text.startsWith('PeerSync could not open a folder of the data folder: '), JSON.stringify(prompts));
      assert.ok(warning?.text.includes(broken.split('/').pop()!));
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
    assert.ok(
      (await api.request(P.ListDatabases)).some((d) => d.name === db),
      'Refresh opened it again',
    );

    const elsewhere = join(tempDir(), uniqueName('outside'));
    const made = await cli(['db', 'create', '--db', elsewhere]);
    assert.equal(made.code, 0, made.stderr);
    const name = elsewhere.split('/').pop()!;
    const opened = await withAnswers(api, { openDialog: [vscode.Uri.file(elsewhere)] }, () => vscode.commands.executeCommand<P.DatabaseSummary>('peersync.openDatabaseFolder'));
    assert.equal(opened?.name, name);
    await until(async () => (await api.views.databases.getChildren()).some((n) => n.label === name) || undefined, [api.views.databases.onDidRefresh], 'the Databases view to list it');
    await api.request(P.CloseDatabase, { db: name });
  });

  test('Delete Collection asks first and removes the collection with its documents', async () => {
    const api = await peersync();
    const db = await createDb('colls');
    await vscode.commands.executeCommand('peersync.createCollection', db, 'inventory.items');
    await vscode.workspace.fs.writeFile(docUri(db, 'i1', 'inventory.items'), encode('{"x":1}'));
    const node = await collectionNode(db, 'inventory.items');
    const ok = await withAnswers(api, { warning: (m) => (m === `Delete the collection “inventory.items” of ${db}?` ? 'Delete Collection' : undefined) }, () =>
      vscode.commands.executeCommand<boolean>('peersync.deleteCollection', node),
    );
    assert.equal(ok, true);
    const summary = (await api.request(P.ListDatabases)).find((d) => d.name === db);
    assert.deepEqual(
      summary?.collections.map((c) => c.name),
      [COLL],
    );
  });

  test('several selected documents are deleted with one confirmation', async () => {
    const api = await peersync();
    const db = await createDb('many');
    for (const id of ['a', 'b', 'c']) await vscode.workspace.fs.writeFile(docUri(db, id), encode(`{"id":"${id}"}`));
    const docs = await api.views.databases.getChildren(await collectionNode(db));
    const chosen = docs.filter((d) => d.label === 'a' || d.label === 'b');
    assert.equal(chosen.length, 2);
    const prompts = await withAnswers(api, { warning: () => 'Delete' }, async (p) => {
      assert.equal(await vscode.commands.executeCommand('peersync.deleteDocument', chosen[0], chosen), true);
      return p;
    });
    const warnings = prompts.filter((p) => p.kind === 'warning');
    assert.equal(warnings.length, 1, 'one confirmation');
    assert.equal(warnings[0]!.text, `Delete 2 documents from ${db} · ${COLL}?`);
    const left = await api.request(P.ListDocuments, { db, collection: COLL, limit: 10 });
    assert.deepEqual(
      left.docs.map((d) => d.id),
      ['c'],
    );
  });

  test('Filter Documents by ID prefix: the collection says so, Load more keeps the filter, Clear Filter shows all', async () => {
    const api = await peersync();
    const db = await createDb('filter');
    const records = [...Array.from({ length: 105 }, (_, i) => ({ _id: `a-${String(i).padStart(3, '0')}`, i })), ...Array.from({ length: 20 }, (_, i) => ({ _id: `b-${i}`, i }))];
    await api.request(P.ImportBatch, { db, collection: COLL, records });
    const coll = await collectionNode(db);
    await withAnswers(api, { input: { 'Filter Documents: ID prefix or condition': 'a-' } }, () => vscode.commands.executeCommand('peersync.filterDocuments', coll));
    const filtered = await collectionNode(db);
    assert.match(String(filtered.description), /^125 docs · filtered: a-$/, 'the count of the collection stays');
    assert.equal(filtered.contextValue, 'collection.filtered');
    const page = await api.views.databases.getChildren(filtered);
    assert.equal(page.length, 101);
    assert.ok(page.slice(0, 100).every((n) => String(n.label).startsWith('a-')));
    assert.equal(page[100]!.label, 'Load more…');
    await vscode.commands.executeCommand('peersync.loadMoreDocuments', db, COLL);
    const all = await api.views.databases.getChildren(filtered);
    assert.equal(all.length, 105, 'every a- document, and no Load more');
    assert.ok(all.every((n) => String(n.label).startsWith('a-')));

    await vscode.commands.executeCommand('peersync.clearDocumentFilter', filtered);
    const cleared = await collectionNode(db);
    assert.equal(cleared.contextValue, 'collection');
    const unfiltered = await api.views.databases.getChildren(cleared);
    assert.ok(unfiltered.some((n) => n.label === 'b-0') || unfiltered.some((n) => n.label === 'Load more…'));
  });

  test('Filter Documents by a field condition lists the matching documents; a condition with a mistake says where', async () => {
    const api = await peersync();
    const db = await createDb('where');
    await api.request(P.ImportBatch, { db, collection: COLL, records: Array.from({ length: 12 }, (_, i) => ({ _id: `d${String(i).padStart(2, '0')}`, kind: i % 4 === 0 ? 'list' : 'note', qty: i })) });
    await withAnswers(api, { input: { 'Filter Documents: ID prefix or condition': 'kind = "list" AND qty > 0' } }, async () =>
      vscode.commands.executeCommand('peersync.filterDocuments', await collectionNode(db)),
    );
    const filtered = await collectionNode(db);
    assert.match(String(filtered.tooltip), /documents where kind = "list" AND qty > 0/);
    assert.deepEqual(
      (await api.views.databases.getChildren(filtered)).map((n) => n.label),
      ['d04', 'd08'],
    );
    await withAnswers(api, { input: { 'Filter Documents: ID prefix or condition': 'qty >' } }, async () => vscode.commands.executeCommand('peersync.filterDocuments', await collectionNode(db)));
    const [message] = await api.views.databases.getChildren(await collectionNode(db));
    assert.match(String(message?.label), /^Filter: .*line 1, column 6/);
  });

  test('Duplicate Document saves a copy under a new ID; Copy Document JSON puts the body on the clipboard', async () => {
    const api = await peersync();
    const db = await createDb('dup');
    await vscode.workspace.fs.writeFile(docUri(db, 'orig'), encode('{"name":"milk","qty":2}'));
    const ref = { db, collection: COLL, docId: 'orig' };
    const copied = await withAnswers(api, {}, async (p) => {
      await vscode.commands.executeCommand('peersync.copyDocumentJson', ref);
      return p.find((x) => x.kind === 'clipboard')?.text;
    });
    assert.deepEqual(JSON.parse(copied ?? 'null'), { name: 'milk', qty: 2 });
    await withAnswers(api, { input: { 'Duplicate Document: new ID': 'orig-2' } }, () => vscode.commands.executeCommand('peersync.duplicateDocument', ref));
    assert.deepEqual((await api.request(P.GetDocument, { ...ref, docId: 'orig-2' }))?.body, { name: 'milk', qty: 2 });
  });
});

suite('PeerSync: JSON Schema in the editor', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('problems appear as diagnostics where they are; a refused save keeps the edit', async () => {
    const api = await peersync();
    const db = await createDb('schema');
    const uri = docUri(db, 'item');
    await vscode.workspace.fs.writeFile(uri, encode('{"name":"milk","qty":1}'));
    const schemaFile = join(tempDir(), 'item.schema.json');
    writeFileSync(schemaFile, JSON.stringify({ type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'number' } } }));
    assert.equal(await vscode.commands.executeCommand('peersync.setCollectionSchema', await collectionNode(db), schemaFile), true);
    assert.ok(await api.request(P.GetCollectionSchema, { db, collection: COLL }));

    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    const typed = doc.getText().replace('"qty": 1', '"qty": "two"');
    assert.notEqual(typed, doc.getText());
    await editor.edit((e) => e.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), typed));
    const diags = await until(
      () => {
        const d = api.schemaDiagnostics.diagnostics(uri);
        return d.length > 0 ? d : undefined;
      },
      [api.schemaDiagnostics.onDidUpdate],
      'schema diagnostics for qty',
    );
    assert.equal(diags.length, 1);
    assert.equal(doc.getText(diags[0]!.range), '"two"');
    assert.match(diags[0]!.message, /qty/);

    const saved = await doc.save();
    assert.equal(saved, false, 'the save is refused');
    assert.ok(doc.isDirty, 'the edit is kept');
    assert.match(doc.getText(), /"qty": "two"/);
    assert.deepEqual((await api.request(P.GetDocument, { db, collection: COLL, docId: 'item' }))?.body, { name: 'milk', qty: 1 });
    assert.equal(api.schemaDiagnostics.diagnostics(uri).length, 1);

    // Fixed: the diagnostics go, and the save goes through.
    const cleared = nextEvent(api.schemaDiagnostics.onDidUpdate, (u) => u.toString() === uri.toString() && api.schemaDiagnostics.diagnostics(uri).length === 0, 'the diagnostics to clear');
    await editor.edit((e) => e.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), typed.replace('"two"', '2')));
    await cleared;
    assert.equal(await doc.save(), true);
    assert.deepEqual((await api.request(P.GetDocument, { db, collection: COLL, docId: 'item' }))?.body, { name: 'milk', qty: 2 });
  });
});
