import type { DurableSqlite } from './durable-sqlite';

/**
 * Bits of a document row's `flags` column, describing its current revision. Kept in the row so
 * listings and the changes feed can filter without decoding revision trees.
 */
export const F_DELETED = 1;
export const F_CONFLICTED = 2;
export const F_HAS_BLOBS = 4;

/** Each collection has its own table, so its sequence space and indexes stay separate. */
export function docsTable(collectionId: number): string {
  return `docs_${collectionId}`;
}

/** Creates a collection's table and its conflict index (idempotent). */
export function createCollectionSchema(engine: DurableSqlite, collectionId: number): void {
  const table = docsTable(collectionId);
  engine.run(`CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, rev TEXT NOT NULL, flags INTEGER NOT NULL, body TEXT NOT NULL, tree TEXT)`);
  // Partial: conflicts are rare, so listing them should not cost an index over every document.
  engine.run(`CREATE INDEX IF NOT EXISTS ${table}_conflicts ON ${table}(id) WHERE (flags & ${F_CONFLICTED}) != 0`);
}

/** Drops a collection's table and what peers were recorded to have of its documents. */
export function dropCollectionSchema(engine: DurableSqlite, collectionId: number): void {
  engine.run(`DROP TABLE IF EXISTS ${docsTable(collectionId)}`);
  engine.run('DELETE FROM remote_revs WHERE coll = ?', [collectionId]);
}

/** SQL for one collection's table, built once per collection so prepared statements are reused. */
export function collectionStatements(collectionId: number) {
  const table = docsTable(collectionId);
  // Bodies are stored as UTF-8 bytes (bound natively on write) and read back as text: sql.js decodes
  // text natively but copies blobs out byte by byte.
  const body = 'CAST(body AS TEXT)';
  const cols = `seq, id, rev, flags, ${body}`;
  return {
    byId: `SELECT seq, rev, flags, ${body}, tree FROM ${table} WHERE id = ?`,
    revById: `SELECT rev, flags FROM ${table} WHERE id = ?`,
    insert: `INSERT INTO ${table} (seq, id, rev, flags, body, tree) VALUES (?, ?, ?, ?, ?, ?)`,
    update: `UPDATE ${table} SET seq = ?, id = ?, rev = ?, flags = ?, body = ?, tree = ? WHERE seq = ?`,
    deleteBySeq: `DELETE FROM ${table} WHERE seq = ?`,
    countAll: `SELECT count(*) FROM ${table}`,
    countLive: `SELECT count(*) FROM ${table} WHERE (flags & ${F_DELETED}) = 0`,
    changes: `SELECT seq, id, rev, flags, octet_length(body) FROM ${table} WHERE seq > ? ORDER BY seq LIMIT ?`,
    changesLive: `SELECT seq, id, rev, flags, octet_length(body) FROM ${table} WHERE seq > ? AND (flags & ${F_DELETED}) = 0 ORDER BY seq LIMIT ?`,
    conflicts: `SELECT id, rev FROM ${table} WHERE (flags & ${F_CONFLICTED}) != 0 AND id > ? ORDER BY id LIMIT ?`,
    // `id >= prefix` lets the primary key find the first candidate; the substr test ends the range.
    allDocs: `SELECT ${cols} FROM ${table} WHERE id > ?1 AND id >= ?2 AND substr(id, 1, length(?2)) = ?2 AND (flags & ${F_DELETED}) = 0 ORDER BY id LIMIT ?3`,
    /** Live documents with the body as JSON text: what a query (server/query) selects from. */
    liveForQuery: `SELECT id, rev, seq, ${body} AS body FROM ${table} WHERE (flags & ${F_DELETED}) = 0`,
    allDocsWithDeleted: `SELECT ${cols} FROM ${table} WHERE id > ?1 AND id >= ?2 AND substr(id, 1, length(?2)) = ?2 ORDER BY id LIMIT ?3`,
    /** Trees without bodies, for comparing revisions (`placeholders` = one `?` per ID). */
    treesByIds: (placeholders: string) => `SELECT id, seq, rev, flags, tree FROM ${table} WHERE id IN (${placeholders})`,
    /** The changes feed restricted to some documents. */
    changesOfIds: (placeholders: string, activeOnly: boolean) =>
      `SELECT seq, id, rev, flags, octet_length(body) FROM ${table} WHERE seq > ? AND id IN (${placeholders})${activeOnly ? ` AND (flags & ${F_DELETED}) = 0` : ''} ORDER BY seq LIMIT ?`,
  };
}

export type CollectionStatements = ReturnType<typeof collectionStatements>;
