/** Writes the server's log records into the PeerSync log channel at their own level. */
import type * as vscode from 'vscode';
import type { LogRecordParams } from '../server/rpc/protocol';

const BARE = /^[\w.:/@+-]+$/;

function formatValue(value: unknown): string {
  if (typeof value === 'string') return BARE.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** `[listener] client connected {address: 127.0.0.1}`; the channel adds the time and the level. */
export function serverLogLine(record: LogRecordParams): string {
  const entries = record.fields ? Object.entries(record.fields) : [];
  const fields = entries.length > 0 ? ` {${entries.map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')}}` : '';
  return `[${record.namespace}] ${record.message}${fields}`;
}

type LevelWriter = Pick<vscode.LogOutputChannel, 'error' | 'warn' | 'info' | 'debug' | 'trace'>;

export function writeServerLog(log: LevelWriter, record: LogRecordParams): void {
  const line = serverLogLine(record);
  switch (record.level) {
    case 'error':
      return log.error(line);
    case 'warn':
      return log.warn(line);
    case 'info':
      return log.info(line);
    case 'debug':
      return log.debug(line);
    default:
      return log.trace(line);
  }
}
