import type { BlipConnection } from '../blip';
import type { TLSIdentity } from '../tls';
import type { ConflictResolver, ConflictResolverFn, Database } from '../store';
import type { PushFilter } from './pusher';
import type { PullFilter } from './puller';

export type ReplicatorType = 'push' | 'pull' | 'pushAndPull';
export type ReplicatorActivity = 'stopped' | 'offline' | 'connecting' | 'idle' | 'busy';

/** Why a replicator stopped or is retrying. Transient errors are retried; permanent ones stop it. */
export class ReplicatorError extends Error {
  override readonly name = 'ReplicatorError';
  constructor(
    message: string,
    readonly transient: boolean,
    readonly code?: number | string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ReplicatorStatus {
  readonly activity: ReplicatorActivity;
  readonly progress: { readonly completed: number; readonly total: number };
  readonly error?: ReplicatorError | undefined;
  /** While offline: when the next connection attempt is due (ms since epoch). */
  readonly nextAttemptAt?: number | undefined;
  /**
   * Documents whose last attempt since `start()` failed (refused by the peer, not saved there or
   * here): never counted as replicated; their sequences are not checkpointed, so a later run retries them.
   */
  readonly failed: number;
}

export interface CollectionConfig {
  /** `scope.name` or `name` (default scope). */
  readonly name: string;
  readonly documentIDs?: readonly string[] | undefined;
  readonly pushFilter?: PushFilter | undefined;
  readonly pullFilter?: PullFilter | undefined;
  readonly conflictResolver?: ConflictResolver | ConflictResolverFn | undefined;
}

/** An open connection to the peer (over WebSocket, an in-memory pair, or a custom transport). */
export interface ReplicatorLink {
  readonly connection: BlipConnection;
  close(code?: number, reason?: string): void;
}

/** Opens connections to one peer; the replicator never knows which transport it has. */
export interface ReplicatorConnector {
  /** Identifies the peer database (used for checkpoint IDs and what the peer is known to have). */
  readonly address: string;
  /** What a user should know before relying on this connection (e.g. credentials sent unencrypted). */
  readonly warnings?: readonly string[];
  connect(signal: AbortSignal, heartbeatSeconds: number): Promise<ReplicatorLink>;
}

export interface ReplicatorConfig {
  readonly database: Database;
  /** `ws[s]://host:port/db`, or a connector for other transports. */
  readonly target: string | ReplicatorConnector;
  readonly type?: ReplicatorType;
  readonly continuous?: boolean;
  /** Collections to replicate (default: the default collection). */
  readonly collections?: readonly (string | CollectionConfig)[];
  /** Defaults for every collection that does not set its own. */
  readonly documentIDs?: readonly string[] | undefined;
  readonly pushFilter?: PushFilter | undefined;
  readonly pullFilter?: PullFilter | undefined;
  readonly conflictResolver?: ConflictResolver | ConflictResolverFn | undefined;
  /** WebSocket ping interval in seconds (default 300). */
  readonly heartbeat?: number;
  /** Connection attempts before giving up (default 10 one-shot, unlimited continuous; 0 = unlimited). */
  readonly maxAttempts?: number;
  /** Longest wait between attempts in seconds (default 300). */
  readonly maxAttemptWaitTime?: number;
  /** Extra headers for the WebSocket upgrade. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Credentials for the listener: Basic user/password, or a client certificate (wss only). */
  readonly authenticator?: ReplicatorAuthenticator | undefined;
  /**
   * wss:// only. Checked in this order: the server's certificate must equal this one exactly
   * (PEM or DER); nothing else matters.
   */
  readonly pinnedServerCertificate?: string | Uint8Array | undefined;
  /** wss:// only, when not pinned: accept any self-signed certificate and nothing else. */
  readonly acceptOnlySelfSignedServerCertificate?: boolean | undefined;
  /** wss:// only, default mode: roots trusted besides the system CA store (PEM). */
  readonly trustedRootCertificates?: readonly string[] | undefined;
  /** How often progress is checkpointed while running (default 5 s). */
  readonly checkpointIntervalMs?: number;
}

/** HTTP Basic credentials sent on the WebSocket upgrade. */
export class BasicAuthenticator {
  readonly kind = 'basic' as const;
  constructor(
    readonly username: string,
    readonly password: string,
  ) {}

  header(): string {
    return `Basic ${Buffer.from(`${this.username}:${this.password}`, 'utf8').toString('base64')}`;
  }
}

/** Presents a client certificate during the TLS handshake (the listener verifies it). */
export class ClientCertificateAuthenticator {
  readonly kind = 'clientCertificate' as const;
  constructor(readonly identity: TLSIdentity) {}
}

export type ReplicatorAuthenticator = BasicAuthenticator | ClientCertificateAuthenticator;
