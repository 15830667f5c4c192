/** Value types shared by the store, the replicator and the front ends. */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A document ID: see doc-id.ts for the rules (Couchbase Lite's). */
export type DocId = Brand<string, 'DocId'>;
/** A revision ID: `<generation>-<digest>`. */
export type RevId = Brand<string, 'RevId'>;
/** A per-collection change sequence (monotonic, never reused). */
export type Sequence = Brand<number, 'Sequence'>;

/** The current (or a requested) revision of a document. */
export interface Document {
  readonly id: DocId;
  readonly revId: RevId;
  readonly sequence: Sequence;
  readonly deleted: boolean;
  /** True when the document has more than one open branch (see Collection.conflicts()). */
  readonly conflicted: boolean;
  /** The body; undefined only for a non-leaf revision whose body has been dropped. */
  readonly body: JsonObject | undefined;
}

/** One entry of the changes feed: a document at its latest sequence. */
export interface Change {
  readonly sequence: Sequence;
  readonly docId: DocId;
  readonly revId: RevId;
  readonly deleted: boolean;
  /** Size in bytes of the current body's JSON. */
  readonly bodySize: number;
}

/** A node of a document's revision tree as shown to callers. */
export interface RevisionInfo {
  readonly revId: RevId;
  readonly parentRevId: RevId | null;
  readonly deleted: boolean;
  readonly leaf: boolean;
  /** Inserted by replication as a branch conflicting with the local winner, and not yet resolved. */
  readonly conflict: boolean;
  readonly winner: boolean;
  readonly sequence: Sequence;
  readonly hasBody: boolean;
}
