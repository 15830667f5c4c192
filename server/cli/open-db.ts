import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Database, StoreError } from '../store';

export const DEFAULT_DB_PATH = '.peersync/inventory';

export function dbPathFrom(values: Record<string, unknown>): string {
  const given = typeof values.db === 'string' ? values.db : process.env.PEERSYNC_DB;
  return resolve(given && given.length > 0 ? given : DEFAULT_DB_PATH);
}

/** Opens an existing database (commands other than `db create` never create one by accident). */
export async function openExisting(values: Record<string, unknown>): Promise<Database> {
  const path = dbPathFrom(values);
  if (!existsSync(path)) throw new StoreError('NOT_FOUND', `no database at ${path} (create it with: peersync db create --db ${path})`);
  return Database.open(path, { create: false });
}

/** Runs fn with an open database and always closes it, even when fn fails. */
export async function withDb<T>(values: Record<string, unknown>, fn: (db: Database) => Promise<T> | T, options: { create?: boolean } = {}): Promise<T> {
  const db = options.create ? await Database.open(dbPathFrom(values)) : await openExisting(values);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
