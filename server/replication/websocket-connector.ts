import type { ReplicatorConfig, ReplicatorConnector } from './replicator-types';
import { ReplicatorError } from './replicator-types';

/** Connects to `ws[s]://host:port/db` (its `/_blipsync` endpoint). */
export function createWebSocketConnector(url: string, _config: ReplicatorConfig): ReplicatorConnector {
  void _config;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReplicatorError(`invalid target URL ${JSON.stringify(url)} (expected ws://host:port/db or wss://…)`, false, 'bad-url');
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new ReplicatorError(`target URL must start with ws:// or wss:// (got ${parsed.protocol})`, false, 'bad-url');
  return {
    address: url.replace(/\/+$/, ''),
    connect: () => Promise.reject(new ReplicatorError('WebSocket transport not available yet', false)),
  };
}
