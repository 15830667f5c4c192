import { ResponseError } from 'vscode-languageserver-protocol';
import { AppError } from '../app/app-error';
import { rpcCodeFor } from '../error-mapping';

/** Maps server-side failures to ResponseErrors with PeerSync's own codes, a readable message and any structured detail. */
export function toResponseError(e: unknown): ResponseError<unknown> {
  if (e instanceof ResponseError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return e instanceof AppError && e.data !== undefined ? new ResponseError(rpcCodeFor(e), message, e.data) : new ResponseError(rpcCodeFor(e), message);
}
