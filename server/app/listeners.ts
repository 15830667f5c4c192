import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ListenerCertificateAuthenticator, ListenerPasswordAuthenticator, type ListenerAuthenticator } from '../listener/authenticators';
import { AttemptLimiter } from '../listener/attempt-limiter';
import { Listener } from '../listener/listener';
import type { ListenerLimits } from '../listener/listener-limits';
import { UsersFile } from '../listener/users-file';
import type * as P from '../rpc/protocol';
import { splitPemCertificates } from '../tls';
import { logger } from '../util/log';
import { invalid } from './app-error';
import { IdRegistry } from './id-registry';
import type { AppEventBus } from './app-events';
import type { ConfigStore } from './app-config';
import type { DatabaseRegistry } from './databases';
import { certificateInfo } from './dto';
import type { IdentityService } from './identities';
import { requireExistingFile } from './paths';

const log = logger('app');

interface Entry {
  readonly listener: Listener;
  readonly params: P.StartListenerParams;
  readonly persisted: boolean;
}

/** The running listeners (passive peers), by ID, and the rules for starting one. */
export class ListenerService {
  private readonly entries: IdRegistry<Entry>;

  constructor(
    private readonly databases: DatabaseRegistry,
    private readonly identities: IdentityService,
    private readonly events: AppEventBus,
    private readonly config: ConfigStore | undefined,
  ) {
    this.entries = new IdRegistry<Entry>(
      'listener',
      'listener',
      (config?.config.listeners ?? []).map((saved) => saved.id),
    );
  }

  async start(p: P.StartListenerParams, restoring?: string): Promise<P.ListenerInfo> {
    const db = this.databases.get(p.db);
    const tls = p.tls !== false;
    if (!tls && p.identityLabel !== undefined) throw invalid('a TLS identity needs TLS: leave TLS on to use an identity');
    if (!tls && p.clientCaFile !== undefined) throw invalid('client-certificate authentication needs TLS: leave TLS on to require client certificates');
    if (p.usersFile !== undefined && p.clientCaFile !== undefined) throw invalid('choose one authenticator: a users file or a client CA file');
    const port = p.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid('the port must be 0–65535 (0: any free port)');
    const maxConnections = positiveInteger(p.maxConnections, 'the connection limit');
    const limits = listenerLimits(p);
    const maxFailures = positiveInteger(p.maxFailedLogins, 'the failed sign-in limit');
    const maxFailuresPerAddress = positiveInteger(p.maxFailedLoginsPerAddress, 'the per-address failed sign-in limit');
    const attemptLimiter =
      maxFailures !== undefined || maxFailuresPerAddress !== undefined
        ? new AttemptLimiter({ ...(maxFailures !== undefined ? { maxFailures } : {}), ...(maxFailuresPerAddress !== undefined ? { maxFailuresPerAddress } : {}) })
        : undefined;
    const tlsIdentity = p.identityLabel !== undefined ? await this.identities.require(db.path, p.identityLabel) : undefined;
    const authenticator = p.usersFile !== undefined ? usersFileAuthenticator(p.usersFile, db.name) : p.clientCaFile !== undefined ? clientCaAuthenticator(p.clientCaFile) : undefined;
    const listener = new Listener({
      database: db,
      port,
      networkInterface: p.networkInterface,
      readOnly: p.readOnly === true,
      disableTLS: !tls,
      maxConnections,
      limits,
      ...(attemptLimiter ? { attemptLimiter } : {}),
      ...(tlsIdentity ? { tlsIdentity } : {}),
      ...(authenticator ? { authenticator } : {}),
    });
    await listener.start();
    const id = restoring ?? this.entries.allocate();
    const persisted = this.config !== undefined && p.persist !== false;
    this.entries.set(id, { listener, params: p, persisted });
    // A listener being stopped still reports its closing connections; it is no longer ours to describe.
    listener.on('status', () => this.entries.get(id)?.listener === listener && this.events.publish('listenerStatus', this.info(id)));
    listener.on('documentEnded', (e) =>
      this.events.publish('replicationLog', {
        time: Date.now(),
        source: id,
        direction: e.direction,
        collection: e.collection,
        docId: e.docId,
        revId: e.revId,
        error: e.error?.message,
        skipped: e.skipped,
      }),
    );
    if (persisted && restoring === undefined) this.config?.update((c) => ({ ...c, listeners: [...c.listeners, { id, params: { ...p, port: listener.port } }] }));
    const info = this.info(id);
    this.events.publish('serverEvent', { kind: 'listenerStarted', listener: info });
    return info;
  }

  /** Stops the listener and forgets it (also in the saved configuration). */
  async stop(id: string): Promise<void> {
    const entry = this.require(id);
    this.entries.delete(id);
    await entry.listener.stop();
    if (entry.persisted) this.config?.update((c) => ({ ...c, listeners: c.listeners.filter((l) => l.id !== id) }));
    log.info('listener removed', { id, port: entry.listener.port });
    this.events.publish('serverEvent', { kind: 'listenerStopped', id });
  }

  /** `preferred` when nothing listens there, else the next free port after it (a few tries), else any free port. */
  async freePort(preferred: number, networkInterface?: string): Promise<number> {
    if (!Number.isInteger(preferred) || preferred < 1 || preferred > 65535) throw invalid('the preferred port must be 1–65535');
    for (let port = preferred; port < Math.min(preferred + 50, 65536); port++) {
      if (await portIsFree(port, networkInterface)) return port;
    }
    return anyFreePort(networkInterface);
  }

  /** Stops a listener but keeps it in the saved configuration (its database is closing, not being deleted). */
  async detach(id: string): Promise<void> {
    const entry = this.require(id);
    this.entries.delete(id);
    await entry.listener.stop();
    this.events.publish('serverEvent', { kind: 'listenerStopped', id });
  }

  list(): P.ListenerInfo[] {
    return [...this.entries.keys()].map((id) => this.info(id));
  }

  /** The Listener object itself, for a front end that prints its events. */
  listener(id: string): Listener {
    return this.require(id).listener;
  }

  certificate(id: string): P.CertificateInfo {
    const identity = this.require(id).listener.tlsIdentity;
    if (!identity) throw invalid(`listener ${id} serves plain ws:// and has no certificate`);
    return certificateInfo(identity);
  }

  info(id: string): P.ListenerInfo {
    const { listener: l, persisted } = this.require(id);
    const status = l.status;
    return {
      id,
      db: l.config.database.name,
      state: l.isListening ? 'listening' : 'stopped',
      port: l.port,
      urls: l.urls,
      tls: l.tlsIdentity !== undefined,
      ...(l.tlsIdentity ? { certificateFingerprint: l.tlsIdentity.fingerprintSha256, certificateLabel: l.tlsIdentity.label } : {}),
      readOnly: l.config.readOnly === true,
      connectionCount: status.connectionCount,
      activeConnectionCount: status.activeConnectionCount,
      clients: l.connectedClients(),
      authentication: authenticationKind(l.config.authenticator),
      ...(l.warnings.length > 0 ? { warnings: l.warnings } : {}),
      persisted,
    };
  }

  /** Starts the saved listeners of a database that just opened; one that cannot start is logged and kept for next time. */
  async restore(dbName: string): Promise<void> {
    for (const saved of this.config?.config.listeners ?? []) {
      if (saved.params.db !== dbName || this.entries.has(saved.id)) continue;
      try {
        await this.start(saved.params, saved.id);
        log.info('listener restored', { id: saved.id, db: dbName, port: saved.params.port });
      } catch (e) {
        log.warn(`the saved listener ${saved.id} on ${dbName} (port ${saved.params.port ?? 0}) could not start: ${(e as Error).message}`);
      }
    }
  }

  async stopAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const { listener } of all) {
      try {
        await listener.stop();
      } catch (e) {
        log.warn(`stopping the listener on port ${listener.port} failed`, { error: e });
      }
    }
  }

  private require(id: string): Entry {
    return this.entries.require(id);
  }
}

function portIsFree(port: number, host: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, ...(host ? { host } : {}), exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function anyFreePort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, ...(host ? { host } : {}) }, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function positiveInteger(v: number | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1) throw invalid(`${what} must be a positive integer`);
  return v;
}

/** The ping interval follows the idle timeout (half of it), so a live client always answers in time. */
function listenerLimits(p: P.StartListenerParams): ListenerLimits {
  const limits: { maxConnectionsPerAddress?: number; idleTimeoutMs?: number; pingIntervalMs?: number } = {};
  const perAddress = positiveInteger(p.maxConnectionsPerAddress, 'the per-address connection limit');
  if (perAddress !== undefined) limits.maxConnectionsPerAddress = perAddress;
  if (p.idleTimeoutSeconds !== undefined) {
    if (!Number.isFinite(p.idleTimeoutSeconds) || p.idleTimeoutSeconds < 2) throw invalid('the idle timeout must be a number of seconds, at least 2');
    limits.idleTimeoutMs = Math.round(p.idleTimeoutSeconds * 1000);
    limits.pingIntervalMs = Math.round(p.idleTimeoutSeconds * 500);
  }
  return limits;
}

function usersFileAuthenticator(path: string, realm: string): ListenerAuthenticator {
  const file = requireExistingFile(path, 'the users file');
  try {
    return new UsersFile(file).authenticator(realm);
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : String(e));
  }
}

function clientCaAuthenticator(path: string): ListenerAuthenticator {
  const file = requireExistingFile(path, 'the client CA file');
  const roots = splitPemCertificates(readFileSync(file, 'utf8'));
  if (roots.length === 0) throw invalid(`${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  try {
    return new ListenerCertificateAuthenticator(roots);
  } catch (e) {
    throw invalid(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function authenticationKind(a: ListenerAuthenticator | undefined): 'none' | 'password' | 'clientCertificate' {
  if (a instanceof ListenerCertificateAuthenticator) return 'clientCertificate';
  if (a instanceof ListenerPasswordAuthenticator) return 'password';
  return a ? (a.requiresTls ? 'clientCertificate' : 'password') : 'none';
}
