/**
 * Every prompt the extension shows goes through one `Ui` object, so extension-host tests can answer
 * them (the API exposes the live object; a test swaps a method and puts it back) instead of
 * patching `vscode.window`.
 */
import * as vscode from 'vscode';

/** What a wizard step's prompt returns when the user presses its Back button. */
export const BACK = vscode.QuickInputButtons.Back;
export type Back = typeof BACK;

export interface StepPosition {
  readonly step: number;
  readonly totalSteps: number;
}

export interface StepQuickPickOptions<T extends vscode.QuickPickItem> extends StepPosition {
  readonly title: string;
  readonly placeHolder?: string;
  /** The item chosen last time (going back to a step keeps its answer). */
  readonly active?: T;
  /** An extra item for what the user typed (e.g. a pasted URL), offered first and accepted with Enter. */
  readonly itemForValue?: (value: string) => T | undefined;
}

export interface StepInputBoxOptions extends StepPosition {
  readonly title: string;
  readonly prompt?: string;
  readonly value?: string;
  readonly placeHolder?: string;
  readonly password?: boolean;
  readonly validateInput?: (value: string) => string | undefined;
}

export interface Ui {
  showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined>;
  showWarningMessage(message: string, options: vscode.MessageOptions, ...items: string[]): Thenable<string | undefined>;
  showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined>;
  showQuickPick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Thenable<T | undefined>;
  showInputBox(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  /** A wizard step: "Title (2/6)" with a Back button from the second step on. */
  showStepQuickPick<T extends vscode.QuickPickItem>(items: readonly T[], options: StepQuickPickOptions<T>): Thenable<T | Back | undefined>;
  showStepInputBox(options: StepInputBoxOptions): Thenable<string | Back | undefined>;
  showOpenDialog(options: vscode.OpenDialogOptions): Thenable<vscode.Uri[] | undefined>;
  showSaveDialog(options: vscode.SaveDialogOptions): Thenable<vscode.Uri | undefined>;
  writeClipboard(text: string): Thenable<void>;
}

function stepQuickPick<T extends vscode.QuickPickItem>(items: readonly T[], options: StepQuickPickOptions<T>): Promise<T | Back | undefined> {
  const qp = vscode.window.createQuickPick<T>();
  qp.title = options.title;
  qp.step = options.step;
  qp.totalSteps = options.totalSteps;
  qp.placeholder = options.placeHolder;
  qp.ignoreFocusOut = true;
  qp.items = items;
  if (options.step > 1) qp.buttons = [BACK];
  if (options.active) qp.activeItems = [options.active];
  return new Promise<T | Back | undefined>((resolve) => {
    let typed: T | undefined;
    let settled = false;
    // Disposing the quick pick hides it, which reports again: only the first outcome counts.
    const done = (v: T | Back | undefined): void => {
      if (settled) return;
      settled = true;
      resolve(v);
      for (const d of subs) d.dispose();
      qp.dispose();
    };
    const subs = [
      qp.onDidTriggerButton((b) => b === BACK && done(BACK)),
      qp.onDidChangeValue((value) => {
        typed = options.itemForValue?.(value);
        qp.items = typed ? [typed, ...items] : items;
        if (typed) qp.activeItems = [typed];
      }),
      qp.onDidAccept(() => {
        const chosen = qp.activeItems[0] ?? qp.selectedItems[0] ?? typed;
        if (chosen) done(chosen);
      }),
      qp.onDidHide(() => done(undefined)),
    ];
    qp.show();
  });
}

function stepInputBox(options: StepInputBoxOptions): Promise<string | Back | undefined> {
  const box = vscode.window.createInputBox();
  box.title = options.title;
  box.step = options.step;
  box.totalSteps = options.totalSteps;
  box.prompt = options.prompt;
  box.value = options.value ?? '';
  box.placeholder = options.placeHolder;
  box.password = options.password === true;
  box.ignoreFocusOut = true;
  if (options.step > 1) box.buttons = [BACK];
  return new Promise<string | Back | undefined>((resolve) => {
    let settled = false;
    const done = (v: string | Back | undefined): void => {
      if (settled) return;
      settled = true;
      resolve(v);
      for (const d of subs) d.dispose();
      box.dispose();
    };
    const subs = [
      box.onDidTriggerButton((b) => b === BACK && done(BACK)),
      box.onDidChangeValue((v) => (box.validationMessage = options.validateInput?.(v))),
      box.onDidAccept(() => {
        const problem = options.validateInput?.(box.value);
        box.validationMessage = problem;
        if (!problem) done(box.value);
      }),
      box.onDidHide(() => done(undefined)),
    ];
    box.show();
  });
}

export function defaultUi(): Ui {
  return {
    showInformationMessage: (message, ...items) => vscode.window.showInformationMessage(message, ...items),
    showWarningMessage: (message, options, ...items) => vscode.window.showWarningMessage(message, options, ...items),
    showErrorMessage: (message, ...items) => vscode.window.showErrorMessage(message, ...items),
    showQuickPick: (items, options) => vscode.window.showQuickPick(items, options),
    showInputBox: (options) => vscode.window.showInputBox(options),
    showStepQuickPick: stepQuickPick,
    showStepInputBox: stepInputBox,
    showOpenDialog: (options) => vscode.window.showOpenDialog(options),
    showSaveDialog: (options) => vscode.window.showSaveDialog(options),
    writeClipboard: (text) => vscode.env.clipboard.writeText(text),
  };
}
