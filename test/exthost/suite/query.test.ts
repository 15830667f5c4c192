/// <reference types="mocha" />
// The query playground: .peersync-query files, Run Query and its results panel, syntax errors as
// diagnostics, New Query from the Databases view, Export Query Results.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PeerSyncApi } from '../../../extension/api';
import type { QueryRun } from '../../../extension/query/query-commands';
import * as P from '../../../server/rpc/protocol';
import { encode, nextEvent, peersync, tempDir, uniqueName, until, withAnswers } from '../../helpers/exthost';

const COLL = '_default._default';

async function dbWithDocs(api: PeerSyncApi, docs: Record<string, unknown>): Promise<string> {
  const name = uniqueName('query');
  await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand('peersync.createDatabase'));
  for (const [id, body] of Object.entries(docs)) {
    await vscode.workspace.fs.writeFile(vscode.Uri.from({ scheme: 'peersync', path: `/${name}/${COLL}/${id}.json` }), encode(JSON.stringify(body)));
  }
  return name;
}

async function openQueryFile(text: string): Promise<vscode.TextEditor> {
  const file = join(tempDir(), `${uniqueName('q')}.peersync-query`);
  writeFileSync(file, text);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  assert.equal(doc.languageId, 'peersync-query', 'a .peersync-query file is in the query language');
  return vscode.window.showTextDocument(doc);
}

function putCursor(editor: vscode.TextEditor, needle: string): void {
  const at = editor.document.positionAt(editor.document.getText().indexOf(needle));
  editor.selection = new vscode.Selection(at, at);
}

suite('PeerSync: query playground', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Run Query runs the query at the cursor of a file with a db line; the panel shows its rows', async () => {
    const api = await peersync();
    const db = await dbWithDocs(api, { a: { name: 'Ann', n: 3 }, b: { name: 'Bob', n: 1, tags: ['x', 'y'] }, c: { name: 'Cy', n: 2 } });
    const editor = await openQueryFile(`-- db: ${db}\nSELECT COUNT(*) AS total FROM _;\n\nSELECT META().id, name, tags FROM _ WHERE n >= 1 ORDER BY n\n`);

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
    assert.deepEqual(
      lenses.map((l) => [l.range.start.line, l.command?.title]),
      [
        [0, '▶ Run Query'],
        [3, '▶ Run Query'],
      ],
    );

    putCursor(editor, 'WHERE');
    const run = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
    assert.equal(run.db, db);
    assert.equal(run.error, undefined);
    assert.deepEqual(run.result?.columns, ['id', 'name', 'tags']);
    assert.deepEqual(run.result?.rows, [
      { id: 'b', name: 'Bob', tags: ['x', 'y'] },
      { id: 'c', name: 'Cy' },
      { id: 'a', name: 'Ann' },
    ]);

    const shown = api.queryResultsShown();
    assert.equal(shown?.type, 'results');
    assert.deepEqual(shown.type === 'results' && shown.rows, run.result?.rows);
    const grid = await api.probeQueryResults();
    assert.deepEqual(grid?.headers, ['id', 'name', 'tags']);
    assert.deepEqual(grid?.cells, [
      ['b', 'Bob', '["x","y"]'],
      ['c', 'Cy', ''],
      ['a', 'Ann', ''],
    ]);
    assert.equal(grid?.pageLabel, 'rows 1–3 of 3');
    assert.match(grid?.status ?? '', /^3 rows in \d+/);

    // The CodeLens of the first query runs that one.
    const first = lenses[0]!.command!;
    const counted = await vscode.commands.executeCommand<QueryRun>(first.command, ...(first.arguments ?? []));
    assert.deepEqual(counted.result?.rows, [{ total: 3 }]);
  });

  test('a syntax error becomes a diagnostic where it is, shows in the panel, and goes when the text changes', async () => {
    const api = await peersync();
    const db = await dbWithDocs(api, { a: { n: 1 } });
    const editor = await openQueryFile(`-- db: ${db}\nSELECT 1 FROM _;\n\nSELECT n\nFORM _\n`);
    const uri = editor.document.uri;
    putCursor(editor, 'FORM');
    const run = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
    assert.match(run.error?.message ?? '', /FORM/);
    const diagnostics = vscode.languages.getDiagnostics(uri);
    assert.equal(diagnostics.length, 1);
    const range = diagnostics[0]!.range;
    assert.deepEqual([range.start.line, range.start.character, range.end.line, range.end.character], [4, 0, 4, 4]);
    assert.match(diagnostics[0]!.message, /expected FROM/);
    const grid = await api.probeQueryResults();
    assert.match(grid?.error ?? '', /expected FROM/);
    assert.deepEqual(grid?.cells, []);

    await editor.edit((e) => e.replace(new vscode.Range(4, 0, 4, 4), 'FROM'));
    await until(() => vscode.languages.getDiagnostics(uri).length === 0, [vscode.languages.onDidChangeDiagnostics], 'the diagnostic cleared by the edit');
    const fixed = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
    assert.deepEqual(fixed.result?.rows, [{ n: 1 }]);
  });

  test('without a db line Run Query asks for the database once per file', async () => {
    const api = await peersync();
    const db = await dbWithDocs(api, { only: { v: true } });
    await dbWithDocs(api, {}); // a second database, so that there is a choice
    const editor = await openQueryFile('SELECT META().id FROM _\n');
    const first = await withAnswers(api, { quickPick: { 'Run Query: database': db } }, () => vscode.commands.executeCommand<QueryRun>('peersync.runQuery'));
    assert.deepEqual(first.result?.rows, [{ id: 'only' }]);
    const prompts = await withAnswers(api, {}, async (p) => {
      const again = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
      assert.equal(again.db, db);
      return p;
    });
    assert.deepEqual(prompts, [], 'the database picked for the file is remembered');
    assert.ok(editor);
  });

  test('New Query on a collection opens a prefilled query that runs', async () => {
    const api = await peersync();
    const db = await dbWithDocs(api, { d1: { x: 1 }, d2: { x: 2 } });
    const roots = await api.views.databases.getChildren();
    const [collection] = await api.views.databases.getChildren(roots.find((n) => n.label === db));
    assert.equal(collection?.contextValue, 'collection');
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('peersync.newQuery', collection);
    assert.equal(doc.languageId, 'peersync-query');
    assert.ok(doc.isUntitled);
    assert.equal(doc.getText(), `-- db: ${db}\nSELECT META().id, * FROM _ LIMIT 100\n`);
    assert.equal(vscode.window.activeTextEditor?.document, doc);
    const run = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
    assert.deepEqual(
      run.result?.rows.map((r) => r['id']),
      ['d1', 'd2'],
    );
  });

  test('Export Query Results writes the last results as CSV and as JSON lines', async () => {
    const api = await peersync();
    const db = await dbWithDocs(api, { a: { name: 'Ann, "A"', n: 1 }, b: { name: 'Bob', n: 2, extra: { k: 1 } } });
    await openQueryFile(`-- db: ${db}\nSELECT META().id, name, extra FROM _ ORDER BY n\n`);
    const run = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
    assert.equal(run.result?.rows.length, 2);

    const dir = tempDir();
    const csv = vscode.Uri.file(join(dir, 'out.csv'));
    const written = await withAnswers(api, { quickPick: { 'Export Query Results: format': 'CSV' }, saveDialog: csv }, () => vscode.commands.executeCommand<vscode.Uri>('peersync.exportQueryResults'));
    assert.equal(written?.fsPath, csv.fsPath);
    assert.equal(readFileSync(csv.fsPath, 'utf8'), 'id,name,extra\r\na,"Ann, ""A""",\r\nb,Bob,"{""k"":1}"\r\n');

    const jsonl = join(dir, 'out.jsonl');
    await withAnswers(api, {}, () => vscode.commands.executeCommand('peersync.exportQueryResults', 'jsonl', jsonl));
    const lines = readFileSync(jsonl, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, [
      { id: 'a', name: 'Ann, "A"' },
      { id: 'b', name: 'Bob', extra: { k: 1 } },
    ]);
    // The same rows the server returns, formatted by the shared formatter.
    const direct = await api.request(P.RunQuery, { db, query: 'SELECT META().id, name, extra FROM _ ORDER BY n' });
    assert.deepEqual(lines, direct.rows);
  });
});

suite('PeerSync: query results panel', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the grid pages by 100, sorts by a clicked header (numbers numerically), and a row opens its document', async () => {
    const api = await peersync();
    const db = await dbWithDocs(api, {});
    const dir = tempDir();
    const file = join(dir, 'docs.json');
    // n runs 0…249 but the ids sort differently (d000 < d001 < … yet n descends), so sorting shows.
    writeFileSync(file, JSON.stringify(Array.from({ length: 250 }, (_, i) => ({ _id: `d${String(i).padStart(3, '0')}`, n: 249 - i }))));
    const imported = await api.request(P.ImportDocuments, { db, collection: COLL, file });
    assert.equal(imported.imported, 250);
    await openQueryFile(`-- db: ${db}\nSELECT META().id, n FROM _ LIMIT 1000\n`);
    const run = await vscode.commands.executeCommand<QueryRun>('peersync.runQuery');
    assert.equal(run.result?.rows.length, 250);

    const first = await api.probeQueryResults();
    assert.equal(first?.pageLabel, 'rows 1–100 of 250');
    assert.equal(first?.cells.length, 100);
    assert.deepEqual(first?.cells[0], ['d000', '249']);

    const next = await api.probeQueryResults('#next');
    assert.ok(next?.clicked);
    assert.equal(next?.pageLabel, 'rows 101–200 of 250');
    assert.deepEqual(next?.cells[0], ['d100', '149']);

    const sorted = await api.probeQueryResults('button.sort[data-column="n"]');
    assert.equal(sorted?.pageLabel, 'rows 1–100 of 250', 'sorting goes back to the first page');
    assert.deepEqual(sorted?.cells.slice(0, 3), [
      ['d249', '0'],
      ['d248', '1'],
      ['d247', '2'],
    ]);
    const descending = await api.probeQueryResults('button.sort[data-column="n"]');
    assert.deepEqual(descending?.cells[0], ['d000', '249']);

    const opened = nextEvent(vscode.window.onDidChangeActiveTextEditor, (e) => e?.document.uri.scheme === 'peersync', 'the document editor');
    const click = await api.probeQueryResults('#grid tbody tr:nth-child(2) button.open-doc');
    assert.ok(click?.clicked, 'the id cell is a button');
    const editor = await opened;
    assert.equal(editor?.document.uri.path, `/${db}/${COLL}/d001.json`);
  });
});
