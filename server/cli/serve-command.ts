import { relative } from 'node:path';
import { seedInventory, INVENTORY_DOC_ID } from '../demo/inventory-seed';
import { SyncServer } from '../sync-server';
import { UsageError, type CommandSpec } from './command';
import { dbPathFrom } from './open-db';
import { readFileSync } from 'node:fs';
import { ListenerCertificateAuthenticator } from '../listener/authenticators';
import { UsersFile } from '../listener/users-file';
import { splitPemCertificates } from '../tls';
import { requireIdentity } from './security-commands';
import { DEFAULT_CONNECTION_LIMITS } from '../transport/connection-limits';
import type { ListenerLimits } from '../listener/listener-limits';

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
    const maxConnections = ctx.values['max-connections'] === undefined ? undefined : Number(ctx.values['max-connections']);
    if (maxConnections !== undefined && (!Number.isInteger(maxConnections) || maxConnections < 1)) throw new UsageError('--max-connections must be a positive integer');
    const limits = serveLimits(ctx.values);
    const server = new SyncServer({
      info: (m) => process.stderr.write(`peersync: ${m}\n`),
      warn: (m) => process.stderr.write(`peersync: warning: ${m}\n`),
    });
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
      if (ctx.values.tls && ctx.values['no-tls']) throw new UsageError('choose --tls or --no-tls');
      if (ctx.values.users && ctx.values['client-ca']) throw new UsageError('choose one authenticator: --users or --client-ca');
      const disableTLS = ctx.values['no-tls'] === true;
      if (disableTLS && (ctx.values.identity || ctx.values['client-ca'])) throw new UsageError('--identity and --client-ca need TLS (remove --no-tls)');
      const db = await server.openDatabase(path);
      const tlsIdentity = typeof ctx.values.identity === 'string' ? await requireIdentity(ctx.values, ctx.values.identity) : undefined;
      const authenticator =
        typeof ctx.values.users === 'string'
          ? new UsersFile(ctx.values.users).authenticator(db.name)
          : typeof ctx.values['client-ca'] === 'string'
            ? new ListenerCertificateAuthenticator(splitPemCertificates(readFileSync(ctx.values['client-ca'], 'utf8')))
            : undefined;
      const seeded = ctx.values.demo === true && seedInventory(db);
      const listener = await server.startListener(db, {
        port,
        networkInterface: ctx.values.interface as string | undefined,
        readOnly: ctx.values['read-only'] === true,
        maxConnections,
        limits,
        disableTLS,
        ...(tlsIdentity ? { tlsIdentity } : {}),
        ...(authenticator ? { authenticator } : {}),
      });
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
            ...info.collections.map((c) => `  collection ${c.name}: ${c.documents} documents`),
            ...(seeded ? [`  seeded     the inventory list as document "${INVENTORY_DOC_ID}"`] : []),
            `  listening  ${listener.urls.join('\n             ')}${listener.config.readOnly ? '  (read-only)' : ''}`,
            ...(listener.tlsIdentity
              ? [`  TLS        ${listener.tlsIdentity.isSelfSigned ? 'self-signed' : 'CA-signed'} certificate ${listener.tlsIdentity.label}, SHA-256 ${listener.tlsIdentity.fingerprintSha256}`]
              : ['  TLS        off (--no-tls)']),
            '',
            'Replicate with it from another peer, e.g.:',
            `  npx peersync replicate --db ./other --target ${listener.urls.find((u) => u.includes('127.0.0.1')) ?? listener.urls[0]}${listener.tlsIdentity?.isSelfSigned ? ' --self-signed-only' : ''}`,
            '',
            'The server holds the database open (other processes are refused while it runs).',
            `Stop it with Ctrl+C, then inspect the data: npx peersync db get ${INVENTORY_DOC_ID} --db ${shown}`,
          ].join('\n'),
        );
      }
      await stopRequested;
    } finally {
      await server.shutdown();
    }
  },
};

/** The listener limits given on the command line. The ping interval follows the idle timeout (half of it). */
function serveLimits(values: Record<string, unknown>): ListenerLimits {
  const perAddress = values['max-connections-per-address'];
  const idle = values['idle-timeout'];
  const limits: { maxConnectionsPerAddress?: number; idleTimeoutMs?: number; pingIntervalMs?: number } = {};
  if (perAddress !== undefined) {
    const n = Number(perAddress);
    if (!Number.isInteger(n) || n < 1) throw new UsageError('--max-connections-per-address must be a positive integer');
    limits.maxConnectionsPerAddress = n;
  }
  if (idle !== undefined) {
    const seconds = Number(idle);
    if (!Number.isFinite(seconds) || seconds < 2) throw new UsageError('--idle-timeout must be a number of seconds, at least 2');
    limits.idleTimeoutMs = Math.round(seconds * 1000);
    limits.pingIntervalMs = Math.round(seconds * 500);
  }
  return limits;
}
