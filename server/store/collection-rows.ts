import type { SqlValue } from 'sql.js';
import { F_DELETED } from './collection-schema';
import { asDocId } from './doc-id';
import { isStoreError, StoreError } from './errors';
import { asRevId } from './rev-id';
import type { Change, DocId, RevId, Sequence } from './types';

/**
 * The one place where rows read from SQLite become typed values: a collection's documents, what
 * peers have of them, and the database's own small tables (collections, local documents,
 * remotes). sql.js hands back untyped columns; checking them here means a damaged or foreign
 * database is reported as CORRUPT where it is read, instead of surfacing later as a wrong type
 * deep in the replicator.
 */

/** A document's row: its current revision, and its revision tree unless that is the revision alone. */
export interface DocRow {
  readonly seq: Sequence;
  readonly rev: RevId;
  readonly flags: number;
  /** The current revision's body as JSON text ('' where the query did not read it). */
  readonly body: string;
  /** null = the tree is just the current revision (most documents: stored without a tree). */
  readonly tree: string | null;
}

/** `SELECT seq, rev, flags, CAST(body AS TEXT), tree` */
export function decodeDocRow(row: readonly SqlValue[]): DocRow {
  return { seq: sequence(row, 0, 'seq'), rev: revId(row, 1, 'rev'), flags: flags(row, 2), body: text(row, 3, 'body'), tree: textOrNull(row, 4, 'tree') };
}

/** `SELECT id, seq, rev, flags, tree`: a row without its body, for work on revision trees only. */
export function decodeTreeRow(row: readonly SqlValue[]): { id: DocId; row: DocRow } {
  return { id: docId(row, 0, 'id'), row: { seq: sequence(row, 1, 'seq'), rev: revId(row, 2, 'rev'), flags: flags(row, 3), body: '', tree: textOrNull(row, 4, 'tree') } };
}

/** `SELECT seq, id, rev, flags, CAST(body AS TEXT)`: a listed document. */
export function decodeListedRow(row: readonly SqlValue[]): { id: DocId; row: DocRow } {
  return { id: docId(row, 1, 'id'), row: { seq: sequence(row, 0, 'seq'), rev: revId(row, 2, 'rev'), flags: flags(row, 3), body: text(row, 4, 'body'), tree: null } };
}

/** `SELECT rev, flags` */
export function decodeRevisionRow(row: readonly SqlValue[]): { revId: RevId; deleted: boolean } {
  return { revId: revId(row, 0, 'rev'), deleted: (flags(row, 1) & F_DELETED) !== 0 };
}

/** `SELECT id, rev` of a document. */
export function decodeDocRevRow(row: readonly SqlValue[]): { docId: DocId; revId: RevId } {
  return { docId: docId(row, 0, 'id'), revId: revId(row, 1, 'rev') };
}

/**
 * `SELECT doc, rev FROM remote_revs`. Both are kept as the replicator recorded them, unchecked on
 * the way in, so only their type is checked on the way out: the replicator compares the revision
 * with its own IDs and never parses it.
 */
export function decodeRemoteRevRow(row: readonly SqlValue[]): { doc: string; rev: RevId } {
  return { doc: text(row, 0, 'remote_revs.doc'), rev: recordedRevId(text(row, 1, 'remote_revs.rev')) };
}

/** `SELECT seq, id, rev, flags, octet_length(body)`: an entry of the changes feed. */
export function decodeChangeRow(row: readonly SqlValue[]): Change {
  return {
    sequence: sequence(row, 0, 'seq'),
    docId: docId(row, 1, 'id'),
    revId: revId(row, 2, 'rev'),
    deleted: (flags(row, 3) & F_DELETED) !== 0,
    bodySize: count(row, 4, 'body size'),
  };
}

/** `SELECT count(*)`; a query that found no row counts nothing. */
export function decodeCount(row: readonly SqlValue[] | undefined): number {
  return row === undefined ? 0 : count(row, 0, 'count');
}

/** `SELECT id, scope, name, last_seq FROM collections` */
export function decodeCollectionRow(row: readonly SqlValue[]): { id: number; scope: string; name: string; lastSeq: Sequence } {
  return { id: count(row, 0, 'collection id'), scope: text(row, 1, 'scope'), name: text(row, 2, 'name'), lastSeq: toSequence(count(row, 3, 'last_seq')) };
}

/** `SELECT rev, body FROM local_docs`: a local document's revision counter and its body. */
export function decodeLocalDocRow(row: readonly SqlValue[]): { rev: number; body: string } {
  return { rev: count(row, 0, 'local_docs.rev'), body: text(row, 1, 'local_docs.body') };
}

/** `SELECT rev FROM local_docs` */
export function decodeLocalRevRow(row: readonly SqlValue[]): number {
  return count(row, 0, 'local_docs.rev');
}

/** A row's numeric ID (`SELECT id`, or `SELECT coalesce(max(id), 0) + 1` for the next one). */
export function decodeIdRow(row: readonly SqlValue[] | undefined, name: string): number {
  if (row === undefined) throw corrupt(name, 'missing', 'a row');
  return count(row, 0, name);
}

/** Brands a sequence number; callers pass a counter they own or a column checked above. */
export function toSequence(n: number): Sequence {
  return n as Sequence;
}

function column(row: readonly SqlValue[], index: number, name: string): SqlValue {
  const value = row[index];
  if (value === undefined) throw corrupt(name, 'missing', 'a value');
  return value;
}

function text(row: readonly SqlValue[], index: number, name: string): string {
  const value = column(row, index, name);
  if (typeof value !== 'string') throw corrupt(name, describe(value), 'text');
  return value;
}

function textOrNull(row: readonly SqlValue[], index: number, name: string): string | null {
  const value = column(row, index, name);
  if (value !== null && typeof value !== 'string') throw corrupt(name, describe(value), 'text or NULL');
  return value;
}

/** A non-negative whole number (counts, sizes, IDs). */
function count(row: readonly SqlValue[], index: number, name: string): number {
  const value = column(row, index, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw corrupt(name, describe(value), 'a non-negative integer');
  return value;
}

function flags(row: readonly SqlValue[], index: number): number {
  return count(row, index, 'flags');
}

/** Sequences start at 1: 0 means "before every change" and is never stored. */
function sequence(row: readonly SqlValue[], index: number, name: string): Sequence {
  const n = count(row, index, name);
  if (n === 0) throw corrupt(name, 'integer 0', 'a sequence (1 or more)');
  return toSequence(n);
}

function recordedRevId(value: string): RevId {
  return value as RevId;
}

function docId(row: readonly SqlValue[], index: number, name: string): DocId {
  const value = text(row, index, name);
  return validated(name, () => asDocId(value));
}

function revId(row: readonly SqlValue[], index: number, name: string): RevId {
  const value = text(row, index, name);
  return validated(name, () => asRevId(value));
}

/** A stored ID that fails the rules it was written under means damage, not a caller's mistake. */
function validated<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!isStoreError(e)) throw e;
    throw new StoreError('CORRUPT', `stored ${name} is not valid: ${e.message}`, { cause: e });
  }
}

function corrupt(name: string, found: string, expected: string): StoreError {
  return new StoreError('CORRUPT', `stored ${name} is ${found}, expected ${expected}`);
}

function describe(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `real ${value}`;
  if (typeof value === 'string') return `text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `a blob of ${value.length} bytes`;
}
