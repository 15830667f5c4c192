/**
 * Every prompt the extension shows goes through one `Ui` object, so extension-host tests can answer
 * them (the API exposes the live object; a test swaps a method and puts it back) instead of
 * patching `vscode.window`.
 */
import * as vscode from 'vscode';

export interface Ui {
  showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined>;
  showWarningMessage(message: string, options: vscode.MessageOptions, ...items: string[]): Thenable<string | undefined>;
  showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined>;
  showQuickPick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Thenable<T | undefined>;
  showInputBox(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  showOpenDialog(options: vscode.OpenDialogOptions): Thenable<vscode.Uri[] | undefined>;
  showSaveDialog(options: vscode.SaveDialogOptions): Thenable<vscode.Uri | undefined>;
  writeClipboard(text: string): Thenable<void>;
}

export function defaultUi(): Ui {
  return {
    showInformationMessage: (message, ...items) => vscode.window.showInformationMessage(message, ...items),
    showWarningMessage: (message, options, ...items) => vscode.window.showWarningMessage(message, options, ...items),
    showErrorMessage: (message, ...items) => vscode.window.showErrorMessage(message, ...items),
    showQuickPick: (items, options) => vscode.window.showQuickPick(items, options),
    showInputBox: (options) => vscode.window.showInputBox(options),
    showOpenDialog: (options) => vscode.window.showOpenDialog(options),
    showSaveDialog: (options) => vscode.window.showSaveDialog(options),
    writeClipboard: (text) => vscode.env.clipboard.writeText(text),
  };
}
