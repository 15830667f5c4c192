/** What a listener's WebSocket server reports, as `listener` log records. */
import type { BlipWebSocketServer } from '../transport';
import { logger } from '../util/log';

const log = logger('listener');

/** Refusals the listener's authenticate step logs itself, with the user and the authenticator's reason. */
const AUTH_STATUSES = new Set([401, 403, 429]);

export function logServerEvents(server: BlipWebSocketServer, database: string): void {
  server.on('connection', (_conn, info) => {
    log.info('client connected', { address: info.remoteAddress, port: info.remotePort, database, ...(info.user !== undefined ? { user: info.user } : {}) });
  });
  server.on('disconnection', (_conn, info) => {
    // 1000/1001 are orderly ends; anything else is why a sync stopped and deserves to stand out.
    const orderly = info.code === 1000 || info.code === 1001;
    (orderly ? log.info : log.warn)('client closed', { address: info.remoteAddress, database, code: info.code, reason: info.reason || '(none)' });
  });
  server.on('rejected', (r) => {
    if (AUTH_STATUSES.has(r.status)) return;
    // 503 means a connection limit was reached (or the listener is stopping): capacity, not a bad client.
    const fields = { address: r.remoteAddress, status: r.status, reason: r.reason, method: r.method, path: r.path };
    if (r.status === 503) log.warn('connection refused', fields);
    else log.info('request refused', fields);
  });
  server.on('error', (err) => log.error('server error', { database, error: err }));
}
