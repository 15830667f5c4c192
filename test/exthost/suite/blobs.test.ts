/// <reference types="mocha" />
// Blobs in the Databases view: listing a document's blobs, opening an image in VS Code's image
// preview, a text blob in a read-only editor, a blob not replicated yet, and Save Blob As.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type * as P from '../../../server/rpc/protocol';
import { decode, encode, fixture, peersync, tempDir, uniqueName, until, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';
const IMAGE_PREVIEW = 'imagePreview.previewEditor';

/** A database made by test/fixtures/make-blob-db.ts, opened in the extension's server. */
async function blobDb(): Promise<string> {
  const api = await peersync();
  const name = uniqueName('blobs');
  const made = await fixture('make-blob-db.ts', [join(api.dataFolder(), name)]);
  assert.equal(made.code, 0, made.stderr);
  await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
  return name;
}

async function documentNodes(db: string): Promise<vscode.TreeItem[]> {
  const api = await peersync();
  const dbNode = (await api.views.databases.getChildren()).find((n) => n.label === db);
  assert.ok(dbNode, `the Databases view lists ${db}`);
  const coll = (await api.views.databases.getChildren(dbNode)).find((n) => n.label === COLL);
  return api.views.databases.getChildren(coll);
}

/** The blob nodes under a document, as the view shows them when it is expanded. */
async function blobNodes(db: string, docId: string): Promise<vscode.TreeItem[]> {
  const api = await peersync();
  const doc = (await documentNodes(db)).find((n) => n.label === docId);
  assert.ok(doc, `${db} lists ${docId}`);
  return api.views.databases.getChildren(doc);
}

/** Runs a tree item's click command, as VS Code does. */
function click(item: vscode.TreeItem): Thenable<unknown> {
  assert.ok(item.command, `${String(item.label)} has a click command`);
  return vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
}

function openTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

/** Waits for a tab showing `uri` in the editor `viewType` (a custom editor such as the image preview). */
function customEditorTab(uri: vscode.Uri, viewType: string): Promise<vscode.TabInputCustom> {
  return until(
    () =>
      openTabs()
        .map((t) => t.input)
        .find((i): i is vscode.TabInputCustom => i instanceof vscode.TabInputCustom && i.viewType === viewType && i.uri.toString() === uri.toString()),
    [vscode.window.tabGroups.onDidChangeTabs],
    `a ${viewType} tab for ${uri.toString()} (tabs: ${openTabs()
      .map((t) => t.label)
      .join(', ')})`,
  );
}

const sha1 = (bytes: Uint8Array): string => `sha1-${createHash('sha1').update(bytes).digest('base64')}`;

suite('PeerSync: blobs', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('a document with blobs expands to them: JSON path, content type and size; one not replicated yet says so', async () => {
    const db = await blobDb();
    const docs = await documentNodes(db);
    const list = docs.find((n) => n.label === 'list');
    assert.equal(list?.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed, 'a document with blobs can be expanded');
    assert.match(String(list?.description), / · 2 blobs$/);
    assert.equal(docs.find((n) => n.label === 'photo')?.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);

    const blobs = await blobNodes(db, 'list');
    assert.deepEqual(
      blobs.map((b) => b.label),
      ['list[0].image', 'list[1].image'],
    );
    for (const b of blobs) {
      assert.equal(b.contextValue, 'blob');
      assert.match(String(b.description), /^\d+ B · image\/svg\+xml$/);
    }
    const [pending] = await blobNodes(db, 'pending');
    assert.equal(pending?.label, 'scan');
    assert.equal(pending?.contextValue, 'blob.missing');
    assert.equal(pending?.description, 'not replicated yet · 17 B · image/jpeg');
  });

  test("clicking an image blob opens it in VS Code's image preview (SVG from the demo inventory, and a PNG)", async () => {
    const db = await blobDb();
    const [apple] = await blobNodes(db, 'list');
    const appleUri = (await click(apple!)) as vscode.Uri;
    assert.equal(appleUri.scheme, 'peersync-blob');
    assert.ok(appleUri.path.endsWith('/list[0].image.svg'), appleUri.path);
    const tab = await customEditorTab(appleUri, IMAGE_PREVIEW);
    assert.equal(tab.viewType, IMAGE_PREVIEW);
    assert.match(decode(await vscode.workspace.fs.readFile(appleUri)), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    const [photo] = await blobNodes(db, 'photo');
    const photoUri = (await click(photo!)) as vscode.Uri;
    assert.ok(photoUri.path.endsWith('/photo.png'), photoUri.path);
    await customEditorTab(photoUri, IMAGE_PREVIEW);
    const bytes = await vscode.workspace.fs.readFile(photoUri);
    assert.deepEqual([...bytes.subarray(1, 4)], [...encode('PNG')]);
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, 'photo.png');
  });

  test('a text blob opens in a read-only text editor', async () => {
    const db = await blobDb();
    const [note] = await blobNodes(db, 'notes');
    assert.equal(note?.label, 'attachments[0]');
    const uri = (await click(note!)) as vscode.Uri;
    assert.ok(uri.path.endsWith('/attachments[0].txt'), uri.path);
    const editor = await until(
      () => vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString()),
      [vscode.window.onDidChangeVisibleTextEditors],
      'a text editor on the blob',
    );
    assert.equal(editor.document.getText(), 'first line\nsecond line\n');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, encode('changed'))), /read-only|NoPermissions/i);
  });

  test('a blob whose content is not here says it has not been replicated instead of opening', async () => {
    const api = await peersync();
    const db = await blobDb();
    const [pending] = await blobNodes(db, 'pending');
    const prompts = await withAnswers(api, {}, async (p) => {
      assert.equal(await click(pending!), undefined, 'nothing opened');
      return p;
    });
    assert.equal(prompts.length, 1, JSON.stringify(prompts));
    assert.equal(prompts[0]!.kind, 'warning');
    assert.match(prompts[0]!.text, new RegExp(`The blob scan of “pending” \\(image/jpeg, 17 B\\) is not in ${db} yet: its content has not been replicated here`));
    assert.equal(openTabs().filter((t) => t.input instanceof vscode.TabInputCustom || t.input instanceof vscode.TabInputText).length, 0);
  });

  test('Save Blob As writes the blob to the chosen file, from the view and from the open preview', async () => {
    const api = await peersync();
    const db = await blobDb();
    const [photo] = await blobNodes(db, 'photo');
    const digest = (photo as vscode.TreeItem & { blob: P.BlobInfo }).blob.digest;
    const dir = tempDir();

    const fromView = vscode.Uri.file(join(dir, 'from-view.png'));
    const prompts = await withAnswers(api, { saveDialog: fromView }, async (p) => {
      await vscode.commands.executeCommand('peersync.saveBlobAs', photo);
      return p;
    });
    assert.deepEqual(
      prompts.map((p) => p.kind),
      ['save', 'info'],
    );
    assert.match(prompts[1]!.text, /^Saved photo \(\d+ B\) to .*from-view\.png\.$/);
    assert.equal(sha1(readFileSync(fromView.fsPath)), digest);

    // With no argument it saves the blob of the active editor (here the image preview).
    const uri = (await click(photo!)) as vscode.Uri;
    await customEditorTab(uri, IMAGE_PREVIEW);
    const fromEditor = vscode.Uri.file(join(dir, 'from-editor.png'));
    await withAnswers(api, { saveDialog: fromEditor }, () => vscode.commands.executeCommand('peersync.saveBlobAs'));
    assert.equal(sha1(readFileSync(fromEditor.fsPath)), digest);
  });
});
