/**
 * Helpers for the extension-host tests (test/exthost/suite/*.test.ts): the PeerSync API, answers
 * for the extension's prompts (through its injectable `ui`), waiting on events, the built CLI.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PeerSyncApi } from '../../extension/api';
import type { StepPosition, Ui } from '../../extension/ui';
import { withTimeout } from './wait';

export const EXTENSION_ID = 'peersync.peersync';

export async function peersync(): Promise<PeerSyncApi> {
  const ext = vscode.extensions.getExtension<PeerSyncApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const api = ext.isActive ? ext.exports : await ext.activate();
  await api.whenReady();
  return api;
}

export function extensionPath(): string {
  return vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export interface Prompt {
  readonly kind: 'quickPick' | 'input' | 'info' | 'warning' | 'error' | 'open' | 'save' | 'clipboard';
  readonly text: string;
  readonly items: readonly string[];
  /** A wizard step's position ("2/6"), the item it starts on (the earlier answer), an input box's initial value. */
  readonly step?: string;
  readonly active?: string;
  readonly value?: string;
}

/** A wizard step's answer that presses its Back button. */
export const BACK_ANSWER = '<back>';
/** Accepts what the prompt proposes: a wizard step's earlier answer, an input box's initial value. */
export const KEEP_ANSWER = '<keep>';

export interface Answers {
  /**
   * quick pick title → the label to choose (exact, or a prefix; in a wizard step, else the text typed);
   * a list answers the same title in turn (e.g. a menu shown again after each choice, or BACK_ANSWER)
   */
  readonly quickPick?: Record<string, string | readonly string[]>;
  /** input box title → the value typed (a list: in turn) */
  readonly input?: Record<string, string | readonly string[]>;
  /** warning text → the button to press (undefined: dismiss) */
  readonly warning?: (message: string, items: readonly string[]) => string | undefined;
  readonly info?: (message: string, items: readonly string[]) => string | undefined;
  readonly error?: (message: string, items: readonly string[]) => string | undefined;
  readonly openDialog?: vscode.Uri[];
  readonly saveDialog?: vscode.Uri;
}

/** Answers the extension's prompts for the duration of `fn`; every prompt shown is recorded. */
export async function withAnswers<T>(api: PeerSyncApi, answers: Answers, fn: (prompts: Prompt[]) => PromiseLike<T>): Promise<T> {
  const ui = api.ui;
  const saved: Ui = { ...ui };
  const prompts: Prompt[] = [];
  const record = (kind: Prompt['kind'], text: string, items: readonly string[] = [], extra: Partial<Prompt> = {}): void => void prompts.push({ kind, text, items, ...extra });
  const asked = new Map<string, number>();
  const answerFor = (table: Record<string, string | readonly string[]> | undefined, title: string): string | undefined => {
    const a = table?.[title];
    if (typeof a === 'string' || a === undefined) return a;
    const n = asked.get(title) ?? 0;
    asked.set(title, n + 1);
    return a[Math.min(n, a.length - 1)];
  };
  const choose = <T extends vscode.QuickPickItem>(
    items: readonly T[],
    title: string,
    step?: StepPosition & { active?: T; itemForValue?: (value: string) => T | undefined },
  ): T | typeof BACK_ANSWER => {
    record(
      'quickPick',
      title,
      items.map((i) => i.label),
      step ? { step: `${step.step}/${step.totalSteps}`, ...(step.active ? { active: step.active.label } : {}) } : {},
    );
    const want = answerFor(answers.quickPick, title);
    if (want === undefined) throw new Error(`unexpected quick pick "${title}" (items: ${items.map((i) => i.label).join(' | ')})`);
    if (want === BACK_ANSWER) return BACK_ANSWER;
    if (want === KEEP_ANSWER) {
      if (!step?.active) throw new Error(`quick pick "${title}" has no earlier answer to keep`);
      return step.active;
    }
    const typed = step?.itemForValue;
    const item = items.find((i) => i.label === want) ?? items.find((i) => i.label.startsWith(want)) ?? typed?.(want);
    if (!item) throw new Error(`quick pick "${title}" has no item "${want}" (items: ${items.map((i) => i.label).join(' | ')})`);
    return item;
  };
  const type = (title: string, validate: ((v: string) => unknown) | undefined, initial: string | undefined, step?: StepPosition): string => {
    record('input', title, [], { ...(initial !== undefined ? { value: initial } : {}), ...(step ? { step: `${step.step}/${step.totalSteps}` } : {}) });
    const answer = answerFor(answers.input, title);
    if (answer === undefined) throw new Error(`unexpected input box "${title}"`);
    if (answer === BACK_ANSWER) return answer;
    const value = answer === KEEP_ANSWER ? (initial ?? '') : answer;
    const problem = validate?.(value);
    if (typeof problem === 'string' && problem) throw new Error(`input "${title}" = "${value}" refused: ${problem}`);
    return value;
  };
  const settle = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
  ui.showQuickPick = (<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Thenable<T | undefined> =>
    settle(() => {
      const c = choose(items, options.title ?? '');
      if (c === BACK_ANSWER) throw new Error(`quick pick "${options.title ?? ''}" has no Back button`);
      return c;
    })) as Ui['showQuickPick'];
  ui.showStepQuickPick = ((items, options) =>
    settle(() => {
      const c = choose(items, options.title, options);
      return c === BACK_ANSWER ? vscode.QuickInputButtons.Back : c;
    })) as Ui['showStepQuickPick'];
  ui.showInputBox = (options) => settle(() => type(options.title ?? '', options.validateInput, options.value));
  ui.showStepInputBox = (options) =>
    settle(() => {
      const v = type(options.title, options.validateInput, options.value, options);
      return v === BACK_ANSWER ? vscode.QuickInputButtons.Back : v;
    });
  ui.showWarningMessage = (message, _options, ...items) => (record('warning', message, items), Promise.resolve(answers.warning?.(message, items)));
  ui.showInformationMessage = (message, ...items) => (record('info', message, items), Promise.resolve(answers.info?.(message, items)));
  ui.showErrorMessage = (message, ...items) => (record('error', message, items), Promise.resolve(answers.error?.(message, items)));
  ui.showOpenDialog = (o) => (record('open', o.title ?? ''), Promise.resolve(answers.openDialog));
  ui.showSaveDialog = (o) => (record('save', o.title ?? ''), Promise.resolve(answers.saveDialog));
  ui.writeClipboard = (text) => (record('clipboard', text), Promise.resolve());
  try {
    return await fn(prompts);
  } finally {
    Object.assign(ui, saved);
  }
}

/** Resolves with the first event that satisfies `pred`; fails loudly after `ms`. */
export function nextEvent<T>(event: vscode.Event<T>, pred: (e: T) => boolean, what: string, ms = 20_000): Promise<T> {
  let sub: vscode.Disposable | undefined;
  const seen = new Promise<T>((resolve) => {
    sub = event((e) => pred(e) && resolve(e));
  });
  return withTimeout(seen, what, ms).finally(() => sub?.dispose());
}

/**
 * Re-checks `cond` whenever one of `events` fires (and once at the start) until it holds; fails
 * loudly after `ms`. For state that several events can change.
 */
export async function until<T>(
  cond: () => Promise<T | undefined | false> | T | undefined | false,
  events: vscode.Event<unknown>[],
  what: string,
  ms = 20_000,
  /** Also re-check this often (for state no event announces, e.g. another process's). */
  recheckMs?: number,
): Promise<T> {
  const first = await cond();
  if (first) return first;
  const subs: vscode.Disposable[] = [];
  const held = new Promise<T>((resolve, reject) => {
    const check = (): void => {
      Promise.resolve(cond()).then((v) => v && resolve(v), reject);
    };
    for (const e of events) subs.push(e(check));
    if (recheckMs !== undefined) {
      const interval = setInterval(check, recheckMs);
      subs.push({ dispose: () => clearInterval(interval) });
    }
  });
  return withTimeout(held, what, ms).finally(() => subs.forEach((s) => s.dispose()));
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `peersync` CLI (dist/cli.js) as a separate process: a headless peer. */
export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(extensionPath(), 'dist', 'cli.js'), ...args], { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a TypeScript fixture from test/fixtures with tsx. */
export function fixture(name: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join('test', 'fixtures', name), ...args], { cwd: extensionPath(), timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export function tempDir(prefix = 'peersync-exthost-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
export const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Creates a database through the Create Database command, as a user would; returns its name. */
export async function createDb(prefix: string): Promise<string> {
  const api = await peersync();
  const name = uniqueName(prefix);
  const db = await withAnswers(api, { input: { 'Create Database: name': name } }, () => vscode.commands.executeCommand<{ name: string } | undefined>('peersync.createDatabase'));
  assert.equal(db?.name, name, 'Create Database returned the new database');
  return name;
}
