/** The document store: public API used by the replicator, the listener, the CLI and the RPC server. */
export { Database, DEFAULT_COLLECTION, DEFAULT_SCOPE } from './database';
export type { DatabaseInfo, DatabaseOptions, LocalDocument } from './database';
export { Collection } from './collection';
export type { ChangesOptions, ConcurrencyControl, DocumentInput, ForeignRevision, GetOptions, InsertOptions, InsertOutcome, RevisionToSend, RevsDiffEntry, SaveConflictHandler } from './collection';
export { builtInResolvers, defaultResolver, localWins, manualResolver, mergeResolver, remoteWins, toResolver } from './conflict-resolver';
export type { BuiltInResolverName, Conflict, ConflictResolver, ConflictResolverFn, ConflictRevision, Resolution } from './conflict-resolver';
export type { RecordedRevision, ResolutionRecord } from './conflict-log';
export { ConflictLog, RESOLUTIONS_KEPT } from './conflict-log';
export { StoreError, isStoreError } from './errors';
export type { StoreErrorCode } from './errors';
export { compareRevIds, computeRevId, parseRevId, isRevId } from './rev-id';
export { canonicalJson } from './canonical-json';
export { MAX_DOC_ID_BYTES, asDocId, asValidDocId } from './doc-id';
export { MAX_NESTING } from './body-limits';
export { ValidBody } from './document-body';
export type { BlobRef, BlobWriter } from './blob-store';
export type { Change, DocId, Document, JsonObject, JsonValue, RevId, RevisionInfo, Sequence } from './types';
