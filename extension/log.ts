/**
 * The "PeerSync" LogOutputChannel, filtered by the `peersync.logLevel` setting. The language client
 * writes the server's log messages through this same object, so the setting covers both sides.
 */
import * as vscode from 'vscode';
import type { LogLevelSetting } from './config';

const RANK: Record<LogLevelSetting, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

export class PeerSyncLog implements vscode.LogOutputChannel {
  constructor(
    private readonly channel: vscode.LogOutputChannel,
    private level: LogLevelSetting,
  ) {}

  setLevel(level: LogLevelSetting): void {
    this.level = level;
  }

  private on(level: Exclude<LogLevelSetting, 'off'>): boolean {
    return RANK[level] >= RANK[this.level];
  }

  get name(): string {
    return this.channel.name;
  }
  get logLevel(): vscode.LogLevel {
    return this.channel.logLevel;
  }
  get onDidChangeLogLevel(): vscode.Event<vscode.LogLevel> {
    return this.channel.onDidChangeLogLevel;
  }
  trace(message: string, ...args: unknown[]): void {
    if (this.on('trace')) this.channel.trace(message, ...args);
  }
  debug(message: string, ...args: unknown[]): void {
    if (this.on('debug')) this.channel.debug(message, ...args);
  }
  info(message: string, ...args: unknown[]): void {
    if (this.on('info')) this.channel.info(message, ...args);
  }
  warn(message: string, ...args: unknown[]): void {
    if (this.on('warn')) this.channel.warn(message, ...args);
  }
  error(error: string | Error, ...args: unknown[]): void {
    if (this.on('error')) this.channel.error(error, ...args);
  }
  append(value: string): void {
    if (this.level !== 'off') this.channel.append(value);
  }
  appendLine(value: string): void {
    if (this.level !== 'off') this.channel.appendLine(value);
  }
  replace(value: string): void {
    this.channel.replace(value);
  }
  clear(): void {
    this.channel.clear();
  }
  show(columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    this.channel.show(typeof columnOrPreserveFocus === 'boolean' ? columnOrPreserveFocus : preserveFocus);
  }
  hide(): void {
    this.channel.hide();
  }
  dispose(): void {
    this.channel.dispose();
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error for a notification: one "PeerSync:" prefix, whether or not the message already has one. */
export function errorNotice(e: unknown): string {
  return `PeerSync: ${errorMessage(e).replace(/^(PeerSync:\s*)+/i, '')}`;
}
