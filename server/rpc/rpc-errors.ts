import { ResponseError } from 'vscode-languageserver-protocol';
import { isStoreError } from '../store';
import { ReplicatorError } from '../replication/replicator-types';
import { RpcErrorCode } from './protocol';

/** Maps server-side failures to ResponseErrors with PeerSync's own codes and a readable message. */
export function toResponseError(e: unknown): ResponseError<unknown> {
  if (e instanceof ResponseError) return e;
  if (isStoreError(e)) {
    const code =
      e.code === 'NOT_FOUND'
        ? RpcErrorCode.notFound
        : e.code === 'CONFLICT'
          ? RpcErrorCode.conflict
          : e.code === 'LOCKED'
            ? RpcErrorCode.locked
            : e.code === 'CORRUPT'
              ? RpcErrorCode.corrupt
              : e.code === 'IO' || e.code === 'FAILED_STATE'
                ? RpcErrorCode.io
                : RpcErrorCode.invalid;
    return new ResponseError(code, e.message);
  }
  if (e instanceof ReplicatorError) return new ResponseError(RpcErrorCode.replication, e.message);
  return new ResponseError(RpcErrorCode.internal, e instanceof Error ? e.message : String(e));
}

export function notFound(message: string): ResponseError<unknown> {
  return new ResponseError(RpcErrorCode.notFound, message);
}
