import { connectBlipWebSocket } from '../transport';
import type { ReplicatorConfig, ReplicatorConnector } from './replicator-types';
import { ReplicatorError } from './replicator-types';

/** Connects to `ws[s]://host:port/db` (its `/_blipsync` endpoint) over a real WebSocket. */
export function createWebSocketConnector(url: string, config: Pick<ReplicatorConfig, 'headers' | 'authenticator'>): ReplicatorConnector {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReplicatorError(`invalid target URL ${JSON.stringify(url)} (expected ws://host:port/db or wss://…)`, false, 'bad-url');
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new ReplicatorError(`target URL must start with ws:// or wss:// (got ${parsed.protocol})`, false, 'bad-url');
  if (parsed.pathname.replace(/\/+$/, '').split('/').filter(Boolean).length !== 1) {
    throw new ReplicatorError(`target URL must name one database, like ws://host:port/db (got ${url})`, false, 'bad-url');
  }
  const address = url.replace(/\/+$/, '');
  return {
    address,
    async connect(signal, heartbeatSeconds) {
      const headers: Record<string, string> = { ...config.headers };
      if (config.authenticator?.kind === 'basic') headers['Authorization'] = config.authenticator.header();
      const link = await connectBlipWebSocket(address, { heartbeatSeconds, signal, headers });
      return { connection: link.connection, close: (code?: number, reason?: string) => void link.close(code, reason) };
    },
  };
}
