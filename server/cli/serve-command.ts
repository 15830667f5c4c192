import { relative, resolve } from 'node:path';
import { PeerSyncApp } from '../app/peersync-app';
import { connectControlSocket } from '../control/control-socket';
import { seedInventory, INVENTORY_DOC_ID } from '../demo/inventory-seed';
import { ControlEndpoints } from '../rpc/control-endpoints';
import { isStoreError, StoreError } from '../store';
import { DEFAULT_CONNECTION_LIMITS } from '../transport/connection-limits';
import { DEFAULT_ATTEMPT_LIMITS } from '../listener/attempt-limiter';
import { UsageError, type CommandSpec } from './command';
import { plural } from './plural';
import { dbPathFrom } from './open-db';

export const DEFAULT_PORT = 4984;

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Run the sync server: a listener (passive peer) on a database, created if missing, until interrupted.',
  options: {
    port: { type: 'string', short: 'p', description: `TCP port (default ${DEFAULT_PORT}; 0 = any free port)`, valueName: 'N' },
    interface: { type: 'string', description: 'listen only on this IP address or interface name (default: all)', valueName: 'X' },
    'read-only': { type: 'boolean', description: 'serve pulls only; refuse pushes (403)' },
    'max-connections': { type: 'string', description: 'connections allowed at once (default 100)', valueName: 'N' },
    'max-connections-per-address': {
      type: 'string',
      description: `connections allowed at once from one IP address (default ${DEFAULT_CONNECTION_LIMITS.maxConnectionsPerAddress})`,
      valueName: 'N',
    },
    'idle-timeout': {
      type: 'string',
      description: `close a client that sends nothing, not even a pong to our pings, for this long (default ${DEFAULT_CONNECTION_LIMITS.idleTimeoutMs / 1000})`,
      valueName: 'SECONDS',
    },
    'max-failed-logins': {
      type: 'string',
      description: `failed sign-ins one client may make at one user name within a minute before 429 (default ${DEFAULT_ATTEMPT_LIMITS.maxFailures})`,
      valueName: 'N',
    },
    'max-failed-logins-per-address': {
      type: 'string',
      description: `failed sign-ins one client may make in all within a minute (default ${DEFAULT_ATTEMPT_LIMITS.maxFailuresPerAddress}; an IPv6 client is its /64)`,
      valueName: 'N',
    },
    demo: { type: 'boolean', description: "seed the tutorial's inventory list if the database is new" },
    tls: { type: 'boolean', description: 'serve wss:// (the default; an anonymous self-signed certificate unless --identity)' },
    'no-tls': { type: 'boolean', description: 'serve plain ws:// instead' },
    identity: { type: 'string', description: "the listener's TLS identity (a label in the database keystore; see peersync identity)", valueName: 'LABEL' },
    users: { type: 'string', description: 'require HTTP Basic credentials checked against this users file (see peersync users)', valueName: 'FILE' },
    'client-ca': { type: 'string', description: 'require client certificates whose chain leads to one of these certificates (PEM file: root or intermediate CAs)', valueName: 'FILE' },
    events: { type: 'boolean', description: 'print one JSON line per document replicated through the listener (with --json)' },
  },
  async run(ctx) {
    const path = dbPathFrom(ctx.values);
    const port = Number(ctx.values.port ?? DEFAULT_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0–65535');
    const maxConnections = positiveInteger(ctx.values['max-connections'], '--max-connections');
    const maxConnectionsPerAddress = positiveInteger(ctx.values['max-connections-per-address'], '--max-connections-per-address');
    const maxFailedLogins = positiveInteger(ctx.values['max-failed-logins'], '--max-failed-logins');
    const maxFailedLoginsPerAddress = positiveInteger(ctx.values['max-failed-logins-per-address'], '--max-failed-logins-per-address');
    const idle = ctx.values['idle-timeout'] === undefined ? undefined : Number(ctx.values['idle-timeout']);
    if (idle !== undefined && (!Number.isFinite(idle) || idle < 2)) throw new UsageError('--idle-timeout must be a number of seconds, at least 2');
    if (ctx.values.tls && ctx.values['no-tls']) throw new UsageError('choose --tls or --no-tls');
    if (ctx.values.users && ctx.values['client-ca']) throw new UsageError('choose one authenticator: --users or --client-ca');
    const disableTLS = ctx.values['no-tls'] === true;
    if (disableTLS && (ctx.values.identity || ctx.values['client-ca'])) throw new UsageError('--identity and --client-ca need TLS (remove --no-tls)');
    // The command line's serve keeps nothing between runs: its flags are its configuration.
    const app = new PeerSyncApp({ persistConfiguration: false, onDatabaseOpened: (db) => control.open(db) });
    const control: ControlEndpoints = new ControlEndpoints(app);
    // Handlers first: a supervisor may send SIGTERM the moment it reads the "ready" line.
    const stopRequested = new Promise<void>((resolveStop) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.stderr.write(`peersync: ${signal}, shutting down\n`);
        resolveStop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    try {
      const db = await openOrExplain(app, path);
      const seeded = ctx.values.demo === true && seedInventory(db);
      const started = await app.listeners.start({
        db: db.name,
        port,
        ...(typeof ctx.values.interface === 'string' ? { networkInterface: ctx.values.interface } : {}),
        readOnly: ctx.values['read-only'] === true,
        tls: !disableTLS,
        ...(typeof ctx.values.identity === 'string' ? { identityLabel: ctx.values.identity } : {}),
        ...(typeof ctx.values.users === 'string' ? { usersFile: resolve(ctx.values.users) } : {}),
        ...(typeof ctx.values['client-ca'] === 'string' ? { clientCaFile: resolve(ctx.values['client-ca']) } : {}),
        ...(maxConnections !== undefined ? { maxConnections } : {}),
        ...(maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress } : {}),
        ...(idle !== undefined ? { idleTimeoutSeconds: idle } : {}),
        ...(maxFailedLogins !== undefined ? { maxFailedLogins } : {}),
        ...(maxFailedLoginsPerAddress !== undefined ? { maxFailedLoginsPerAddress } : {}),
      });
      const listener = app.listeners.listener(started.id);
      listener.on('authFailure', (f) => process.stderr.write(`peersync: refused ${f.remoteAddress}: ${f.status} ${f.reason}\n`));
      for (const w of listener.warnings) process.stderr.write(`peersync: warning: ${w}\n`);
      listener.on('tlsError', (f) => process.stderr.write(`peersync: TLS error with ${f.remoteAddress}: ${f.reason}\n`));
      if (ctx.values.events === true && ctx.out.json) {
        listener.on('documentEnded', (e) => ctx.out.result({ event: 'document', time: Date.now(), ...e }));
      }
      const shown = relative(process.cwd(), path) || '.';
      const info = db.info();
      if (ctx.out.json) {
        ctx.out.result({
          event: 'ready',
          ...info,
          port: listener.port,
          urls: listener.urls,
          readOnly: listener.config.readOnly === true,
          tls: listener.tlsIdentity !== undefined,
          ...(listener.tlsIdentity ? { certificateFingerprint: listener.tlsIdentity.fingerprintSha256, certificateLabel: listener.tlsIdentity.label } : {}),
          seeded,
        });
      } else {
        ctx.out.line(
          [
            'PeerSync server running',
            `  database   ${info.path}`,
            `  uuid       ${info.uuid}`,
            ...info.collections.map((c) => `  collection ${c.name}: ${plural(c.documents, 'document')}`),
            ...(seeded ? [`  seeded     the inventory list as document "${INVENTORY_DOC_ID}"`] : []),
            `  listening  ${listener.urls.join('\n             ')}${listener.config.readOnly ? '  (read-only)' : ''}`,
            ...(listener.tlsIdentity
              ? [`  TLS        ${listener.tlsIdentity.isSelfSigned ? 'self-signed' : 'CA-signed'} certificate ${listener.tlsIdentity.label}, SHA-256 ${listener.tlsIdentity.fingerprintSha256}`]
              : ['  TLS        off (--no-tls)']),
            '',
            'Replicate with it from another peer, e.g.:',
            `  npx peersync replicate --db ./other --target ${listener.urls.find((u) => u.includes('127.0.0.1')) ?? listener.urls[0]}${listener.tlsIdentity?.isSelfSigned ? ' --self-signed-only' : ''}`,
            '',
            'The server holds the database open; peersync db commands run beside it go through it.',
            `Inspect the data: npx peersync db get ${INVENTORY_DOC_ID} --db ${shown}    Stop with Ctrl+C.`,
          ].join('\n'),
        );
      }
      await stopRequested;
    } finally {
      await control.closeAll();
      await app.shutdown();
    }
  },
};

function positiveInteger(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

/** Opens the database; one another PeerSync server already serves is named with that server's process. */
async function openOrExplain(app: PeerSyncApp, path: string): ReturnType<PeerSyncApp['databases']['openPath']> {
  try {
    return await app.databases.openPath(path);
  } catch (e) {
    if (!isStoreError(e, 'LOCKED')) throw e;
    const running = await connectControlSocket(path).catch(() => undefined);
    if (!running) throw e;
    running.close();
    throw new StoreError('LOCKED', `${path} is already served by PeerSync (process ${running.hello.pid}); use its listener, or stop it first. peersync db commands work beside it.`);
  }
}
