import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import * as P from '../../../server/rpc/protocol';
import { startRpcServer } from '../../helpers/rpc-server';
import { tempDir } from '../../helpers/temp-dir';

test('the server process answers RunQuery, and an invalid query with its position as data', async (t) => {
  const conn = await startRpcServer(t, { dataFolder: tempDir(t) });
  await conn.sendRequest(P.CreateDatabase, { name: 'shop' });
  for (const [docId, body] of [
    ['a', { name: 'Apples', price: 12 }],
    ['b', { name: 'Pears', price: 5 }],
  ] as const) {
    await conn.sendRequest(P.SaveDocument, { db: 'shop', collection: '_default', docId, baseRevId: null, body });
  }

  const result = await conn.sendRequest(P.RunQuery, { db: 'shop', query: 'SELECT META().id, name FROM _ WHERE price >= $min ORDER BY price', parameters: { min: 1 } });
  assert.deepEqual(result.columns, ['id', 'name']);
  assert.deepEqual(result.rows, [
    { id: 'b', name: 'Pears' },
    { id: 'a', name: 'Apples' },
  ]);
  assert.equal(result.truncated, false);
  assert.equal(typeof result.elapsedMs, 'number');

  await assert.rejects(conn.sendRequest(P.RunQuery, { db: 'shop', query: 'SELECT name FROM _ ORDER price' }), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.equal(e.code, P.RpcErrorCode.invalid);
    assert.deepEqual(e.data, { line: 1, column: 26, offset: 25, length: 5 });
    assert.match(e.message, /^expected BY after ORDER at line 1, column 26 \(found "price"\)$/);
    return true;
  });
});
