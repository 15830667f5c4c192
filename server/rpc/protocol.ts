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
  /** A name that must be new is taken (a database folder that is not empty, an identity label). */
  exists: 4010,
  invalid: 4000,
  tooLarge: 4013,
  locked: 4023,
  io: 5007,
  corrupt: 5006,
  replication: 5010,
  /** Replication gave up on a failure that may pass (an unreachable peer): worth retrying later. */
  replicationTransient: 5011,
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

export interface DatabaseInfo extends DatabaseSummary {
  /** Bytes of the last snapshot image and of the journal written since. */
  readonly imageBytes: number;
  readonly journalBytes: number;
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
  readonly sequence: number;
}

export interface DocumentData extends DocumentSummary {
  readonly body: Record<string, unknown> | null;
}

/** A conflicted document and its current (winning) revision. */
export interface ConflictRef extends DocumentRef {
  readonly revId: string;
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
  /** Every branch in conflict with `local` (`remote` first): three or more when several peers edited. */
  readonly others: readonly ConflictSide[];
  readonly tree: readonly RevisionNode[];
}

export type ConflictResolution =
  | { readonly kind: 'winner'; readonly revId: string }
  | { readonly kind: 'merged'; readonly body: Record<string, unknown> }
  | { readonly kind: 'delete' }
  /** Apply a built-in resolver, as a replication would. */
  | { readonly kind: 'resolver'; readonly name: BuiltInResolverName };

/** `manual` keeps conflicts for a person (the Conflicts view); the others resolve them during replication, and every resolution is recorded. */
export type BuiltInResolverName = 'default' | 'localWins' | 'remoteWins' | 'merge' | 'mergePreferLocal' | 'manual';

/** A branch as it was when its conflict was resolved. */
export interface RecordedRevision {
  readonly revId: string;
  readonly deleted: boolean;
  readonly body: Record<string, unknown> | null;
}

/** How a conflict ended, whoever ended it (a replicator's resolver, or `manual`). */
export interface ResolvedConflict {
  readonly id: number;
  readonly time: number;
  readonly db: string;
  readonly collection: string;
  readonly docId: string;
  readonly resolver: string;
  readonly competing: readonly RecordedRevision[];
  readonly outcome: 'kept' | 'merged' | 'deleted';
  readonly resultRevId: string;
  /** Branches no longer shown; each can be restored as a new revision. */
  readonly discarded: readonly RecordedRevision[];
}

export const ListDatabases = new RequestType0<DatabaseSummary[], void>('peersync/listDatabases');
/** Opens the database, creating it if missing (`exclusive`: an `exists` error unless it is new or empty). */
export const CreateDatabase = new RequestType<{ name: string; collections?: readonly string[]; exclusive?: boolean }, DatabaseSummary, void>('peersync/createDatabase');
export const GetDatabaseInfo = new RequestType<{ db: string }, DatabaseInfo, void>('peersync/getDatabaseInfo');
export const CreateCollection = new RequestType<{ db: string; name: string }, DatabaseSummary, void>('peersync/createCollection');
/** Deletes a collection and its documents (not the default collection). */
export const DeleteCollection = new RequestType<{ db: string; name: string }, DatabaseSummary, void>('peersync/deleteCollection');
/** Opens a database folder anywhere on the server's machine (its folder name becomes its name). */
export const OpenDatabaseFolder = new RequestType<{ path: string }, DatabaseSummary, void>('peersync/openDatabaseFolder');
/** Opens every database in the data folder not open yet (e.g. copied there), and says which could not be. */
export const RefreshDatabases = new RequestType0<{ databases: DatabaseSummary[]; opened: string[]; unavailable: { name: string; reason: string }[] }, void>('peersync/refreshDatabases');
/** Closes a database: its listeners and replications stop, and come back when it is opened again. */
export const CloseDatabase = new RequestType<{ db: string }, void, void>('peersync/closeDatabase');
/** Deletes a database of the data folder for good: its listeners and replications are removed, then its folder. */
export const DeleteDatabase = new RequestType<{ db: string }, void, void>('peersync/deleteDatabase');
/** A page of documents in ID order (`prefix`: only IDs starting with it; `total` counts the whole collection). */
export const ListDocuments = new RequestType<
  { db: string; collection: string; after?: string; limit: number; includeDeleted?: boolean; prefix?: string },
  { docs: DocumentSummary[]; total: number },
  void
>('peersync/listDocuments');
export const GetDocument = new RequestType<DocumentRef & { rev?: string }, DocumentData | null, void>('peersync/getDocument');
/** Saves a new revision based on `baseRevId`; a stale base fails with RpcErrorCode.conflict unless `force`. */
export const SaveDocument = new RequestType<DocumentRef & { baseRevId: string | null; body: Record<string, unknown>; force?: boolean }, DocumentData, void>('peersync/saveDocument');
export const DeleteDocument = new RequestType<DocumentRef & { baseRevId?: string }, DocumentData, void>('peersync/deleteDocument');
/** Removes a document and its whole history here (not replicated); a `notFound` error if there is none. */
export const PurgeDocument = new RequestType<DocumentRef, void, void>('peersync/purgeDocument');
export const GetRevisionTree = new RequestType<DocumentRef, RevisionNode[] | null, void>('peersync/getRevisionTree');
export const ListConflicts = new RequestType<{ db?: string; collection?: string }, ConflictRef[], void>('peersync/listConflicts');
export const GetConflict = new RequestType<DocumentRef, ConflictData | null, void>('peersync/getConflict');
/** Ends a conflict; `winner` names the branch kept (any of them), and every other branch is closed. Recorded like automatic resolutions. */
export const ResolveConflict = new RequestType<DocumentRef & { resolution: ConflictResolution }, DocumentData, void>('peersync/resolveConflict');
/** Resolution records, newest first (`before`: page back from a record ID). */
export const ListResolvedConflicts = new RequestType<{ db: string; collection?: string; limit?: number; before?: number }, ResolvedConflict[], void>('peersync/listResolvedConflicts');
/** Saves a discarded branch's body as a new revision of the document (on top of its current one). */
export const RestoreDiscarded = new RequestType<{ db: string; recordId: number; revId: string }, DocumentData, void>('peersync/restoreDiscarded');
/** Imports a JSON-lines or JSON-array file (a path on the server's machine). */
export const ImportDocuments = new RequestType<{ db: string; collection: string; file: string }, { imported: number; batches: number }, void>('peersync/importDocuments');
/**
 * Saves records `{"_id"?, ...body}` in one durable transaction (other `_` keys are dropped), so a
 * client can import a stream it reads itself, batch by batch.
 */
export const ImportBatch = new RequestType<{ db: string; collection: string; records: readonly Record<string, unknown>[] }, { imported: number }, void>('peersync/importBatch');
/** Writes every live document as JSON lines `{"_id","_rev",...body}` to a file on the server's machine. */
export const ExportCollection = new RequestType<{ db: string; collection: string; file: string }, { exported: number }, void>('peersync/exportCollection');
/** One page of export records, in document ID order after `after`. */
export const ExportPage = new RequestType<{ db: string; collection: string; after?: string; limit: number }, { records: Record<string, unknown>[]; total: number }, void>('peersync/exportPage');

/** Rows of a SQL++ query (see README, Queries); a missing value has no key in its row. */
export interface QueryResult {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
  /** The row cap (1,000 without LIMIT, 10,000 at most) cut the result short. */
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

/** The `data` of RunQuery's `invalid` error: where in the query text the problem is. */
export interface QueryErrorData {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
}

/** Runs a read-only SQL++ SELECT; `$name` in the query takes its value from `parameters`. */
export const RunQuery = new RequestType<{ db: string; query: string; parameters?: Record<string, unknown> }, QueryResult, void>('peersync/runQuery');

// ---- JSON Schemas per collection (optional) ----

/** One way a document fails its collection's schema; `segments` locate the value (keys and array indexes). */
export interface SchemaProblem {
  readonly path: string;
  readonly segments: readonly string[];
  readonly message: string;
  readonly missingProperty?: string | undefined;
}

/** The `data` of an `invalid` error from a save that does not match the schema. */
export interface SchemaErrorData {
  readonly schemaErrors: readonly SchemaProblem[];
}

export const GetCollectionSchema = new RequestType<{ db: string; collection: string }, Record<string, unknown> | null, void>('peersync/getCollectionSchema');
/** Sets a collection's JSON Schema (null removes it); documents saved through PeerSync must then match it. */
export const SetCollectionSchema = new RequestType<{ db: string; collection: string; schema: Record<string, unknown> | null }, void, void>('peersync/setCollectionSchema');
/** Checks a body against the collection's schema without saving (the editor's diagnostics). */
export const ValidateDocument = new RequestType<{ db: string; collection: string; body: unknown }, SchemaProblem[], void>('peersync/validateDocument');

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
  /** Saved in the configuration: it starts again with the server. */
  readonly persisted?: boolean | undefined;
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
  /** Connections allowed at once (default 100), and from one IP address (default 25). */
  readonly maxConnections?: number;
  readonly maxConnectionsPerAddress?: number;
  /** Close a client silent this long, not even answering pings (default 60; at least 2). */
  readonly idleTimeoutSeconds?: number;
  /** Failed sign-ins per (client, user name) within a minute before 429 (default 10), and per client (default 50; an IPv6 client is its /64). */
  readonly maxFailedLogins?: number;
  readonly maxFailedLoginsPerAddress?: number;
  /** Save it in the data folder's configuration so it starts again with the server (default true). */
  readonly persist?: boolean;
}

export const StartListener = new RequestType<StartListenerParams, ListenerInfo, void>('peersync/startListener');
/** Stops a listener and removes it from the saved configuration. */
export const StopListener = new RequestType<{ id: string }, void, void>('peersync/stopListener');
export const ListListeners = new RequestType0<ListenerInfo[], void>('peersync/listListeners');
/** A TCP port free on the server's machine: `preferred` if it is, else the next free one after it. */
export const FindFreePort = new RequestType<{ preferred: number; networkInterface?: string }, { port: number }, void>('peersync/findFreePort');

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
/** Imports a PKCS#12 file (a path on the server's machine) into the database's keystore. */
export const ImportIdentity = new RequestType<{ db: string; file: string; password: string; label: string }, CertificateInfo & { readonly label: string }, void>('peersync/importIdentity');
/** Writes an identity's certificate (PEM or DER) or, with a password, the whole identity as PKCS#12, to a file on the server's machine. */
export const ExportIdentity = new RequestType<{ db: string; label: string; file: string; format: 'pem' | 'der' | 'pkcs12'; password?: string }, { file: string }, void>('peersync/exportIdentity');
export const DeleteIdentity = new RequestType<{ db: string; label: string }, void, void>('peersync/deleteIdentity');

// ---- users files (HTTP Basic accounts a listener checks; scrypt hashes only) ----

/** Adds a user, or changes its password; the file (a path on the server's machine) is created if missing. */
export const AddUser = new RequestType<{ file: string; user: string; password: string }, { users: string[] }, void>('peersync/addUser');
export const RemoveUser = new RequestType<{ file: string; user: string }, { users: string[] }, void>('peersync/removeUser');
export const ListUsers = new RequestType<{ file: string }, { users: string[] }, void>('peersync/listUsers');

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
  readonly failedDocuments?: readonly FailedDocument[] | undefined;
  /** Saved in the configuration: it comes back when the server restarts. */
  readonly persisted?: boolean | undefined;
  /** The HTTP Basic user it signs in as; its password is not stored by the server (see RestartReplication). */
  readonly username?: string | undefined;
  /** The user's settings, as given to StartReplication (without the password). */
  readonly params?: StartReplicationParams | undefined;
}

export interface FailedDocument {
  readonly direction: 'push' | 'pull';
  readonly collection: string;
  readonly docId: string;
  readonly revId?: string | undefined;
  readonly message: string;
}

export interface StartReplicationParams {
  readonly db: string;
  readonly target: string;
  readonly type: 'push' | 'pull' | 'pushAndPull';
  readonly continuous: boolean;
  readonly collections?: readonly string[];
  readonly resolver?: BuiltInResolverName;
  /** Only these documents (in every collection replicated). */
  readonly documentIds?: readonly string[];
  /**
   * A channel-like filter, both directions: only documents whose `filterField` (a dotted path) holds
   * one of `filterValues` (or, for an array, contains one). Deletions always pass. An empty
   * `filterField` removes the filter (in UpdateReplication).
   */
  readonly filterField?: string;
  readonly filterValues?: readonly string[];
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
  /** wss:// targets: roots trusted besides the system CAs, from this PEM file (a path on the server's machine). */
  readonly trustedRootCertificatesFile?: string;
  /** wss:// targets: present this client certificate (a label in the database's keystore). */
  readonly clientIdentityLabel?: string;
  /** Connection attempts before giving up (default 10 one-shot, unlimited continuous; 0 = unlimited). */
  readonly maxAttempts?: number;
  /**
   * Save it in the data folder's configuration so it comes back after a restart (default true;
   * a one-shot run from the command line is not saved). The password never is.
   */
  readonly persist?: boolean;
  /** Register it without starting it (a saved replication waiting for its password). */
  readonly paused?: boolean;
}

export const StartReplication = new RequestType<StartReplicationParams, ReplicatorInfo, void>('peersync/startReplication');
export const StopReplication = new RequestType<{ id: string }, ReplicatorInfo, void>('peersync/stopReplication');
/** Starts it again with its settings; `password` for one that signs in (saved ones never hold theirs). */
export const RestartReplication = new RequestType<{ id: string; password?: string }, ReplicatorInfo, void>('peersync/restartReplication');
/**
 * Edits a replication's settings without recreating it (target, type, continuous, collections, document IDs,
 * resolver, trust, …; not its database). A running one restarts with them; `password` for one that signs in.
 */
export const UpdateReplication = new RequestType<{ id: string; changes: Partial<StartReplicationParams>; password?: string }, ReplicatorInfo, void>('peersync/updateReplication');
/** Stops it and removes it from the saved configuration. */
export const RemoveReplication = new RequestType<{ id: string }, void, void>('peersync/removeReplication');
export const ListReplications = new RequestType0<ReplicatorInfo[], void>('peersync/listReplications');
export const GetReplication = new RequestType<{ id: string }, ReplicatorInfo, void>('peersync/getReplication');
/** Every document whose last attempt failed in the current run (up to `limit`, default 1000). */
export const ListFailedDocuments = new RequestType<{ id: string; limit?: number }, { documents: FailedDocument[]; total: number }, void>('peersync/listFailedDocuments');

// ---- remote peers (saved in the configuration with their trust decisions) ----

export interface RemotePeer {
  /** ws[s]://host:port/db, without credentials. */
  readonly url: string;
  /** wss://: the SHA-256 fingerprint of the certificate the user chose to trust for this peer. */
  readonly pinnedFingerprint?: string | undefined;
  /** The pinned certificate itself (PEM), so a replication can require exactly it. */
  readonly pinnedCertificate?: string | undefined;
}

export const ListPeers = new RequestType0<RemotePeer[], void>('peersync/listPeers');
/** Adds the peer, or updates its pinned certificate. */
export const AddPeer = new RequestType<RemotePeer, RemotePeer[], void>('peersync/addPeer');
export const RemovePeer = new RequestType<{ url: string }, RemotePeer[], void>('peersync/removePeer');

// ---- notifications (server → extension) ----

/** Documents changed in a collection (by a local save or by replication). */
export const DatabaseChanged = new NotificationType<{ db: string; collection: string; docIds: string[]; truncated: boolean }>('peersync/databaseChanged');
/** A replicator's status changed (throttled to at most 10 per second per replicator). */
export const ReplicatorStatusChanged = new NotificationType<ReplicatorInfo>('peersync/replicatorStatus');
export const ListenerStatusChanged = new NotificationType<ListenerInfo>('peersync/listenerStatus');

/** What changed in the server's own state, whoever caused it (this client, another one, the command line, a peer). */
export type ServerEventParams =
  | { readonly kind: 'databaseOpened'; readonly db: string }
  | { readonly kind: 'databaseClosed'; readonly db: string }
  | { readonly kind: 'collectionCreated'; readonly db: string; readonly collection: string }
  | { readonly kind: 'collectionDeleted'; readonly db: string; readonly collection: string }
  | { readonly kind: 'listenerStarted'; readonly listener: ListenerInfo }
  | { readonly kind: 'listenerStopped'; readonly id: string }
  | { readonly kind: 'replicationAdded'; readonly replication: ReplicatorInfo }
  | { readonly kind: 'replicationRemoved'; readonly id: string }
  | { readonly kind: 'conflictsChanged'; readonly db: string; readonly collection: string }
  | { readonly kind: 'conflictResolved'; readonly resolution: ResolvedConflict }
  | { readonly kind: 'peersChanged'; readonly peers: readonly RemotePeer[] };

export const ServerEvent = new NotificationType<ServerEventParams>('peersync/serverEvent');

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
