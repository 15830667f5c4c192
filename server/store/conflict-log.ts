import type { DurableSqlite } from './durable-sqlite';
import { StoreError } from './errors';
import type { JsonObject } from './types';

/** A branch as it was when its conflict was resolved; the body is kept so nothing discarded is lost for good. */
export interface RecordedRevision {
  readonly revId: string;
  readonly deleted: boolean;
  readonly body: JsonObject | null;
}

/** How a conflict ended, whoever ended it: a replicator's resolver or a person. */
export interface ResolutionRecord {
  readonly id: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly collection: string;
  readonly docId: string;
  /** The resolver's name (`default`, `localWins`, `merge(remote)`, …), or `manual` for a person's choice. */
  readonly resolver: string;
  /** Every branch that competed: the current revision first. */
  readonly competing: readonly RecordedRevision[];
  readonly outcome: 'kept' | 'merged' | 'deleted';
  /** The revision the document has after the resolution. */
  readonly resultRevId: string;
  /** Branches whose content is no longer current (restorable as a new revision). */
  readonly discarded: readonly RecordedRevision[];
}

/** Records kept per database; older ones are dropped. */
export const RESOLUTIONS_KEPT = 1000;

/**
 * Every conflict resolution, automatic or not, in the database itself (journaled like any write),
 * so a resolution is never silent: the losing bodies can be looked at and brought back.
 */
export class ConflictLog {
  private ready = false;

  constructor(private readonly engine: DurableSqlite) {}

  /** Appends a record (call inside the resolution's transaction, so both land or neither). */
  append(record: Omit<ResolutionRecord, 'id'>): ResolutionRecord {
    this.ensureTable();
    this.engine.run('INSERT INTO conflict_resolutions (time, collection, doc, record) VALUES (?, ?, ?, ?)', [record.time, record.collection, record.docId, JSON.stringify(record)]);
    const idValue = this.engine.one('SELECT last_insert_rowid()')?.[0];
    const id = typeof idValue === 'number' ? idValue : Number(idValue);
    this.engine.run('DELETE FROM conflict_resolutions WHERE id <= ?', [id - RESOLUTIONS_KEPT]);
    return { id, ...record };
  }

  /** Newest first; `before` pages back from a record ID. */
  list(options: { limit?: number; before?: number; collection?: string } = {}): ResolutionRecord[] {
    if (!this.exists()) return [];
    const rows = this.engine.all('SELECT id, record FROM conflict_resolutions WHERE id < ? AND (? IS NULL OR collection = ?) ORDER BY id DESC LIMIT ?', [
      options.before ?? Number.MAX_SAFE_INTEGER,
      options.collection ?? null,
      options.collection ?? null,
      Math.min(Math.max(1, options.limit ?? 100), RESOLUTIONS_KEPT),
    ]);
    return rows.map(([id, json]) => decode(id, json));
  }

  get(id: number): ResolutionRecord | undefined {
    if (!this.exists()) return undefined;
    const row = this.engine.one('SELECT id, record FROM conflict_resolutions WHERE id = ?', [id]);
    return row ? decode(row[0], row[1]) : undefined;
  }

  private exists(): boolean {
    if (!this.ready) this.ready = this.engine.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conflict_resolutions'") !== undefined;
    return this.ready;
  }

  private ensureTable(): void {
    if (this.exists()) return;
    // Databases created before resolutions were recorded get the table on their first one.
    this.engine.run('CREATE TABLE IF NOT EXISTS conflict_resolutions (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, collection TEXT NOT NULL, doc TEXT NOT NULL, record TEXT NOT NULL)');
    this.engine.onRollback(() => (this.ready = false));
    this.ready = true;
  }
}

function decode(id: unknown, json: unknown): ResolutionRecord {
  if (typeof id !== 'number' || typeof json !== 'string') throw new StoreError('CORRUPT', 'a stored conflict resolution record is damaged');
  try {
    return { ...(JSON.parse(json) as Omit<ResolutionRecord, 'id'>), id };
  } catch {
    throw new StoreError('CORRUPT', `stored conflict resolution ${id} is not valid JSON`);
  }
}
