import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { applyLogLevelSpec, logger, logLevelOf, resetLogLevels, setLogLevel, setLogSink, type LogRecord, type LogSink } from '../../../server/util/log';
import { formatFields, formatJson, formatText } from '../../../server/util/log-format';
import { textSink } from '../../../server/util/log-sinks';

setLogSink(() => undefined);
afterEach(() => {
  resetLogLevels();
  setLogSink(() => undefined);
});

function collect(): LogRecord[] {
  const records: LogRecord[] = [];
  setLogSink((r) => void records.push(r));
  return records;
}

test('nothing below warn reaches the sink by default', () => {
  const records = collect();
  const log = logger('listener');
  log.error('e');
  log.warn('w');
  log.info('i');
  log.debug('d');
  log.trace('t');
  assert.deepEqual(
    records.map((r) => r.level),
    ['error', 'warn'],
  );
  assert.equal(records[0]!.namespace, 'listener');
});

test('a global level applies to every namespace; a namespace level overrides it', () => {
  const records = collect();
  setLogLevel('info');
  setLogLevel('trace', 'blip');
  setLogLevel('off', 'store');
  logger('listener').debug('hidden');
  logger('listener').info('shown');
  logger('blip').trace('frame');
  logger('store').error('silenced');
  assert.deepEqual(
    records.map((r) => `${r.namespace} ${r.message}`),
    ['listener shown', 'blip frame'],
  );
  assert.equal(logLevelOf('tls'), 'info');
  assert.equal(logger('blip').enabled('trace'), true);
  assert.equal(logger('listener').enabled('debug'), false);
});

test('the same logger object per namespace', () => {
  assert.equal(logger('tls'), logger('tls'));
});

test('fields travel with the record', () => {
  const records = collect();
  logger('app').warn('low disk', { free: 12, path: '/tmp/x' });
  assert.deepEqual(records[0]!.fields, { free: 12, path: '/tmp/x' });
});

test('a disabled level never calls the formatter', () => {
  let formatted = 0;
  const lines: string[] = [];
  setLogSink(
    textSink(
      (l) => void lines.push(l),
      (r) => {
        formatted++;
        return formatText(r);
      },
    ),
  );
  setLogLevel('info');
  const log = logger('blip');
  for (let i = 0; i < 1000; i++) log.trace('frame', { n: i });
  log.debug('not this either');
  assert.equal(formatted, 0);
  log.info('this one');
  assert.equal(formatted, 1);
  assert.equal(lines.length, 1);
});

test('a throwing sink does not fail the caller', () => {
  const failing: LogSink = () => {
    throw new Error('pipe closed');
  };
  setLogSink(failing);
  assert.doesNotThrow(() => logger('app').error('still fine'));
});

test('level specifications: a default, namespaces, or both; unknown names are refused', () => {
  applyLogLevelSpec('info,blip=trace, listener=debug');
  assert.equal(logLevelOf('store'), 'info');
  assert.equal(logLevelOf('blip'), 'trace');
  assert.equal(logLevelOf('listener'), 'debug');
  assert.throws(() => applyLogLevelSpec('loud'), /unknown log level "loud"/);
  assert.throws(() => applyLogLevelSpec('network=debug'), /unknown log namespace "network"/);
  assert.throws(() => applyLogLevelSpec(' , '), /empty/);
});

test('text lines: time of day, namespace, level, message, fields', () => {
  const line = formatText({
    time: new Date(2026, 0, 2, 12, 0, 1, 234).getTime(),
    namespace: 'listener',
    level: 'info',
    message: 'client connected',
    fields: { address: '127.0.0.1', reason: 'wrong password' },
  });
  assert.equal(line, '12:00:01.234 listener info client connected {address: 127.0.0.1, reason: "wrong password"}');
  assert.equal(formatFields({ err: new Error('boom'), n: 3n, o: { a: 1 } }), '{err: "boom", n: 3, o: {"a":1}}');
});

test('JSON lines keep fields apart and make them plain', () => {
  const cyclic: Record<string, unknown> = { name: 'x' };
  cyclic.self = cyclic;
  const parsed = JSON.parse(formatJson({ time: 0, namespace: 'store', level: 'warn', message: 'snapshot failed', fields: { error: new Error('ENOSPC'), cyclic } })) as Record<string, unknown>;
  assert.deepEqual(parsed, { time: '1970-01-01T00:00:00.000Z', namespace: 'store', level: 'warn', message: 'snapshot failed', fields: { error: 'ENOSPC', cyclic: { name: 'x', self: '[circular]' } } });
});
