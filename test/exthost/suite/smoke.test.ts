/// <reference types="mocha" />
// Facts about the running VS Code that hold under code-server (run.mjs) and desktop VS Code (run-electron.mjs).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

suite('extension host smoke', () => {
  test('runs VS Code 1.100 or later', () => {
    // the runners say which version they started; otherwise anything engines.vscode ^1.100.0 accepts
    const expected = process.env['PEERSYNC_EXTHOST_VSCODE_VERSION'];
    if (expected) assert.equal(vscode.version, expected);
    const [major = 0, minor = 0] = vscode.version.split('.').map(Number);
    assert.ok(major === 1 && minor >= 100, `vscode.version is ${vscode.version}`);
  });

  test('has exactly one workspace folder open', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    const expected = process.env['PEERSYNC_EXTHOST_WORKSPACE'];
    if (expected) assert.equal(folders[0]?.uri.fsPath, expected);
  });
});
