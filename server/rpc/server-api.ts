import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ResponseError, type NotificationType, type RequestType, type RequestType0 } from 'vscode-languageserver-protocol';
import { importDocuments, exportDocuments } from '../cli/import-export';
import { ListenerCertificateAuthenticator, ListenerPasswordAuthenticator, type ListenerAuthenticator } from '../listener/authenticators';
import type { Listener } from '../listener/listener';
import { UsersFile } from '../listener/users-file';
import type { Replicator } from '../replication/replicator';
import type { ReplicatorStatus } from '../replication/replicator-types';
import { builtInResolvers, isStoreError, type Collection, type Database, type Document, type RevisionInfo } from '../store';
import { asRevId } from '../store/rev-id';
import type { SyncServer } from '../sync-server';
import {
  ANONYMOUS_LABEL_PREFIX,
  FileKeystore,
  KeystoreError,
  TLSIdentityError,
  certificateDer,
  createIdentity,
  derToPem,
  exportCertificatePem,
  safeLabelFileName,
  splitPemCertificates,
  type TLSIdentity,
} from '../tls';
import { blobCount, listDocumentBlobs, readDocumentBlob } from './document-blobs';
import * as P from './protocol';
import { notFound, toResponseError } from './rpc-errors';
import { KeyedThrottle } from './throttle';

/** The part of a JSON-RPC connection the API needs (vscode-languageserver's and vscode-jsonrpc's both fit). */
export interface RpcConnection {
  onRequest<R, E>(type: RequestType0<R, E>, handler: () => R | Promise<R>): unknown;
  onRequest<Params, R, E>(type: RequestType<Params, R, E>, handler: (params: Params) => R | Promise<R>): unknown;
  sendNotification<Params>(type: NotificationType<Params>, params: Params): unknown;
}

const DB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Serves the extension's typed requests on top of a SyncServer and pushes server events back as
 * notifications (throttled). All state lives in the SyncServer; this class only translates.
 */
export class ServerApi {
  private readonly listeners = new Map<string, Listener>();
  private readonly replicators = new Map<string, { replicator: Replicator; params: P.StartReplicationParams; db: Database }>();
  private readonly watched = new Set<Database>();
  private nextId = 1;
  private readonly statusThrottle: KeyedThrottle<P.ReplicatorInfo>;
  private readonly changeThrottle: KeyedThrottle<{ db: string; collection: string; docIds: Set<string> }>;
  private logBuffer: P.ReplicationLogEntry[] = [];
  private logTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: SyncServer,
    private readonly conn: RpcConnection,
    private readonly dataFolder: string,
  ) {
    this.statusThrottle = new KeyedThrottle(100, (info) => void conn.sendNotification(P.ReplicatorStatusChanged, info));
    this.changeThrottle = new KeyedThrottle(100, (v) => {
      const ids = [...v.docIds];
      v.docIds.clear();
      void conn.sendNotification(P.DatabaseChanged, { db: v.db, collection: v.collection, docIds: ids.slice(0, 200), truncated: ids.length > 200 });
    });
    mkdirSync(dataFolder, { recursive: true });
    this.register();
  }

  async openDatabase(name: string): Promise<Database> {
    if (!DB_NAME.test(name)) throw new ResponseError(P.RpcErrorCode.invalid, `invalid database name ${JSON.stringify(name)} (letters, digits, . _ -)`);
    const db = await this.server.openDatabase(join(this.dataFolder, name));
    this.watch(db);
    return db;
  }

  dispose(): void {
    this.statusThrottle.dispose();
    this.changeThrottle.dispose();
    if (this.logTimer) clearTimeout(this.logTimer);
  }

  private register(): void {
    const c = this.conn;
    const wrap =
      <A extends unknown[], R>(fn: (...args: A) => R | Promise<R>) =>
      async (...args: A): Promise<R> => {
        try {
          return await fn(...args);
        } catch (e) {
          throw toResponseError(e);
        }
      };
    c.onRequest(P.ListDatabases, wrap(() => this.server.listDatabases().map(summary)));
    c.onRequest(P.CreateDatabase, wrap(async ({ name }: { name: string }) => summary(await this.openDatabase(name))));
    c.onRequest(P.ListDocuments, wrap((p: { db: string; collection: string; after?: string; limit: number }) => {
      const coll = this.collection(p.db, p.collection);
      const docs = coll.allDocs({ after: p.after ?? '', limit: Math.min(Math.max(1, p.limit), 1000) });
      return { docs: docs.map(docSummary), total: coll.count() };
    }));
    c.onRequest(P.GetDocument, wrap((p: P.DocumentRef & { rev?: string }) => {
      const d = this.collection(p.db, p.collection).get(p.docId, { includeDeleted: true, ...(p.rev ? { rev: p.rev } : {}) });
      return d ? docData(d) : null;
    }));
    c.onRequest(P.SaveDocument, wrap((p: P.DocumentRef & { baseRevId: string | null; body: Record<string, unknown>; force?: boolean }) => {
      const coll = this.collection(p.db, p.collection);
      try {
        return docData(coll.save({ id: p.docId, revId: p.baseRevId, body: p.body as Document['body'] & object }, p.force ? 'lastWriteWins' : 'failOnConflict'));
      } catch (e) {
        if (isStoreError(e, 'CONFLICT')) {
          const data: P.ConflictErrorData = { currentRevId: coll.get(p.docId, { includeDeleted: true })?.revId ?? null };
          throw new ResponseError(P.RpcErrorCode.conflict, e.message, data);
        }
        throw e;
      }
    }));
    c.onRequest(P.DeleteDocument, wrap((p: P.DocumentRef & { baseRevId?: string }) =>
      docData(this.collection(p.db, p.collection).delete(p.docId, p.baseRevId ? { revId: p.baseRevId, concurrency: 'failOnConflict' } : {})),
    ));
    c.onRequest(P.GetRevisionTree, wrap((p: P.DocumentRef) => this.collection(p.db, p.collection).getRevisionHistory(p.docId)?.map(revNode) ?? null));
    c.onRequest(P.ListConflicts, wrap((p: { db?: string }) => {
      const dbs = p.db ? [this.database(p.db)] : this.server.listDatabases();
      return dbs.flatMap((db) => db.collections().flatMap((coll) => coll.conflicts().map((x) => ({ db: db.name, collection: coll.fullName, docId: x.docId }))));
    }));
    c.onRequest(P.GetConflict, wrap((p: P.DocumentRef) => {
      const coll = this.collection(p.db, p.collection);
      const conflict = coll.getConflict(p.docId);
      if (!conflict) return null;
      const side = (s: typeof conflict.local): P.ConflictSide => ({ revId: s.revId, deleted: s.deleted, body: s.body ?? null });
      return { ...p, local: side(conflict.local), remote: side(conflict.remote), tree: (coll.getRevisionHistory(p.docId) ?? []).map(revNode) };
    }));
    c.onRequest(P.ResolveConflict, wrap((p: P.DocumentRef & { resolution: P.ConflictResolution }) => {
      const r = p.resolution;
      const resolution = r.kind === 'winner' ? { winner: asRevId(r.revId) } : r.kind === 'merged' ? { merged: r.body as Document['body'] & object } : ({ delete: true } as const);
      return docData(this.collection(p.db, p.collection).resolveConflict(p.docId, resolution));
    }));
    c.onRequest(P.ListDocumentBlobs, wrap((p: P.DocumentRef) => listDocumentBlobs(this.database(p.db), this.collection(p.db, p.collection), p.docId)));
    c.onRequest(P.ReadBlob, wrap((p: P.DocumentRef & { digest: string }) => readDocumentBlob(this.database(p.db), this.collection(p.db, p.collection), p.docId, p.digest)));
    c.onRequest(P.ImportDocuments, wrap(async (p: { db: string; collection: string; file: string }) => {
      const db = this.database(p.db);
      const r = await importDocuments(db, this.collection(p.db, p.collection), p.file, { batchSize: 1000, progress: false });
      return { imported: r.imported };
    }));
    c.onRequest(P.ExportCollection, wrap(async (p: { db: string; collection: string; file: string }) => ({
      exported: await exportDocuments(this.collection(p.db, p.collection), p.file, { progress: false }),
    })));

    c.onRequest(P.StartListener, wrap(async (p: P.StartListenerParams) => {
      const db = this.database(p.db);
      const tls = p.tls !== false;
      if (!tls && p.identityLabel !== undefined) throw invalid('a TLS identity needs TLS: leave tls on to use identityLabel');
      if (!tls && p.clientCaFile !== undefined) throw invalid('client-certificate authentication needs TLS: leave tls on to use clientCaFile');
      if (p.usersFile !== undefined && p.clientCaFile !== undefined) throw invalid('choose one authenticator: usersFile or clientCaFile');
      const tlsIdentity = p.identityLabel !== undefined ? await this.requireIdentity(db, p.identityLabel) : undefined;
      const authenticator: ListenerAuthenticator | undefined =
        p.usersFile !== undefined ? usersFileAuthenticator(p.usersFile, db.name) : p.clientCaFile !== undefined ? clientCaAuthenticator(p.clientCaFile) : undefined;
      const listener = await this.server.startListener(db, {
        port: p.port ?? 0,
        networkInterface: p.networkInterface,
        readOnly: p.readOnly === true,
        disableTLS: !tls,
        ...(tlsIdentity ? { tlsIdentity } : {}),
        ...(authenticator ? { authenticator } : {}),
      });
      const id = `listener-${this.nextId++}`;
      this.listeners.set(id, listener);
      listener.on('status', () => void this.conn.sendNotification(P.ListenerStatusChanged, this.listenerInfo(id, listener)));
      listener.on('documentEnded', (e) => this.log({ time: Date.now(), source: id, direction: e.direction, collection: e.collection, docId: e.docId, revId: e.revId, error: e.error?.message, skipped: e.skipped }));
      return this.listenerInfo(id, listener);
    }));
    c.onRequest(P.StopListener, wrap(async ({ id }: { id: string }) => {
      const l = this.listeners.get(id);
      if (!l) throw notFound(`no listener ${id}`);
      await this.server.stopListener(l);
      this.listeners.delete(id);
      void this.conn.sendNotification(P.ListenerStatusChanged, { ...this.listenerInfo(id, l), state: 'stopped' });
    }));
    c.onRequest(P.ListListeners, wrap(() => [...this.listeners].map(([id, l]) => this.listenerInfo(id, l))));
    c.onRequest(P.GetListenerCertificate, wrap(({ id }: { id: string }) => {
      const l = this.listeners.get(id);
      if (!l) throw notFound(`no listener ${id}`);
      const identity = l.tlsIdentity;
      if (!identity) throw invalid(`listener ${id} serves plain ws:// and has no certificate`);
      return certificateInfo(identity);
    }));

    c.onRequest(P.CreateIdentity, wrap(async (p: P.CreateIdentityParams) => {
      const db = this.database(p.db);
      const label = typeof p.label === 'string' ? p.label.trim() : '';
      if (label.length === 0) throw invalid('an identity label must not be empty');
      if (label.startsWith(ANONYMOUS_LABEL_PREFIX)) throw invalid(`labels starting with "${ANONYMOUS_LABEL_PREFIX}" are reserved for listeners' anonymous identities`);
      const days = p.validityDays ?? 365;
      if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 36_500) throw invalid('validityDays must be a number of days from 1 to 36500');
      const keystore = this.keystore(db);
      const fileName = tlsCall(() => safeLabelFileName(label));
      if (p.replace !== true && existsSync(join(keystore.dir, fileName))) {
        throw new ResponseError(P.RpcErrorCode.conflict, `the keystore of ${db.name} already has an identity labelled ${JSON.stringify(label)}`);
      }
      const identity = await tlsCallAsync(() =>
        createIdentity({
          isServer: p.isServer !== false,
          label,
          attributes: { commonName: typeof p.commonName === 'string' && p.commonName.trim() ? p.commonName.trim() : label, ...(p.organization ? { organization: p.organization } : {}) },
          expiration: new Date(Date.now() + days * 86_400_000),
        }),
      );
      await tlsCallAsync(() => keystore.save(identity));
      return { ...certificateInfo(identity), label };
    }));
    c.onRequest(P.ListIdentities, wrap(async ({ db: name }: { db: string }) => {
      const entries = await tlsCallAsync(() => this.keystore(this.database(name)).list());
      return entries.map((e): P.IdentityInfo => ({
        label: e.label,
        commonName: e.commonName,
        notAfter: e.notAfter.toISOString(),
        fingerprintSha256: e.fingerprintSha256,
        encrypted: e.encrypted,
        anonymous: e.label.startsWith(ANONYMOUS_LABEL_PREFIX),
      }));
    }));

    c.onRequest(P.StartReplication, wrap((p: P.StartReplicationParams) => {
      const params = withPinnedCertificateRead(p);
      const id = `replicator-${this.nextId++}`;
      this.startReplicator(id, params);
      return this.replicatorInfo(id);
    }));
    c.onRequest(P.StopReplication, wrap(async ({ id }: { id: string }) => {
      const r = this.requireReplicator(id);
      await r.replicator.stop();
      this.statusThrottle.flush(id);
      return this.replicatorInfo(id);
    }));
    c.onRequest(P.RestartReplication, wrap(async ({ id }: { id: string }) => {
      const r = this.requireReplicator(id);
      await this.server.removeReplicator(r.replicator);
      this.startReplicator(id, r.params);
      return this.replicatorInfo(id);
    }));
    c.onRequest(P.RemoveReplication, wrap(async ({ id }: { id: string }) => {
      const r = this.requireReplicator(id);
      await this.server.removeReplicator(r.replicator);
      this.replicators.delete(id);
    }));
    c.onRequest(P.ListReplications, wrap(() => [...this.replicators.keys()].map((id) => this.replicatorInfo(id))));
  }

  private startReplicator(id: string, p: P.StartReplicationParams): void {
    const db = this.database(p.db);
    const resolver = builtInResolvers[p.resolver ?? 'default'];
    const headers = p.username !== undefined ? { Authorization: `Basic ${Buffer.from(`${p.username}:${p.password ?? ''}`).toString('base64')}` } : undefined;
    const replicator = this.server.createReplicator({
      database: db,
      target: p.target,
      type: p.type,
      continuous: p.continuous,
      ...(p.collections ? { collections: p.collections } : {}),
      conflictResolver: resolver,
      ...(headers ? { headers } : {}),
      ...(p.heartbeat !== undefined && p.heartbeat > 0 ? { heartbeat: p.heartbeat } : {}),
      ...(p.acceptOnlySelfSignedServerCertificate ? { acceptOnlySelfSignedServerCertificate: true } : {}),
      ...(p.pinnedServerCertificate ? { pinnedServerCertificate: p.pinnedServerCertificate } : {}),
    });
    this.replicators.set(id, { replicator, params: p, db });
    replicator.on('change', () => this.statusThrottle.push(id, this.replicatorInfo(id)));
    replicator.on('documentEnded', (e) => this.log({ time: Date.now(), source: id, direction: e.direction, collection: e.collection, docId: e.docId, revId: e.revId, error: e.error?.message, skipped: e.skipped }));
    replicator.start();
  }

  private requireReplicator(id: string): { replicator: Replicator; params: P.StartReplicationParams; db: Database } {
    const r = this.replicators.get(id);
    if (!r) throw notFound(`no replicator ${id}`);
    return r;
  }

  private replicatorInfo(id: string): P.ReplicatorInfo {
    const { replicator, params, db } = this.requireReplicator(id);
    const s: ReplicatorStatus = replicator.status;
    let pending: number | undefined;
    if (replicator.type !== 'pull') {
      try {
        pending = replicator.pendingDocumentIds().size;
      } catch {
        pending = undefined;
      }
    }
    return {
      id,
      db: db.name,
      target: replicator.target,
      type: replicator.type,
      continuous: params.continuous,
      activity: s.activity,
      completed: s.progress.completed,
      total: s.progress.total,
      ...(s.error ? { error: { message: s.error.message, transient: s.error.transient } } : {}),
      ...(s.nextAttemptAt ? { nextAttemptAt: s.nextAttemptAt } : {}),
      ...(pending !== undefined ? { pendingDocuments: pending } : {}),
      failed: s.failed,
      ...(replicator.warnings.length > 0 ? { warnings: replicator.warnings } : {}),
      ...(s.failed > 0
        ? { failedDocuments: replicator.failedDocuments().slice(0, 20).map((f) => ({ direction: f.direction, collection: f.collection, docId: f.docId, message: f.error?.message ?? 'failed' })) }
        : {}),
    };
  }

  private listenerInfo(id: string, l: Listener): P.ListenerInfo {
    const status = l.status;
    return {
      id,
      db: l.config.database.name,
      state: l.isListening ? 'listening' : 'stopped',
      port: l.port,
      urls: l.urls,
      tls: l.tlsIdentity !== undefined,
      ...(l.tlsIdentity ? { certificateFingerprint: l.tlsIdentity.fingerprintSha256 } : {}),
      readOnly: l.config.readOnly === true,
      connectionCount: status.connectionCount,
      activeConnectionCount: status.activeConnectionCount,
      clients: l.connectedClients(),
      authentication: authenticationKind(l.config.authenticator),
      ...(l.tlsIdentity ? { certificateLabel: l.tlsIdentity.label } : {}),
      ...(l.warnings.length > 0 ? { warnings: l.warnings } : {}),
    };
  }

  /** The keystore of a database: `<db>/keystore` (where its listener's anonymous identity lives too). */
  private keystore(db: Database): FileKeystore {
    return new FileKeystore(join(db.path, 'keystore'));
  }

  private async requireIdentity(db: Database, label: string): Promise<TLSIdentity> {
    const identity = await tlsCallAsync(() => this.keystore(db).get(label));
    if (!identity) throw notFound(`no identity labelled ${JSON.stringify(label)} in the keystore of ${db.name}`);
    return identity;
  }

  private log(entry: P.ReplicationLogEntry): void {
    this.logBuffer.push(entry);
    if (this.logBuffer.length > 500) this.logBuffer.splice(0, this.logBuffer.length - 500);
    this.logTimer ??= setTimeout(() => {
      this.logTimer = undefined;
      const entries = this.logBuffer;
      this.logBuffer = [];
      void this.conn.sendNotification(P.ReplicationLog, { entries });
    }, 100);
  }

  private watch(db: Database): void {
    if (this.watched.has(db)) return;
    this.watched.add(db);
    const hook = (coll: Collection): void => {
      const key = `${db.name}/${coll.fullName}`;
      const ids = new Set<string>();
      const emit = (docIds: string[]): void => {
        for (const id of docIds) ids.add(id);
        this.changeThrottle.push(key, { db: db.name, collection: coll.fullName, docIds: ids });
      };
      coll.on('change', (changes) => emit(changes.map((ch) => ch.docId)));
      coll.on('purge', (id) => emit([id]));
    };
    db.collections().forEach(hook);
  }

  private database(name: string): Database {
    const db = this.server.listDatabases().find((d) => d.name === name);
    if (!db) throw notFound(`no open database named ${JSON.stringify(name)}`);
    return db;
  }

  private collection(dbName: string, name: string): Collection {
    return this.database(dbName).requireCollection(name);
  }
}

function invalid(message: string): ResponseError<unknown> {
  return new ResponseError(P.RpcErrorCode.invalid, message);
}

/** Unusable key or certificate material and keystore problems are the caller's to fix: `invalid`. */
function tlsError(e: unknown): unknown {
  if (e instanceof KeystoreError || e instanceof TLSIdentityError) return invalid(e.message);
  return e;
}

function tlsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw tlsError(e);
  }
}

async function tlsCallAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw tlsError(e);
  }
}

function requireAbsoluteFile(path: unknown, what: string): string {
  if (typeof path !== 'string' || path.length === 0) throw invalid(`${what}: a file path is required`);
  if (!isAbsolute(path)) throw invalid(`${what} must be an absolute path (got ${JSON.stringify(path)})`);
  if (!existsSync(path)) throw invalid(`${what} ${path} does not exist`);
  return path;
}

function usersFileAuthenticator(path: string, realm: string): ListenerAuthenticator {
  const file = requireAbsoluteFile(path, 'the users file');
  try {
    return new UsersFile(file).authenticator(realm);
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : String(e));
  }
}

function clientCaAuthenticator(path: string): ListenerAuthenticator {
  const file = requireAbsoluteFile(path, 'the client CA file');
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

/** Reads `pinnedServerCertificateFile` (PEM or DER) into `pinnedServerCertificate` (PEM), so restarts do not depend on the file. */
function withPinnedCertificateRead(p: P.StartReplicationParams): P.StartReplicationParams {
  const { pinnedServerCertificateFile: file, ...rest } = p;
  if (file === undefined || p.pinnedServerCertificate) return rest;
  const path = requireAbsoluteFile(file, 'the pinned certificate file');
  let pem: string;
  try {
    const der = certificateDer(readFileSync(path));
    new X509Certificate(der);
    pem = derToPem(der);
  } catch (e) {
    throw invalid(`${path} is not a certificate (PEM or DER): ${e instanceof Error ? e.message : String(e)}`);
  }
  return { ...rest, pinnedServerCertificate: pem };
}

function certificateInfo(identity: TLSIdentity): P.CertificateInfo {
  return {
    pem: exportCertificatePem(identity),
    fingerprintSha256: identity.fingerprintSha256,
    subject: { ...identity.subject },
    notBefore: identity.notBefore.toISOString(),
    notAfter: identity.notAfter.toISOString(),
    selfSigned: identity.isSelfSigned,
    issuer: { ...identity.issuer },
    serialNumber: identity.serialNumber,
    subjectAltNames: [...identity.subjectAltNames],
    label: identity.label,
  };
}

function summary(db: Database): P.DatabaseSummary {
  const info = db.info();
  return { name: info.name, path: info.path, uuid: info.uuid, collections: info.collections.map((c) => ({ name: c.name, documents: c.documents, conflicts: c.conflicts, lastSequence: c.lastSequence })) };
}

function docSummary(d: Document): P.DocumentSummary {
  const blobs = blobCount(d.body);
  return { id: d.id, revId: d.revId, deleted: d.deleted, conflicted: d.conflicted, ...(blobs > 0 ? { blobs } : {}) };
}

function docData(d: Document): P.DocumentData {
  return { ...docSummary(d), body: (d.body as Record<string, unknown> | undefined) ?? null, sequence: d.sequence };
}

function revNode(r: RevisionInfo): P.RevisionNode {
  return { revId: r.revId, parentRevId: r.parentRevId, deleted: r.deleted, leaf: r.leaf, conflict: r.conflict, winner: r.winner, hasBody: r.hasBody, sequence: r.sequence };
}
