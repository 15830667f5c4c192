/** Machine-readable reasons a store operation can fail; front ends map them to exit codes and RPC errors. */
export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_DOC_ID'
  | 'INVALID_DOCUMENT'
  | 'INVALID_REV_ID'
  | 'INVALID_HISTORY'
  | 'NOT_IN_CONFLICT'
  | 'CORRUPT'
  | 'LOCKED'
  | 'IO'
  | 'CLOSED'
  | 'FAILED_STATE'
  | 'EXISTS'
  | 'INVALID_ARGUMENT';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
