/// <reference types="mocha" />
// What the package contributes for a first-time user: the Getting Started walkthrough and
// keybindings that do not take a key VS Code already uses.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, extensionPath, peersync } from '../../helpers/exthost';

interface Walkthrough {
  readonly id: string;
  readonly steps: readonly { id: string; description: string; media: { markdown?: string; image?: string }; completionEvents?: string[] }[];
}
interface Keybinding {
  readonly command: string;
  readonly key: string;
  readonly mac?: string;
  readonly when?: string;
}

function contributes(): { walkthroughs?: Walkthrough[]; keybindings?: Keybinding[] } {
  const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { walkthroughs?: Walkthrough[]; keybindings?: Keybinding[] } };
  return pkg.contributes;
}

suite('PeerSync: contributions for a first-time user', () => {
  test('the Getting Started walkthrough: create a database, start a listener, replicate, resolve a conflict', async () => {
    await peersync();
    const walkthrough = contributes().walkthroughs?.find((w) => w.id === 'peersync.gettingStarted');
    assert.ok(walkthrough, 'contributed');
    assert.deepEqual(
      walkthrough.steps.map((s) => s.id),
      ['createDatabase', 'startListener', 'replicate', 'resolveConflict'],
    );
    const commands = await vscode.commands.getCommands(true);
    for (const step of walkthrough.steps) {
      const link = /\(command:(peersync\.[A-Za-z]+)\)/.exec(step.description)?.[1];
      assert.ok(link && commands.includes(link), `step ${step.id} links a registered command (${link ?? 'none'})`);
      assert.ok(step.completionEvents?.includes(`onCommand:${link}`), `step ${step.id} completes when its command runs`);
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media && existsSync(join(extensionPath(), media)), `step ${step.id} media ${media ?? 'none'} is in the package`);
    }
  });

  test('keybindings for the dashboard, Start Replication and New Document, on keys VS Code does not use', async () => {
    await peersync();
    const bindings = contributes().keybindings ?? [];
    assert.deepEqual(bindings.map((b) => b.command).sort(), ['peersync.newDocument', 'peersync.openDashboard', 'peersync.startReplication']);
    assert.equal(bindings.find((b) => b.command === 'peersync.newDocument')?.when, 'focusedView == peersync.databases');
    await vscode.commands.executeCommand('workbench.action.openDefaultKeybindingsFile');
    const defaults = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.ok(defaults.length > 10_000, 'the default keybindings were read');
    const taken = new Set([...defaults.matchAll(/"key":\s*"([^"]+)"/g)].map((m) => m[1]!));
    for (const b of bindings) assert.ok(!taken.has(b.key), `${b.key} (${b.command}) is not a VS Code default`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
