/**
 * Every request and notification between the VS Code extension and the sync server, declared
 * once. Both sides import this module (the extension imports nothing else from server/).
 * Method names are namespaced `peersync/…`; application errors are ResponseErrors with the codes
 * in `RpcErrorCode` (outside JSON-RPC's reserved −32099…−32000).
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

export const RpcErrorCode = {
  notFound: 4004,
  conflict: 4009,
  invalid: 4000,
  tooLarge: 4013,
  locked: 4023,
  io: 5007,
  corrupt: 5006,
  replication: 5010,
  internal: 5000,
} as const;

/** Sent by the server with a `conflict` error on a stale save. */
export interface ConflictErrorData {
  readonly currentRevId: string | null;
}

export interface InitializationOptions {
  /** Folder holding the databases (one directory each). */
  readonly dataFolder: string;
  /** Databases to open at start (names inside dataFolder); created if missing. */
  readonly openDatabases?: readonly string[];
  /** The server's log level at start (see SetLogLevel); default info. */
  readonly logLevel?: string;
}

// ---- databases and documents ----

export interface CollectionSummary {
  readonly name: string;
  readonly documents: number;
  readonly conflicts: number;
  readonly lastSequence: number;
}

export interface DatabaseSummary {
  readonly name: string;
  readonly path: string;
  readonly uuid: string;
  readonly collections: readonly CollectionSummary[];
}

export interface DocumentRef {
  readonly db: string;
  readonly collection: string;
  readonly docId: string;
}

export interface DocumentSummary {
  readonly id: string;
  readonly revId: string;
  readonly deleted: boolean;
  readonly conflicted: boolean;
  /** How many blob references the current revision holds (absent: none), so a tree can offer to expand it. */
  readonly blobs?: number | undefined;
}

export interface DocumentData extends DocumentSummary {
  readonly body: Record<string, unknown> | null;
  readonly sequence: number;
}

export interface RevisionNode {
  readonly revId: string;
  readonly parentRevId: string | null;
  readonly deleted: boolean;
  readonly leaf: boolean;
  readonly conflict: boolean;
  readonly winner: boolean;
  readonly hasBody: boolean;
  readonly sequence: number;
}

export interface ConflictSide {
  readonly revId: string;
  readonly deleted: boolean;
  readonly body: Record<string, unknown> | null;
}

export interface ConflictData extends DocumentRef {
  readonly local: ConflictSide;
  readonly remote: ConflictSide;
  readonly tree: readonly RevisionNode[];
}

export type ConflictResolution =
  | { readonly kind: 'winner'; readonly revId: string }
  | { readonly kind: 'merged'; readonly body: Record<string, unknown> }
  | { readonly kind: 'delete' };

export const ListDatabases = new RequestType0<DatabaseSummary[], void>('peersync/listDatabases');
export const CreateDatabase = new RequestType<{ name: string }, DatabaseSummary, void>('peersync/createDatabase');
export const ListDocuments = new RequestType<{ db: string; collection: string; after?: string; limit: number }, { docs: DocumentSummary[]; total: number }, void>('peersync/listDocuments');
export const GetDocument = new RequestType<DocumentRef & { rev?: string }, DocumentData | null, void>('peersync/getDocument');
/** Saves a new revision based on `baseRevId`; a stale base fails with RpcErrorCode.conflict unless `force`. */
export const SaveDocument = new RequestType<DocumentRef & { baseRevId: string | null; body: Record<string, unknown>; force?: boolean }, DocumentData, void>('peersync/saveDocument');
export const DeleteDocument = new RequestType<DocumentRef & { baseRevId?: string }, DocumentData, void>('peersync/deleteDocument');
export const GetRevisionTree = new RequestType<DocumentRef, RevisionNode[] | null, void>('peersync/getRevisionTree');
export const ListConflicts = new RequestType<{ db?: string }, DocumentRef[], void>('peersync/listConflicts');
export const GetConflict = new RequestType<DocumentRef, ConflictData | null, void>('peersync/getConflict');
export const ResolveConflict = new RequestType<DocumentRef & { resolution: ConflictResolution }, DocumentData, void>('peersync/resolveConflict');
export const ImportDocuments = new RequestType<{ db: string; collection: string; file: string }, { imported: number }, void>('peersync/importDocuments');
export const ExportCollection = new RequestType<{ db: string; collection: string; file: string }, { exported: number }, void>('peersync/exportCollection');

// ---- blobs ----

/**
 * ReadBlob refuses blobs larger than this (a `tooLarge` error): the content travels base64-encoded in
 * one JSON-RPC message, a third larger than the blob, and is held whole in memory on both sides.
 * 16 MiB keeps that well under a second while covering the photos and documents apps attach.
 */
export const MAX_BLOB_READ_BYTES = 16 * 1024 * 1024;

/** One blob reference in a document's current revision. */
export interface BlobInfo {
  /** Where the reference sits in the body, e.g. `list[0].image`. */
  readonly path: string;
  readonly digest: string;
  readonly length: number;
  readonly contentType?: string | undefined;
  /** The content is stored in this database (false: not replicated here yet). */
  readonly present: boolean;
}

export interface BlobContent {
  readonly digest: string;
  readonly length: number;
  readonly contentType?: string | undefined;
  readonly base64: string;
}

/** The `data` of ReadBlob's errors, so a client can tell them apart. */
export interface BlobErrorData {
  /** notReferenced, missing: `notFound`; tooLarge: `tooLarge`. */
  readonly reason: 'notReferenced' | 'missing' | 'tooLarge';
  readonly length?: number | undefined;
  readonly limit?: number | undefined;
}

export const ListDocumentBlobs = new RequestType<DocumentRef, BlobInfo[], void>('peersync/listDocumentBlobs');
/**
 * A blob's content, only for a digest the document's current revision references (the document
 * stands for the reader's right to the blob; the store alone would serve any digest it holds).
 */
export const ReadBlob = new RequestType<DocumentRef & { digest: string }, BlobContent, void>('peersync/readBlob');

// ---- listeners ----

export interface ListenerInfo {
  readonly id: string;
  readonly db: string;
  readonly state: 'listening' | 'stopped';
  readonly port: number;
  readonly urls: readonly string[];
  readonly tls: boolean;
  readonly certificateFingerprint?: string | undefined;
  readonly readOnly: boolean;
  readonly connectionCount: number;
  readonly activeConnectionCount: number;
  readonly clients: readonly { remoteAddress: string; connectedAt: number; busy: boolean }[];
  /** Who may connect: absent or 'none' = anyone; 'password' = a users file; 'clientCertificate' = certificates from a CA. */
  readonly authentication?: 'none' | 'password' | 'clientCertificate' | undefined;
  /** The keystore label of the listener's TLS identity (the anonymous one's is `anonymous-<db uuid>`). */
  readonly certificateLabel?: string | undefined;
  /** Security warnings (e.g. passwords received over ws://). */
  readonly warnings?: readonly string[] | undefined;
}

export interface StartListenerParams {
  readonly db: string;
  readonly port?: number;
  readonly networkInterface?: string;
  readonly readOnly?: boolean;
  /** wss:// with an anonymous self-signed certificate unless false (default true). */
  readonly tls?: boolean;
  /** wss:// with this identity from the database's keystore (`<db>/keystore`) instead of the anonymous one. Needs TLS. */
  readonly identityLabel?: string;
  /** Require HTTP Basic credentials checked against this users file (a path on the server's machine; see `peersync users`). */
  readonly usersFile?: string;
  /** Require client certificates that chain to a root in this PEM file (a path on the server's machine). Needs TLS. */
  readonly clientCaFile?: string;
}

export const StartListener = new RequestType<StartListenerParams, ListenerInfo, void>('peersync/startListener');
export const StopListener = new RequestType<{ id: string }, void, void>('peersync/stopListener');
export const ListListeners = new RequestType0<ListenerInfo[], void>('peersync/listListeners');

// ---- TLS identities and certificates ----

/** The naming attributes of a certificate subject or issuer (the common ones). */
export interface CertificateName {
  readonly commonName?: string | undefined;
  readonly organization?: string | undefined;
  readonly organizationalUnit?: string | undefined;
  readonly country?: string | undefined;
  readonly state?: string | undefined;
  readonly locality?: string | undefined;
  readonly emailAddress?: string | undefined;
}

/** An X.509 certificate as the extension shows it. Dates are ISO 8601 strings. */
export interface CertificateInfo {
  /** The leaf certificate, PEM. */
  readonly pem: string;
  /** SHA-256 of the DER, uppercase colon-separated hex ("AB:CD:…"), as OpenSSL and Node print it. */
  readonly fingerprintSha256: string;
  readonly subject: CertificateName;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly selfSigned: boolean;
  readonly issuer?: CertificateName | undefined;
  readonly serialNumber?: string | undefined;
  /** As Node prints them, e.g. ["DNS:localhost", "IP Address:127.0.0.1"]. */
  readonly subjectAltNames?: readonly string[] | undefined;
  /** The keystore label of the identity the certificate belongs to. */
  readonly label?: string | undefined;
}

/** An entry of a database's keystore (read without decrypting its private key). */
export interface IdentityInfo {
  readonly label: string;
  readonly commonName?: string | undefined;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
  /** The private key is encrypted (PEERSYNC_KEYSTORE_PASSPHRASE). */
  readonly encrypted: boolean;
  /** A listener's auto-generated anonymous identity (label `anonymous-<db uuid>`). */
  readonly anonymous: boolean;
}

export interface CreateIdentityParams {
  /** The database whose keystore (`<db>/keystore`) receives the identity. */
  readonly db: string;
  readonly label: string;
  readonly commonName: string;
  /** A server identity (for listeners; extKeyUsage serverAuth, SANs localhost/127.0.0.1/::1) or a client one (clientAuth). */
  readonly isServer: boolean;
  /** Validity from now, in days (default 365). */
  readonly validityDays?: number;
  readonly organization?: string;
  /** Replace an identity stored under the same label (otherwise that is a `conflict` error). */
  readonly replace?: boolean;
}

export const CreateIdentity = new RequestType<CreateIdentityParams, CertificateInfo & { readonly label: string }, void>('peersync/createIdentity');
export const ListIdentities = new RequestType<{ db: string }, IdentityInfo[], void>('peersync/listIdentities');
/** The certificate a running wss:// listener presents (an `invalid` error for a ws:// listener). */
export const GetListenerCertificate = new RequestType<{ id: string }, CertificateInfo, void>('peersync/getListenerCertificate');

// ---- replicators ----

export interface ReplicatorInfo {
  readonly id: string;
  readonly db: string;
  readonly target: string;
  readonly type: 'push' | 'pull' | 'pushAndPull';
  readonly continuous: boolean;
  readonly activity: 'stopped' | 'offline' | 'connecting' | 'idle' | 'busy';
  readonly completed: number;
  readonly total: number;
  readonly error?: { readonly message: string; readonly transient: boolean } | undefined;
  readonly nextAttemptAt?: number | undefined;
  readonly pendingDocuments?: number | undefined;
  /** Documents whose last attempt failed (never counted as replicated), and the first few of them. */
  readonly failed: number;
  /** Security warnings (e.g. a password sent over ws://). */
  readonly warnings?: readonly string[] | undefined;
  readonly failedDocuments?: readonly { readonly direction: 'push' | 'pull'; readonly collection: string; readonly docId: string; readonly message: string }[] | undefined;
}

export interface StartReplicationParams {
  readonly db: string;
  readonly target: string;
  readonly type: 'push' | 'pull' | 'pushAndPull';
  readonly continuous: boolean;
  readonly collections?: readonly string[];
  readonly resolver?: 'default' | 'localWins' | 'remoteWins' | 'merge';
  readonly username?: string;
  readonly password?: string;
  /** WebSocket ping interval in seconds (default 300). */
  readonly heartbeat?: number;
  /** wss:// targets: accept only a self-signed server certificate (the listener's anonymous one). */
  readonly acceptOnlySelfSignedServerCertificate?: boolean;
  /** wss:// targets: the server certificate (PEM) that must be presented. */
  readonly pinnedServerCertificate?: string;
  /**
   * wss:// targets: like pinnedServerCertificate, read from this file (PEM or DER; a path on the
   * server's machine) when the request arrives. Ignored when pinnedServerCertificate is given.
   */
  readonly pinnedServerCertificateFile?: string;
}

export const StartReplication = new RequestType<StartReplicationParams, ReplicatorInfo, void>('peersync/startReplication');
export const StopReplication = new RequestType<{ id: string }, ReplicatorInfo, void>('peersync/stopReplication');
export const RestartReplication = new RequestType<{ id: string }, ReplicatorInfo, void>('peersync/restartReplication');
export const RemoveReplication = new RequestType<{ id: string }, void, void>('peersync/removeReplication');
export const ListReplications = new RequestType0<ReplicatorInfo[], void>('peersync/listReplications');

// ---- notifications (server → extension) ----

/** Documents changed in a collection (by a local save or by replication). */
export const DatabaseChanged = new NotificationType<{ db: string; collection: string; docIds: string[]; truncated: boolean }>('peersync/databaseChanged');
/** A replicator's status changed (throttled to at most 10 per second per replicator). */
export const ReplicatorStatusChanged = new NotificationType<ReplicatorInfo>('peersync/replicatorStatus');
export const ListenerStatusChanged = new NotificationType<ListenerInfo>('peersync/listenerStatus');

export interface ReplicationLogEntry {
  readonly time: number;
  readonly source: string;
  readonly direction: 'push' | 'pull';
  readonly collection: string;
  readonly docId: string;
  readonly revId: string;
  readonly error?: string | undefined;
  readonly skipped?: boolean | undefined;
}

/** Documents that finished replicating, batched (the dashboard's "network tab"). */
export const ReplicationLog = new NotificationType<{ entries: ReplicationLogEntry[] }>('peersync/replicationLog');

// ---- logs ----

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type LogNamespaceName = 'blip' | 'replicator' | 'listener' | 'store' | 'tls' | 'app';

/** One record of the server's namespaced logs. */
export interface LogRecordParams {
  /** Milliseconds since the epoch, when the server logged it. */
  readonly time: number;
  readonly namespace: LogNamespaceName;
  readonly level: LogLevelName;
  readonly message: string;
  /** Plain JSON values (errors arrive as their message). */
  readonly fields?: Record<string, unknown>;
}

/** A log record at or above the server's level (server → extension). */
export const LogRecord = new NotificationType<LogRecordParams>('peersync/log');
/**
 * Sets the server's log level (extension → server): a level (`error` … `trace`, or `off`),
 * optionally with per-namespace levels, e.g. `info,blip=trace`. An invalid one is logged and ignored.
 */
export const SetLogLevel = new NotificationType<{ level: string }>('peersync/setLogLevel');
