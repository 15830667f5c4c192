import type { TestContext } from 'node:test';
import { BlipConnection, createMemoryTransportPair } from '../../server/blip';
import { PassivePeerSession } from '../../server/replication/passive-peer';
import { Profile, Prop } from '../../server/replication/protocol';
import type { Database } from '../../server/store';

/** A raw BLIP client connected in memory to a listener session on `db`, for sending hand-made messages. */
export function connectRawClient(t: TestContext, db: Database): BlipConnection {
  const [a, b] = createMemoryTransportPair();
  const client = new BlipConnection(a, { name: 'client', compressionLevel: 0 });
  const server = new BlipConnection(b, { name: 'listener', compressionLevel: 0 });
  new PassivePeerSession(server, { database: db });
  t.after(() => client.close(1000, 'done'));
  return client;
}

/** Pushes one revision as a `rev` message; the body is sent exactly as given. */
export function pushRev(client: BlipConnection, docId: string, revId: string, body: string | Uint8Array, options: { history?: string[]; deleted?: boolean } = {}) {
  const properties: Record<string, string> = { [Prop.id]: docId, [Prop.rev]: revId, [Prop.sequence]: '1' };
  if (options.history?.length) properties[Prop.history] = options.history.join(',');
  if (options.deleted) properties[Prop.deleted] = 'true';
  return client.request({ profile: Profile.rev, properties, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body });
}

/** A document body nested `levels` deep (the body itself is level 1), with `leaf` inside the innermost object. */
export function nestedJson(levels: number, leaf = '{}'): string {
  return '{"a":'.repeat(levels - 1) + leaf + '}'.repeat(levels - 1);
}
