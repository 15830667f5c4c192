/**
 * The sync server process the VS Code extension starts (JSON-RPC over IPC, or --stdio). It owns
 * the databases, listeners and replicators; the extension only talks to it through rpc/protocol.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { forwardLogs, setServerLogLevel } from './rpc/log-forwarding';
import { SetLogLevel, type InitializationOptions } from './rpc/protocol';
import { ServerApi } from './rpc/server-api';
import { PeerSyncApp } from './app/peersync-app';
import { ControlEndpoints } from './rpc/control-endpoints';

const connection = createConnection(ProposedFeatures.all);
let app: PeerSyncApp | undefined;
let api: ServerApi | undefined;
let control: ControlEndpoints | undefined;

process.on('uncaughtException', (e) => {
  connection.console.error(`peersync server: uncaught exception: ${e.stack ?? String(e)}`);
});
process.on('unhandledRejection', (e) => {
  connection.console.error(`peersync server: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});

// The databases named in the options are open before initialize is answered, so the client's
// first requests never race them.
connection.onInitialize(async (params) => {
  const options = (params.initializationOptions ?? {}) as Partial<InitializationOptions>;
  if (!options.dataFolder) throw new Error('initializationOptions.dataFolder is required');
  // Before anything is opened, so the store's and the listeners' first records reach the extension.
  setServerLogLevel(options.logLevel);
  forwardLogs(connection);
  app = new PeerSyncApp({ dataFolder: options.dataFolder, onDatabaseOpened: (db) => control?.open(db) });
  control = new ControlEndpoints(app);
  api = new ServerApi(app, connection);
  // The databases the client asks for, and those the saved listeners and replications use (they start with them).
  for (const name of new Set([...(options.openDatabases ?? []), ...app.savedDatabaseNames()])) {
    try {
      await app.databases.open(name);
    } catch (e) {
      connection.console.error(`could not open database ${name}: ${(e as Error).message}`);
    }
  }
  return { capabilities: {}, serverInfo: { name: 'peersync', version: '0.1.0' } };
});

connection.onNotification(SetLogLevel, (p) => setServerLogLevel(p.level));

connection.onShutdown(async () => {
  api?.dispose();
  await control?.closeAll();
  await app?.shutdown();
});

connection.listen();
