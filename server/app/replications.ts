import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Replicator } from '../replication/replicator';
import { BasicAuthenticator, ClientCertificateAuthenticator, type ReplicatorAuthenticator } from '../replication/replicator-types';
import { hasUrlCredentials } from '../replication/target-url';
import type * as P from '../rpc/protocol';
import { builtInResolvers } from '../store';
import { certificateDer, derToPem, splitPemCertificates } from '../tls';
import { logger } from '../util/log';
import { invalid } from './app-error';
import { IdRegistry } from './id-registry';
import type { AppEventBus } from './app-events';
import type { ConfigStore, SavedReplication } from './app-config';
import type { DatabaseRegistry } from './databases';
import type { IdentityService } from './identities';
import { requireExistingFile } from './paths';
import { fieldFilter } from './field-filter';

const log = logger('app');

/** The failed documents a status carries (the full list is ListFailedDocuments'). */
const FAILED_IN_STATUS = 20;

type Settings = Omit<P.StartReplicationParams, 'password' | 'pinnedServerCertificateFile'>;

interface Entry {
  /** Absent while a saved replication waits for its password. */
  replicator: Replicator | undefined;
  readonly settings: Settings;
  readonly persisted: boolean;
  unsubscribe: (() => void)[];
}

/** The replicators (active peers), by ID, and the rules for configuring one. */
export class ReplicationService {
  private readonly entries: IdRegistry<Entry>;

  constructor(
    private readonly databases: DatabaseRegistry,
    private readonly identities: IdentityService,
    private readonly events: AppEventBus,
    private readonly config: ConfigStore | undefined,
  ) {
    this.entries = new IdRegistry<Entry>(
      'replicator',
      'replicator',
      (config?.config.replications ?? []).map((saved) => saved.id),
    );
  }

  /** Checks the settings, creates the replicator and (unless `paused`) starts it. */
  async start(p: P.StartReplicationParams): Promise<P.ReplicatorInfo> {
    const settings = normalise(p);
    this.databases.get(settings.db);
    const id = this.entries.allocate();
    const persisted = this.config !== undefined && p.persist !== false;
    const entry: Entry = { replicator: undefined, settings, persisted, unsubscribe: [] };
    if (p.paused !== true) this.attach(id, entry, await this.create(settings, p.password));
    this.entries.set(id, entry);
    if (persisted) this.save(id, p.paused !== true);
    entry.replicator?.start();
    const info = this.info(id);
    log.info('replication added', {
      id,
      db: settings.db,
      target: settings.target,
      type: settings.type,
      continuous: settings.continuous,
      resolver: settings.resolver ?? 'default',
      saved: persisted,
      paused: p.paused === true,
    });
    this.events.publish('serverEvent', { kind: 'replicationAdded', replication: info });
    return info;
  }

  async stop(id: string): Promise<P.ReplicatorInfo> {
    const entry = this.require(id);
    await entry.replicator?.stop();
    if (entry.persisted) this.save(id, false);
    const info = this.info(id);
    this.events.publish('replicationStatus', info);
    return info;
  }

  /** Starts it again with its settings (a new run: failures are retried, progress counts from zero). */
  async restart(id: string, password?: string): Promise<P.ReplicatorInfo> {
    const entry = this.require(id);
    await this.dispose(entry);
    const replicator = await this.create(entry.settings, password);
    this.attach(id, entry, replicator);
    if (entry.persisted) this.save(id, true);
    replicator.start();
    return this.info(id);
  }

  /**
   * Changes a replication's settings (target, direction, collections, filters, resolver, …): the
   * running one stops (its checkpoint saved) and the new settings start, and are saved if it is.
   */
  async update(id: string, changes: Partial<P.StartReplicationParams>, password?: string): Promise<P.ReplicatorInfo> {
    const entry = this.require(id);
    const { db: _db, persist: _persist, paused: _paused, ...rest } = changes;
    void _db;
    void _persist;
    void _paused;
    const settings = normalise({ ...entry.settings, ...rest });
    const wasRunning = entry.replicator !== undefined && entry.replicator.status.activity !== 'stopped';
    await this.dispose(entry);
    const next: Entry = { replicator: undefined, settings, persisted: entry.persisted, unsubscribe: [] };
    this.entries.set(id, next);
    if (wasRunning) this.attach(id, next, await this.create(settings, password ?? changes.password));
    if (next.persisted) this.save(id, wasRunning);
    next.replicator?.start();
    const info = this.info(id);
    this.events.publish('replicationStatus', info);
    return info;
  }

  async remove(id: string): Promise<void> {
    const entry = this.require(id);
    this.entries.delete(id);
    await this.dispose(entry);
    if (entry.persisted) this.config?.update((c) => ({ ...c, replications: c.replications.filter((r) => r.id !== id) }));
    log.info('replication removed', { id, target: entry.settings.target });
    this.events.publish('serverEvent', { kind: 'replicationRemoved', id });
  }

  /** Stops a replication and unregisters it, keeping it saved (its database is closing, not being deleted). */
  async detach(id: string): Promise<void> {
    const entry = this.require(id);
    this.entries.delete(id);
    await this.dispose(entry);
    this.events.publish('serverEvent', { kind: 'replicationRemoved', id });
  }

  list(): P.ReplicatorInfo[] {
    return [...this.entries.keys()].map((id) => this.info(id));
  }

  /** The Replicator itself, for a front end that follows it closely (the CLI's one-shot run). */
  replicator(id: string): Replicator | undefined {
    return this.require(id).replicator;
  }

  failedDocuments(id: string, limit = 1000): { documents: P.FailedDocument[]; total: number } {
    const all = this.require(id).replicator?.failedDocuments() ?? [];
    return { documents: all.slice(0, Math.max(0, limit)).map(failedDocument), total: all.length };
  }

  info(id: string): P.ReplicatorInfo {
    const { replicator, settings, persisted } = this.require(id);
    const base = {
      id,
      db: settings.db,
      target: settings.target,
      type: settings.type,
      continuous: settings.continuous,
      persisted,
      params: settings,
      ...(settings.username !== undefined ? { username: settings.username } : {}),
    };
    if (!replicator) return { ...base, activity: 'stopped', completed: 0, total: 0, failed: 0 };
    const s = replicator.status;
    let pending: number | undefined;
    if (replicator.type !== 'pull') {
      try {
        pending = replicator.pendingDocumentIds().size;
      } catch {
        pending = undefined; // the database closed under it: the count is unknown, not zero
      }
    }
    return {
      ...base,
      activity: s.activity,
      completed: s.progress.completed,
      total: s.progress.total,
      ...(s.error ? { error: { message: s.error.message, transient: s.error.transient } } : {}),
      ...(s.nextAttemptAt ? { nextAttemptAt: s.nextAttemptAt } : {}),
      ...(pending !== undefined ? { pendingDocuments: pending } : {}),
      failed: s.failed,
      ...(replicator.warnings.length > 0 ? { warnings: replicator.warnings } : {}),
      ...(s.failed > 0 ? { failedDocuments: replicator.failedDocuments().slice(0, FAILED_IN_STATUS).map(failedDocument) } : {}),
    };
  }

  /**
   * Registers the saved replications of a database that just opened. Those that were running start
   * again, unless they sign in with a password: the server never stores it, so they wait (paused)
   * for a client to restart them with it.
   */
  async restore(dbName: string): Promise<void> {
    for (const saved of this.config?.config.replications ?? []) {
      if (saved.params.db !== dbName || this.entries.has(saved.id)) continue;
      const entry: Entry = { replicator: undefined, settings: saved.params, persisted: true, unsubscribe: [] };
      this.entries.set(saved.id, entry);
      if (saved.running && saved.params.username === undefined) {
        try {
          const replicator = await this.create(saved.params, undefined);
          this.attach(saved.id, entry, replicator);
          replicator.start();
        } catch (e) {
          log.warn(`the saved replication ${saved.id} with ${saved.params.target} could not start: ${(e as Error).message}`);
        }
      }
      this.events.publish('serverEvent', { kind: 'replicationAdded', replication: this.info(saved.id) });
    }
  }

  /** Stops every replicator (each saves its checkpoint); the saved configuration keeps them. */
  async stopAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      try {
        await this.dispose(entry);
      } catch (e) {
        log.warn(`stopping a replicator with ${entry.settings.target} failed`, { error: e });
      }
    }
    this.entries.clear();
  }

  private async create(s: Settings, password: string | undefined): Promise<Replicator> {
    const db = this.databases.get(s.db);
    const authenticator: ReplicatorAuthenticator | undefined =
      s.username !== undefined
        ? new BasicAuthenticator(s.username, password ?? '')
        : s.clientIdentityLabel !== undefined
          ? new ClientCertificateAuthenticator(await this.identities.require(db.path, s.clientIdentityLabel))
          : undefined;
    const replicator = new Replicator({
      database: db,
      target: s.target,
      type: s.type,
      continuous: s.continuous,
      ...(s.collections ? { collections: s.collections } : {}),
      ...(s.documentIds ? { documentIDs: s.documentIds } : {}),
      ...(s.filterField !== undefined ? { pushFilter: fieldFilter(s.filterField, s.filterValues ?? []), pullFilter: fieldFilter(s.filterField, s.filterValues ?? []) } : {}),
      conflictResolver: builtInResolvers[s.resolver ?? 'default'],
      ...(authenticator ? { authenticator } : {}),
      ...(s.heartbeat !== undefined && s.heartbeat > 0 ? { heartbeat: s.heartbeat } : {}),
      ...(s.maxAttempts !== undefined ? { maxAttempts: s.maxAttempts } : {}),
      ...(s.acceptOnlySelfSignedServerCertificate ? { acceptOnlySelfSignedServerCertificate: true } : {}),
      ...(s.pinnedServerCertificate ? { pinnedServerCertificate: s.pinnedServerCertificate } : {}),
      ...(s.trustedRootCertificatesFile ? { trustedRootCertificates: readRoots(s.trustedRootCertificatesFile) } : {}),
    });
    return replicator;
  }

  private attach(id: string, entry: Entry, replicator: Replicator): void {
    entry.replicator = replicator;
    entry.unsubscribe = [
      replicator.on('change', () => this.entries.get(id) === entry && this.events.publish('replicationStatus', this.info(id))),
      replicator.on('documentEnded', (e) =>
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
      ),
    ];
  }

  private async dispose(entry: Entry): Promise<void> {
    const r = entry.replicator;
    if (!r) return;
    await r.stop();
    for (const off of entry.unsubscribe.splice(0)) off();
  }

  private save(id: string, running: boolean): void {
    const entry = this.require(id);
    const saved: SavedReplication = { id, params: entry.settings, running };
    this.config?.update((c) => {
      const i = c.replications.findIndex((r) => r.id === id);
      const replications = i < 0 ? [...c.replications, saved] : c.replications.map((r) => (r.id === id ? saved : r));
      return { ...c, replications };
    });
  }

  private require(id: string): Entry {
    return this.entries.require(id);
  }
}

/**
 * The settings as they are kept: checked, files read now (a pinned certificate's content, so a
 * restart does not depend on the file), and no password.
 */
function normalise(p: P.StartReplicationParams): Settings {
  if (typeof p.target !== 'string' || p.target.length === 0) throw invalid('a target URL is required (e.g. ws://127.0.0.1:4984/inventory)');
  let url: URL;
  try {
    url = new URL(p.target);
  } catch {
    throw invalid(`the target ${JSON.stringify(p.target.replace(/\/\/[^@/]*@/, '//…@'))} is not a URL (e.g. ws://127.0.0.1:4984/inventory)`);
  }
  // Checked before anything else, so credentials in a URL are neither sent nor stored nor printed.
  if (hasUrlCredentials(url)) throw invalid('the target must not contain a user name or password (user:password@host); give the user name and password separately');
  if (!['push', 'pull', 'pushAndPull'].includes(p.type)) throw invalid(`the type must be push, pull or pushAndPull (got ${JSON.stringify(p.type)})`);
  if (p.resolver !== undefined && !(p.resolver in builtInResolvers)) throw invalid(`unknown resolver ${JSON.stringify(p.resolver)} (one of ${Object.keys(builtInResolvers).join(', ')})`);
  if (p.username !== undefined && p.clientIdentityLabel !== undefined) throw invalid('choose one way to sign in: a user name and password, or a client certificate');
  for (const [name, v] of [
    ['heartbeat', p.heartbeat],
    ['maxAttempts', p.maxAttempts],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw invalid(`${name} must be a non-negative number`);
  }
  if (p.trustedRootCertificatesFile !== undefined) readRoots(p.trustedRootCertificatesFile);
  if (p.filterField === '') {
    // An empty field removes the filter (how an edit clears it: JSON has no "undefined").
    const { filterField: _f, filterValues: _v, ...unfiltered } = p;
    void _f;
    void _v;
    return normalise(unfiltered);
  }
  if (p.filterField !== undefined) fieldFilter(p.filterField, p.filterValues ?? []);
  else if (p.filterValues !== undefined) throw invalid('filterValues need a filterField');
  const { password: _password, pinnedServerCertificateFile: file, persist: _persist, paused: _paused, ...settings } = p;
  void _password;
  void _persist;
  void _paused;
  if (file === undefined || p.pinnedServerCertificate) return settings;
  return { ...settings, pinnedServerCertificate: readCertificate(requireExistingFile(file, 'the pinned certificate file')) };
}

/** A certificate file, PEM or DER, as PEM. */
function readCertificate(path: string): string {
  try {
    const der = certificateDer(readFileSync(path));
    new X509Certificate(der);
    return derToPem(der);
  } catch (e) {
    throw invalid(`${path} is not a certificate (PEM or DER): ${e instanceof Error ? e.message : String(e)}`);
  }
}

function readRoots(file: string): string[] {
  const path = requireExistingFile(file, 'the trusted root certificates file');
  const roots = splitPemCertificates(readFileSync(path, 'utf8'));
  if (roots.length === 0) throw invalid(`${path} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return roots;
}

function failedDocument(f: { direction: 'push' | 'pull'; collection: string; docId: string; revId?: string | undefined; error?: { message: string } | undefined }): P.FailedDocument {
  return { direction: f.direction, collection: f.collection, docId: f.docId, ...(f.revId !== undefined ? { revId: f.revId } : {}), message: f.error?.message ?? 'failed' };
}
