/** The server process's logs: records go to the extension as notifications, at the level it asks for. */
import type { NotificationType } from 'vscode-languageserver-protocol';
import { applyLogLevelSpec, logger, setLogSink } from '../util/log';
import { plainFields } from '../util/log-format';
import * as P from './protocol';

/** The level when the extension names none: what its `peersync.logLevel` setting defaults to. */
export const DEFAULT_SERVER_LOG_LEVEL = 'info';

interface NotifyingConnection {
  sendNotification<Params>(type: NotificationType<Params>, params: Params): unknown;
}

/** From now on every enabled record is sent to the extension instead of stderr. */
export function forwardLogs(conn: NotifyingConnection): void {
  setLogSink((record) => {
    const { time, namespace, level, message } = record;
    const params: P.LogRecordParams = record.fields ? { time, namespace, level, message, fields: plainFields(record.fields) } : { time, namespace, level, message };
    void conn.sendNotification(P.LogRecord, params);
  });
}

/** Replaces every level with `spec`; a bad spec keeps the levels as they were and says why. */
export function setServerLogLevel(spec: string | undefined): void {
  const text = spec ?? DEFAULT_SERVER_LOG_LEVEL;
  try {
    // Replacing, so namespaces named by an earlier spec do not keep their old levels.
    applyLogLevelSpec(text, { replace: true });
  } catch (e) {
    logger('app').warn('log level not changed', { requested: text, reason: (e as Error).message });
    return;
  }
  logger('app').debug('log level set', { level: text });
}
