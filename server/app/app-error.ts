/**
 * Failures of a request to the application layer that the caller can fix (bad parameters, a name
 * that does not exist or already does). Front ends map the code, never the message: the RPC server
 * to an RpcErrorCode, the CLI to an exit code (see error-mapping.ts).
 */
export type AppErrorCode = 'INVALID' | 'NOT_FOUND' | 'EXISTS' | 'CONFLICT' | 'TOO_LARGE';

export class AppError<Data = unknown> extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** Structured detail a client can act on (e.g. the current revision of a stale save). */
    readonly data?: Data,
  ) {
    super(message);
  }
}

export function invalid(message: string): AppError {
  return new AppError('INVALID', message);
}

export function notFound(message: string): AppError {
  return new AppError('NOT_FOUND', message);
}

export function isAppError(e: unknown, code?: AppErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}
