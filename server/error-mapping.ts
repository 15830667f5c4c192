/**
 * How a failure travels outward, decided in one place: a store error becomes a BLIP error a peer
 * understands, anything a connection throws becomes a ReplicatorError (transient or permanent),
 * and store and replication errors become RPC error codes and CLI exit codes. Every decision is
 * made on a typed class and its code, never on message text.
 */
import { BlipError, type BlipCloseInfo } from './blip';
import { StoreError, isStoreError, type StoreErrorCode } from './store';
import { ReplicatorError } from './replication/replicator-types';
import { ConnectionError, classifyClose } from './transport/connection-error';
import { RpcErrorCode } from './rpc/protocol';
import { AppError, type AppErrorCode } from './app/app-error';

/** Store failures as BLIP errors with HTTP-like codes the sender understands. */
export function storeToBlip(e: unknown): BlipError {
  if (e instanceof BlipError) return e;
  if (isStoreError(e)) return new BlipError('HTTP', BLIP_STATUS_FOR_STORE[e.code] ?? 500, e.message);
  return new BlipError('HTTP', 500, (e as Error)?.message ?? String(e));
}

/** A store code missing here is the server's fault (500): the peer may retry later. */
const BLIP_STATUS_FOR_STORE: Partial<Record<StoreErrorCode, number>> = {
  INVALID_DOC_ID: 400,
  INVALID_DOCUMENT: 400,
  INVALID_REV_ID: 400,
  INVALID_HISTORY: 400,
  INVALID_ARGUMENT: 400,
  CONFLICT: 409,
  NOT_FOUND: 404,
};

/** Whether a peer's BLIP error status is worth retrying (timeouts, rate limits, server faults). */
export function isTransientBlipStatus(code: number): boolean {
  return code === 408 || code === 429 || code >= 500;
}

/** Anything a replication connection failed with, as the error its replicator reports. */
export function toReplicatorError(e: unknown): ReplicatorError {
  if (e instanceof ReplicatorError) return e;
  if (e instanceof BlipError) {
    return new ReplicatorError(`peer refused: ${e.message} (${e.domain} ${e.code})`, isTransientBlipStatus(e.code), e.code, { cause: e });
  }
  if (e instanceof ConnectionError) return new ReplicatorError(e.message, e.transient, e.httpStatus ?? e.code, { cause: e });
  // Unknown failures (a dropped request, a local hiccup) are retried: giving up is worse than trying again.
  return new ReplicatorError(e instanceof Error ? e.message : String(e), true, undefined, { cause: e });
}

/** How an established replication connection ended, as an error (a deliberate local close included). */
export function closeToReplicatorError(info: BlipCloseInfo): ReplicatorError {
  const classified = classifyClose(info.code, info.reason, info.local);
  if (classified) return toReplicatorError(classified);
  return new ReplicatorError(`connection closed (${info.code}${info.reason ? `: ${info.reason}` : ''})`, true, info.code);
}

/** The RPC error code for a server-side failure (see RpcErrorCode). */
export function rpcCodeFor(e: unknown): number {
  if (e instanceof AppError) return RPC_CODE_FOR_APP[e.code];
  if (isStoreError(e)) return RPC_CODE_FOR_STORE[e.code] ?? RpcErrorCode.invalid;
  if (e instanceof ReplicatorError) return e.transient ? RpcErrorCode.replicationTransient : RpcErrorCode.replication;
  return RpcErrorCode.internal;
}

const RPC_CODE_FOR_APP: Record<AppErrorCode, number> = {
  INVALID: RpcErrorCode.invalid,
  NOT_FOUND: RpcErrorCode.notFound,
  EXISTS: RpcErrorCode.exists,
  CONFLICT: RpcErrorCode.conflict,
  TOO_LARGE: RpcErrorCode.tooLarge,
};

const RPC_CODE_FOR_STORE: Partial<Record<StoreErrorCode, number>> = {
  NOT_FOUND: RpcErrorCode.notFound,
  CONFLICT: RpcErrorCode.conflict,
  NOT_IN_CONFLICT: RpcErrorCode.conflict,
  EXISTS: RpcErrorCode.exists,
  LOCKED: RpcErrorCode.locked,
  CORRUPT: RpcErrorCode.corrupt,
  IO: RpcErrorCode.io,
  FAILED_STATE: RpcErrorCode.io,
  CLOSED: RpcErrorCode.internal,
};

/** Exit codes a script can branch on. */
export const ExitCode = {
  ok: 0,
  other: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  locked: 5,
  corrupt: 6,
  io: 7,
  exists: 8,
  invalid: 9,
  /** Replication stopped for good, or finished with documents that failed. */
  replication: 10,
  /** Replication gave up on a failure that may pass (the peer was unreachable, say). */
  replicationTransient: 11,
} as const;

const EXIT_CODE_FOR_STORE: Record<StoreErrorCode, number> = {
  NOT_FOUND: ExitCode.notFound,
  CONFLICT: ExitCode.conflict,
  NOT_IN_CONFLICT: ExitCode.conflict,
  LOCKED: ExitCode.locked,
  CORRUPT: ExitCode.corrupt,
  IO: ExitCode.io,
  FAILED_STATE: ExitCode.io,
  CLOSED: ExitCode.other,
  EXISTS: ExitCode.exists,
  INVALID_DOC_ID: ExitCode.invalid,
  INVALID_DOCUMENT: ExitCode.invalid,
  INVALID_REV_ID: ExitCode.invalid,
  INVALID_HISTORY: ExitCode.invalid,
  INVALID_ARGUMENT: ExitCode.invalid,
};

/**
 * The CLI's exit code for a failed command (usage errors are the CLI's own: ExitCode.usage). The CLI
 * reaches the application through requests, so most failures arrive as an RPC error code.
 */
export function exitCodeFor(e: unknown): number {
  if (e instanceof StoreError) return EXIT_CODE_FOR_STORE[e.code];
  if (e instanceof ReplicatorError) return e.transient ? ExitCode.replicationTransient : ExitCode.replication;
  if (e instanceof AppError) return exitCodeForRpc(RPC_CODE_FOR_APP[e.code]);
  if (isResponseError(e)) return exitCodeForRpc(e.code);
  return ExitCode.other;
}

export function exitCodeForRpc(code: number): number {
  return EXIT_CODE_FOR_RPC.get(code) ?? ExitCode.other;
}

const EXIT_CODE_FOR_RPC = new Map<number, number>([
  [RpcErrorCode.notFound, ExitCode.notFound],
  [RpcErrorCode.conflict, ExitCode.conflict],
  [RpcErrorCode.exists, ExitCode.exists],
  [RpcErrorCode.invalid, ExitCode.invalid],
  [RpcErrorCode.tooLarge, ExitCode.invalid],
  [RpcErrorCode.locked, ExitCode.locked],
  [RpcErrorCode.io, ExitCode.io],
  [RpcErrorCode.corrupt, ExitCode.corrupt],
  [RpcErrorCode.replication, ExitCode.replication],
  [RpcErrorCode.replicationTransient, ExitCode.replicationTransient],
]);

/** A JSON-RPC error (vscode-jsonrpc's ResponseError, or one that crossed a socket as plain data). */
function isResponseError(e: unknown): e is { code: number; message: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'number';
}
