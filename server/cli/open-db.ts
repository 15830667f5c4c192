import { resolve } from 'node:path';

export const DEFAULT_DB_PATH = '.peersync/inventory';

export function dbPathFrom(values: Record<string, unknown>): string {
  const given = typeof values.db === 'string' ? values.db : process.env.PEERSYNC_DB;
  return resolve(given && given.length > 0 ? given : DEFAULT_DB_PATH);
}
