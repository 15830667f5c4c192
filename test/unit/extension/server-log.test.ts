import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverLogLine, writeServerLog } from '../../../extension/server-log';
import type { LogRecordParams } from '../../../server/rpc/protocol';

test('server records are written at their own level, with namespace and fields', () => {
  const written: string[] = [];
  const at = (level: string) => (line: string) => void written.push(`${level}: ${line}`);
  const channel = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
  const record = (level: LogRecordParams['level'], fields?: Record<string, unknown>): LogRecordParams => ({
    time: 0,
    namespace: 'listener',
    level,
    message: 'client closed',
    ...(fields ? { fields } : {}),
  });
  for (const level of ['error', 'warn', 'info', 'debug', 'trace'] as const) writeServerLog(channel, record(level));
  writeServerLog(channel, record('warn', { address: '127.0.0.1', reason: 'idle for 60 s', code: 1001 }));
  assert.deepEqual(written, [
    'error: [listener] client closed',
    'warn: [listener] client closed',
    'info: [listener] client closed',
    'debug: [listener] client closed',
    'trace: [listener] client closed',
    'warn: [listener] client closed {address: 127.0.0.1, reason: "idle for 60 s", code: 1001}',
  ]);
  assert.equal(serverLogLine({ time: 0, namespace: 'store', level: 'info', message: 'opened', fields: {} }), '[store] opened');
});
