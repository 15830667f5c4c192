import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppError } from '../../../server/app/app-error';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import { RpcErrorCode } from '../../../server/rpc/protocol';
import { toResponseError } from '../../../server/rpc/rpc-errors';
import { tempDir } from '../../helpers/temp-dir';

test('RunQuery: rows with timing, and an invalid query as INVALID carrying its position', async (t) => {
  const app = new PeerSyncApp({ dataFolder: tempDir(t) });
  t.after(() => app.shutdown());
  const db = await app.databases.open('q');
  db.defaultCollection.save({ id: 'a', body: { n: 1 } });

  const ok = app.queries.run({ db: 'q', query: 'SELECT n FROM _ WHERE n = $n', parameters: { n: 1 } });
  assert.deepEqual([ok.columns, ok.rows, ok.truncated], [['n'], [{ n: 1 }], false]);
  assert.ok(ok.elapsedMs >= 0);

  let caught: unknown;
  try {
    app.queries.run({ db: 'q', query: 'SELECT n\nFROM _ WHER n = 1' });
  } catch (e) {
    caught = e;
  }
  assert.ok(isAppError(caught, 'INVALID'));
  assert.deepEqual(caught.data, { line: 2, column: 8, offset: 16, length: 4 });
  const wire = toResponseError(caught);
  assert.equal(wire.code, RpcErrorCode.invalid);
  assert.deepEqual(wire.data, { line: 2, column: 8, offset: 16, length: 4 });
  assert.match(wire.message, /at line 2, column 8 \(found "WHER"\)/);

  assert.throws(
    () => app.queries.run({ db: 'nope', query: 'SELECT * FROM _' }),
    (e: unknown) => isAppError(e, 'NOT_FOUND'),
  );
});
