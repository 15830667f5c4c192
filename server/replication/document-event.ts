/** One document finished replicating in one direction (successfully or not). */
export interface DocumentEnded {
  readonly direction: 'push' | 'pull';
  readonly collection: string;
  readonly docId: string;
  readonly revId: string;
  readonly deleted: boolean;
  /** Why it did not replicate; absent on success. */
  readonly error?: { readonly code: number; readonly message: string } | undefined;
  /** It was skipped on purpose (filtered out, or the peer already had it). */
  readonly skipped?: boolean | undefined;
}
