/**
 * Namespaced, levelled loggers for every layer of the server. One process-wide configuration:
 * a level per namespace (with a global default) and one sink. The CLI's sink writes lines to
 * stderr; the extension's server process forwards records to the extension instead.
 *
 * A call below its namespace's level costs one comparison: nothing is formatted or allocated by
 * this module, so callers may log on hot paths at debug/trace as long as the arguments they build
 * are cheap (guard expensive ones with `enabled`).
 */
import { textSink } from './log-sinks';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** A threshold: a level, or `off` for nothing at all. */
export type LogThreshold = LogLevel | 'off';

export const LOG_NAMESPACES = ['blip', 'replicator', 'listener', 'store', 'tls', 'app'] as const;
export type LogNamespace = (typeof LOG_NAMESPACES)[number];

export interface LogRecord {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly namespace: LogNamespace;
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Record<string, unknown> | undefined;
}

export type LogSink = (record: LogRecord) => void;

export interface Logger {
  readonly namespace: LogNamespace;
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  trace(message: string, fields?: Record<string, unknown>): void;
  /** Whether a record at `level` would reach the sink (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
}

/** error = 0 … trace = 4; `off` is below every level. */
const RANK: Record<LogThreshold, number> = { off: -1, error: 0, warn: 1, info: 2, debug: 3, trace: 4 };
const DEFAULT_THRESHOLD: LogThreshold = 'warn';

let globalThreshold: LogThreshold = DEFAULT_THRESHOLD;
const namespaceThresholds = new Map<LogNamespace, LogThreshold>();
/** The effective rank per namespace, recomputed on every change so a call reads one number. */
const effectiveRank: Record<LogNamespace, number> = Object.fromEntries(LOG_NAMESPACES.map((ns) => [ns, RANK[DEFAULT_THRESHOLD]])) as Record<LogNamespace, number>;

let sink: LogSink = textSink();

function recompute(): void {
  for (const ns of LOG_NAMESPACES) effectiveRank[ns] = RANK[namespaceThresholds.get(ns) ?? globalThreshold];
}

/**
 * Sets the threshold for one namespace, or (without one) the default for every namespace that has
 * no threshold of its own.
 */
export function setLogLevel(level: LogThreshold, namespace?: LogNamespace): void {
  if (namespace) namespaceThresholds.set(namespace, level);
  else globalThreshold = level;
  recompute();
}

/** Drops every per-namespace threshold and sets the default. */
export function resetLogLevels(level: LogThreshold = DEFAULT_THRESHOLD): void {
  namespaceThresholds.clear();
  globalThreshold = level;
  recompute();
}

/** The threshold in force for `namespace`. */
export function logLevelOf(namespace: LogNamespace): LogThreshold {
  return namespaceThresholds.get(namespace) ?? globalThreshold;
}

/** Replaces the sink; returns the previous one (tests put it back). */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

export function isLogThreshold(value: string): value is LogThreshold {
  return value in RANK;
}

export function isLogNamespace(value: string): value is LogNamespace {
  return (LOG_NAMESPACES as readonly string[]).includes(value);
}

/**
 * Applies a level specification: `debug`, or `listener=debug,blip=trace`, or both (`info,blip=trace`).
 * Throws on an unknown level or namespace, naming the valid ones, before changing anything. With
 * `replace`, levels the spec does not name go back to the default first.
 */
export function applyLogLevelSpec(spec: string, options: { replace?: boolean } = {}): void {
  const entries: [LogThreshold, LogNamespace | undefined][] = [];
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [left, right] = part.includes('=') ? (part.split('=', 2) as [string, string]) : [undefined, part];
    const level = right.trim().toLowerCase();
    if (!isLogThreshold(level)) throw new Error(`unknown log level ${JSON.stringify(right)} (one of ${[...LOG_LEVELS, 'off'].join(', ')})`);
    const ns = left?.trim().toLowerCase();
    if (ns !== undefined && !isLogNamespace(ns)) throw new Error(`unknown log namespace ${JSON.stringify(left)} (one of ${LOG_NAMESPACES.join(', ')})`);
    entries.push([level, ns]);
  }
  if (entries.length === 0) throw new Error('empty log level');
  if (options.replace) resetLogLevels();
  for (const [level, ns] of entries) setLogLevel(level, ns);
}

const loggers = new Map<LogNamespace, Logger>();

export function logger(namespace: LogNamespace): Logger {
  let existing = loggers.get(namespace);
  if (!existing) {
    existing = createLogger(namespace);
    loggers.set(namespace, existing);
  }
  return existing;
}

function createLogger(namespace: LogNamespace): Logger {
  const emit = (level: LogLevel, message: string, fields: Record<string, unknown> | undefined): void => {
    if (RANK[level] > effectiveRank[namespace]) return;
    try {
      sink(fields === undefined ? { time: Date.now(), namespace, level, message } : { time: Date.now(), namespace, level, message, fields });
    } catch {
      // A broken sink (a closed pipe, say) must never turn a log call into a failure of the caller.
    }
  };
  return {
    namespace,
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    trace: (m, f) => emit('trace', m, f),
    enabled: (level) => RANK[level] <= effectiveRank[namespace],
  };
}
