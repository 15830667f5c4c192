/** How log records read as text lines and as JSON lines. */
import type { LogRecord } from './log';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Local wall-clock time of day with milliseconds: enough to line records up with other logs. */
export function formatTime(time: number): string {
  const d = new Date(time);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

const BARE = /^[\w.:/@+-]+$/;

function formatValue(value: unknown): string {
  if (typeof value === 'string') return BARE.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `{address: 127.0.0.1, reason: "wrong password"}`: simple strings bare, the rest as JSON. */
export function formatFields(fields: Record<string, unknown>): string {
  const parts = Object.entries(fields).map(([k, v]) => `${k}: ${formatValue(v)}`);
  return `{${parts.join(', ')}}`;
}

/** `12:00:01.234 listener info client connected {address: 127.0.0.1}` */
export function formatText(record: LogRecord): string {
  const fields = record.fields && Object.keys(record.fields).length > 0 ? ` ${formatFields(record.fields)}` : '';
  return `${formatTime(record.time)} ${record.namespace} ${record.level} ${record.message}${fields}`;
}

/** Values JSON can carry: errors become their message, bigints strings, cycles are cut. */
export function plainFields(fields: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(fields, (_key, value: unknown) => {
    if (value instanceof Error) return value.message;
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[circular]';
      seen.add(value);
    }
    return value;
  });
  return JSON.parse(text) as Record<string, unknown>;
}

/** One JSON object per line; fields kept apart so they cannot shadow the record's own keys. */
export function formatJson(record: LogRecord): string {
  return JSON.stringify({
    time: new Date(record.time).toISOString(),
    namespace: record.namespace,
    level: record.level,
    message: record.message,
    ...(record.fields ? { fields: plainFields(record.fields) } : {}),
  });
}
