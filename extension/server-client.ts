/**
 * The language client that starts and talks to the sync server (dist/server.js) over Node IPC.
 * Crash policy: at most 3 restarts within 3 minutes, then the server stays down and the user is
 * told, with a "Restart Server" action. An intentional stop never triggers a restart.
 */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, RevealOutputChannelOn, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { InitializationOptions } from '../server/rpc/protocol';
import { settings } from './config';
import type { PeerSyncLog } from './log';
import type { RestartPolicy } from './restart-policy';

export interface ServerClientOptions {
  readonly context: vscode.ExtensionContext;
  readonly log: PeerSyncLog;
  readonly dataFolder: () => string;
  readonly restartPolicy: RestartPolicy;
  /** Called (once) when the policy gives up on a crashing server. */
  readonly onGaveUp: (crashes: number) => void;
}

/** Database directories inside the data folder (a directory with a journal or a snapshot). */
export function databasesIn(folder: string): string[] {
  if (!existsSync(folder)) return [];
  try {
    return readdirSync(folder, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .filter((d) => {
        const files = readdirSync(join(folder, d.name));
        return files.includes('journal.log') || files.some((f) => f.startsWith('snapshot-'));
      })
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export function createServerClient(o: ServerClientOptions): LanguageClient {
  const module = o.context.asAbsolutePath(join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [],
    outputChannel: o.log,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // Evaluated at every (re)start. The databases are opened by the context afterwards, one request
    // each, so "ready" means they are open (the server opens `openDatabases` after answering
    // `initialize`, racing the first requests).
    initializationOptions: (): InitializationOptions => ({ dataFolder: o.dataFolder(), logLevel: settings.logLevel() }),
    errorHandler: {
      error: (error, _message, count) => {
        o.log.warn(`connection to the PeerSync server: ${error.message}`);
        return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
      },
      closed: () => {
        if (o.restartPolicy.onCrash()) {
          o.log.warn(`the PeerSync server stopped unexpectedly; restarting it (${o.restartPolicy.recentCrashes} of ${o.restartPolicy.maxRestarts} restarts allowed in 3 minutes)`);
          return { action: CloseAction.Restart, handled: true };
        }
        const crashes = o.restartPolicy.recentCrashes;
        o.log.error(`the PeerSync server crashed ${crashes} times within 3 minutes; it will not be restarted automatically`);
        o.onGaveUp(crashes);
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
  };
  return new LanguageClient('peersync', 'PeerSync Server', serverOptions, clientOptions);
}
