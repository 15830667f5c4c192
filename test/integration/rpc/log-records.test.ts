import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import * as P from '../../../server/rpc/protocol';
import { startRpcServer } from '../../helpers/rpc-server';
import { tempDir } from '../../helpers/temp-dir';
import { waitForCondition } from '../../helpers/wait';

/** dist/server.js over stdio, initialized with `logLevel`; every log record it forwards is collected. */
async function startServer(
  t: TestContext,
  logLevel: string,
): Promise<{ conn: MessageConnection; records: P.LogRecordParams[]; waitFor: (pred: (r: P.LogRecordParams) => boolean, what: string) => Promise<P.LogRecordParams> }> {
  const records: P.LogRecordParams[] = [];
  const subscribers = new Set<() => void>();
  const conn = await startRpcServer(t, { dataFolder: tempDir(t), logLevel }, (c) =>
    c.onNotification(P.LogRecord.method, (r: P.LogRecordParams) => {
      records.push(r);
      subscribers.forEach((s) => s());
    }),
  );
  const waitFor = async (pred: (r: P.LogRecordParams) => boolean, what: string): Promise<P.LogRecordParams> => {
    await waitForCondition(
      () => records.some(pred),
      (notify) => {
        subscribers.add(notify);
        return () => subscribers.delete(notify);
      },
      30_000,
      what,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; records:\n${records.map((r) => JSON.stringify(r)).join('\n')}`);
    });
    return records.find(pred)!;
  };
  return { conn, records, waitFor };
}

const opened =
  (name: string) =>
  (r: P.LogRecordParams): boolean =>
    r.namespace === 'store' && r.message === 'opened' && String(r.fields?.path).endsWith(name);

test('the server forwards log records at the level the extension sets', async (t) => {
  const { conn, records, waitFor } = await startServer(t, 'info');

  await conn.sendRequest(P.CreateDatabase.method, { name: 'notes' });
  const record = await waitFor(opened('notes'), 'the store record for notes');
  assert.equal(record.level, 'info');
  assert.equal(typeof record.time, 'number');
  assert.equal(record.fields?.snapshot, 'none');
  assert.equal(record.fields?.journalRecordsReplayed, 0);

  // Messages on the connection stay in order: by the time the reply arrives, any record the
  // request logged has arrived before it.
  await conn.sendNotification(P.SetLogLevel.method, { level: 'warn' });
  await conn.sendRequest(P.CreateDatabase.method, { name: 'quiet' });
  assert.equal(records.filter(opened('quiet')).length, 0, 'nothing below warn once the level is warn');

  await conn.sendNotification(P.SetLogLevel.method, { level: 'warn,tls=debug,listener=info' });
  await conn.sendRequest(P.StartListener.method, { db: 'notes', port: 0, networkInterface: '127.0.0.1' });
  const saved = await waitFor((r) => r.namespace === 'tls' && r.message === 'identity saved', 'the tls debug record');
  assert.equal(saved.level, 'debug');
  await waitFor((r) => r.namespace === 'listener' && r.message === 'listening' && r.level === 'info', 'the listener record');
  assert.equal(records.filter((r) => r.namespace === 'tls' && r.level === 'trace').length, 0);

  await conn.sendNotification(P.SetLogLevel.method, { level: 'noisy' });
  const refused = await waitFor((r) => r.namespace === 'app' && r.message === 'log level not changed', 'a warning about the bad level');
  assert.equal(refused.level, 'warn');
  assert.match(String(refused.fields?.reason), /unknown log level "noisy"/);
});
