/// <reference types="mocha" />
// Runs only when the runner installed the packaged .vsix (`run.mjs --install-vsix peersync.vsix`):
// the extension a user would install must load from its package and activate.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const vsix = process.env['PEERSYNC_EXTHOST_VSIX'];

(vsix ? suite : suite.skip)('packaged extension (.vsix)', () => {
  test('is installed from the .vsix and activates, starting its server', async () => {
    const ext = vscode.extensions.getExtension('peersync.peersync');
    assert.ok(ext, 'peersync.peersync is installed');
    assert.match(ext.extensionPath, /peersync\.peersync-\d/, `installed as a packaged extension (${ext.extensionPath})`);
    const api = (await ext.activate()) as { whenReady(): Promise<void> } | undefined;
    assert.ok(api && typeof api.whenReady === 'function', 'activate() returns the PeerSync API');
    await api.whenReady();
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('peersync.createDatabase'), 'its commands are registered');
  });
});
