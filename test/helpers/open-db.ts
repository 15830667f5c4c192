import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Database, type DatabaseOptions } from '../../server/store';
import { tempDir } from './temp-dir';

/** Opens a new database in a temp dir; closed (if still open) and removed after the test. */
export async function openTempDb(t: TestContext, options: DatabaseOptions = {}): Promise<{ db: Database; path: string }> {
  const path = join(tempDir(t), 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0, ...options });
  t.after(() => {
    if (!db.isClosed) db.close();
  });
  return { db, path };
}
