import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Database, type DatabaseOptions } from '../../server/store';

/** Opens a new database in a temp dir; after the test it is closed (if still open), then removed. */
export async function openTempDb(t: TestContext, options: DatabaseOptions = {}): Promise<{ db: Database; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'peersync-test-'));
  const path = join(dir, 'db');
  const db = await Database.open(path, { snapshotIntervalMs: 0, ...options });
  t.after(() => {
    if (!db.isClosed) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, path };
}
