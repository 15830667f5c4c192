/** Where a log line comes from; each part of the server logs under its own namespace. */
export type LogNamespace = 'blip' | 'replicator' | 'listener' | 'store' | 'tls' | 'app';

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  trace(message: string, fields?: Record<string, unknown>): void;
}

const silent: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
};

/** A logger for one namespace. Silent until a sink is configured. */
export function logger(_namespace: LogNamespace): Logger {
  return silent;
}
