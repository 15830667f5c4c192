import { ResponseError } from 'vscode-languageserver-protocol';
import { rpcCodeFor } from '../error-mapping';
import { RpcErrorCode } from './protocol';

/** Maps server-side failures to ResponseErrors with PeerSync's own codes and a readable message. */
export function toResponseError(e: unknown): ResponseError<unknown> {
  if (e instanceof ResponseError) return e;
  return new ResponseError(rpcCodeFor(e), e instanceof Error ? e.message : String(e));
}

export function notFound(message: string): ResponseError<unknown> {
  return new ResponseError(RpcErrorCode.notFound, message);
}
