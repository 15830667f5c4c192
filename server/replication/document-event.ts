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

/** How a document's replication ended, as each direction reports it. */
export interface DocumentOutcome {
  readonly skipped?: boolean;
  readonly error?: { code: number; message: string };
}

/** The event for a revision that finished; success, skip and error are told apart by their fields' presence. */
export function documentEnded(
  direction: DocumentEnded['direction'],
  collection: string,
  rev: { readonly docId: string; readonly revId: string; readonly deleted: boolean },
  outcome: DocumentOutcome,
): DocumentEnded {
  return {
    direction,
    collection,
    docId: rev.docId,
    revId: rev.revId,
    deleted: rev.deleted,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.skipped ? { skipped: true } : {}),
  };
}
