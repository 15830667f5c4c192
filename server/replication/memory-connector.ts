import { BlipConnection, createMemoryTransportPair } from '../blip';
import { PassivePeerSession, type PassivePeerOptions } from './passive-peer';
import type { ReplicatorConnector } from './replicator-types';
import { ReplicatorError } from './replicator-types';

export interface MemoryConnector extends ReplicatorConnector {
  /** Passive sessions opened so far (one per connection). */
  readonly sessions: PassivePeerSession[];
  /** Makes the next connection attempts fail (as if the peer were unreachable) until set back to false. */
  unreachable: boolean;
}

/**
 * A replicator target that is another database in the same process, over an in-memory transport
 * pair (frames delivered on microtasks). Used for fast protocol tests and in-process peers.
 */
export function createMemoryConnector(passive: PassivePeerOptions, address = `memory://${passive.database.name}`, onSession?: (session: PassivePeerSession) => void): MemoryConnector {
  const sessions: PassivePeerSession[] = [];
  const connector: MemoryConnector = {
    address,
    sessions,
    unreachable: false,
    connect: async (signal) => {
      if (signal.aborted) throw new ReplicatorError('aborted', true);
      if (connector.unreachable) throw new ReplicatorError(`${address} is unreachable`, true, 'ECONNREFUSED');
      const [a, b] = createMemoryTransportPair();
      const active = new BlipConnection(a, { name: 'active', compressionLevel: 0 });
      const passiveConn = new BlipConnection(b, { name: 'passive', compressionLevel: 0 });
      const session = new PassivePeerSession(passiveConn, passive);
      sessions.push(session);
      onSession?.(session);
      return { connection: active, close: (code = 1000, reason = 'closed') => active.close(code, reason) };
    },
  };
  return connector;
}
