/** The `peersync.*` settings, read in one place. */
import * as vscode from 'vscode';
import type { BuiltInResolverName } from '../server/rpc/protocol';

export type LogLevelSetting = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const RESOLVERS: readonly BuiltInResolverName[] = ['default', 'localWins', 'remoteWins', 'merge', 'mergePreferLocal', 'manual'];

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('peersync');
}

export const settings = {
  /** Folder holding the databases; empty means the extension's workspace storage. */
  dataFolder(): string | undefined {
    const v = section().get<string>('dataFolder', '').trim();
    return v === '' ? undefined : v;
  },
  defaultPort(): number {
    const v = section().get<number>('defaultPort', 4984);
    return Number.isInteger(v) && v >= 0 && v <= 65535 ? v : 4984;
  },
  /** WebSocket heartbeat for replicators, in seconds (undefined: the server's default). */
  heartbeat(): number | undefined {
    const v = section().get<number>('heartbeat', 300);
    return Number.isFinite(v) && v > 0 ? v : undefined;
  },
  /** The conflict resolver Start Replication proposes first. */
  defaultResolver(): BuiltInResolverName {
    const v = section().get<string>('defaultResolver', 'default');
    return RESOLVERS.includes(v as BuiltInResolverName) ? (v as BuiltInResolverName) : 'default';
  },
  logLevel(): LogLevelSetting {
    return section().get<LogLevelSetting>('logLevel', 'info');
  },
};
