/**
 * A listener that lies: it speaks enough of the replication protocol to draw a replicator in, then
 * answers with bent replies (wrong JSON types, wrong lengths, odd statuses, random error codes) and
 * pushes bent `changes` and `rev` messages of its own, and finally hangs up with a random close code.
 */
import { BlipConnection, BlipError, createMemoryTransportPair, type BlipReply, type IncomingReply } from '../../../server/blip';
import type { ReplicatorConnector } from '../../../server/replication/replicator-types';
import type { Rng } from '../../helpers/fuzz';
import { DOC_IDS, bend, history, jsonValue, revId, sequence, weirdString } from '../../helpers/fuzz-protocol';

export interface HostileSession {
  /** The replicator's side, to watch for handler failures. */
  readonly active: BlipConnection;
  readonly hostile: BlipConnection;
  /** ERR replies the replicator sent to the hostile side's requests. */
  readonly errorsReceived: { profile: string; domain: string; code: number; message: string }[];
  /** Resolves once the hostile script has finished and hung up. */
  readonly finished: Promise<void>;
}

function maybeError(rng: Rng, p: number): void {
  if (rng.chance(p)) throw new BlipError(rng.pick(['HTTP', 'BLIP', 'WebSocket', '']), rng.pick([400, 401, 403, 404, 409, 410, 429, 500, 501, 503, 599, 0, -1, 99999]), weirdString(rng));
}

function bentJsonReply(rng: Rng, valid: () => string): BlipReply {
  return {
    properties: rng.chance(0.2) ? bend(rng, { rev: revId(rng) }) : rng.chance(0.5) ? { rev: rng.pick(['1-cc', '', weirdString(rng)]) } : {},
    body: rng.weighted<() => string>([
      [5, valid],
      [3, () => jsonValue(rng)],
      [1, () => rng.pick(['{', '', 'nul'])],
    ])(),
  };
}

/** The statuses a `proposeChanges` reply may hold, valid or not. */
function statuses(rng: Rng, count: number): string {
  const length = rng.chance(0.8) ? count : rng.range(0, count + 3);
  return JSON.stringify(Array.from({ length }, () => rng.pick<unknown>([0, 0, 304, 409, 500, 403, null, '0', -1, 1e308, [], {}])));
}

/** A sequence of odd shape as a JSON value (one that is not JSON at all goes as a string). */
function parsedSequence(rng: Rng): unknown {
  const text = sequence(rng);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function entries(body: unknown): number {
  return Array.isArray(body) ? body.length : 0;
}

export function hostileConnector(rng: Rng, onSession: (s: HostileSession) => void): ReplicatorConnector {
  return {
    address: 'memory://hostile',
    async connect() {
      const [a, b] = createMemoryTransportPair();
      const active = new BlipConnection(a, { name: 'replicator', compressionLevel: 0 });
      const hostile = new BlipConnection(b, { name: 'hostile', compressionLevel: rng.chance(0.5) ? 0 : 6 });
      hostile.on('error', () => undefined);
      const errorsReceived: HostileSession['errorsReceived'] = [];
      let subscribed!: () => void;
      const subChanges = new Promise<void>((resolve) => (subscribed = resolve));

      hostile.onRequest('getCheckpoint', () => {
        maybeError(rng, 0.3);
        return bentJsonReply(rng, () => JSON.stringify({ local: rng.int(5), remote: rng.int(5) }));
      });
      hostile.onRequest('getCollections', (req) => {
        maybeError(rng, 0.1);
        const n = entries((req.json() as { collections?: unknown } | undefined)?.collections);
        return bentJsonReply(rng, () => JSON.stringify(new Array(n).fill({})));
      });
      hostile.onRequest('setCheckpoint', () => {
        maybeError(rng, 0.2);
        return bentJsonReply(rng, () => '');
      });
      hostile.onRequest('subChanges', () => {
        maybeError(rng, 0.1);
        subscribed();
        return undefined;
      });
      hostile.onRequest('proposeChanges', (req) => {
        maybeError(rng, 0.15);
        return { properties: rng.chance(0.5) ? { blobs: 'true' } : {}, body: rng.chance(0.85) ? statuses(rng, entries(req.json())) : jsonValue(rng) };
      });
      hostile.onRequest('changes', (req) => {
        maybeError(rng, 0.1);
        return { body: rng.chance(0.8) ? JSON.stringify(new Array(entries(req.json())).fill(0)) : jsonValue(rng) };
      });
      hostile.onRequest('rev', () => {
        maybeError(rng, 0.3);
        return undefined;
      });

      const ask = async (profile: string, properties: Record<string, string>, body: string | Uint8Array): Promise<IncomingReply | undefined> => {
        try {
          return await hostile.request({ profile, properties, body });
        } catch (err) {
          if (err instanceof BlipError) errorsReceived.push({ profile, domain: err.domain, code: err.code, message: err.message });
          return undefined;
        }
      };

      /** What it pushes once subscribed to: announcements, the revisions asked for (bent), stray requests. */
      const pull = async (): Promise<void> => {
        for (let round = rng.range(0, 3); round > 0; round--) {
          const announced = Array.from(
            { length: rng.size(12) },
            () => [rng.chance(0.8) ? rng.range(1, 100) : parsedSequence(rng), rng.chance(0.8) ? rng.pick(DOC_IDS) : weirdString(rng), revId(rng)] as const,
          );
          const reply = await ask('changes', rng.chance(0.1) ? bend(rng, {}) : {}, rng.chance(0.9) ? JSON.stringify(announced) : jsonValue(rng));
          let wanted: unknown;
          try {
            wanted = reply?.json();
          } catch {
            wanted = undefined;
          }
          const sends: Promise<unknown>[] = [];
          announced.forEach(([seq, id, rev], i) => {
            if (!Array.isArray(wanted) || !Array.isArray(wanted[i])) return;
            if (rng.chance(0.15)) {
              sends.push(ask('norev', { id, rev, sequence: JSON.stringify(seq), error: '404' }, ''));
              return;
            }
            const props = { id, rev, sequence: JSON.stringify(seq), ...(rng.chance(0.7) ? { history: history(rng, rev) } : {}), ...(rng.chance(0.1) ? { deleted: 'true' } : {}) };
            sends.push(ask('rev', rng.chance(0.3) ? bend(rng, props) : props, rng.chance(0.8) ? JSON.stringify({ from: 'hostile', n: rng.int(100) }) : jsonValue(rng)));
          });
          await Promise.all(sends);
        }
        if (rng.chance(0.3))
          await ask(
            rng.pick(['rev', 'getAttachment', 'proveAttachment', 'getCheckpoint', 'nonsense']),
            bend(rng, { id: 'doc-1', rev: revId(rng), digest: `sha1-${'A'.repeat(27)}=`, docID: 'doc-1' }),
            rng.bytes(rng.size(20)),
          );
        if (rng.chance(0.7)) await ask('changes', {}, '[]'); // caught up
      };

      const finished = (async () => {
        // Draws the replicator in as far as it will come, bounded by the moves below, not by time.
        await Promise.race([subChanges.then(pull), new Promise<void>((resolve) => hostile.once('close', () => resolve()))]);
        await hostile.whenOutboxIdle();
        if (!hostile.isClosed) hostile.close(rng.pick([1000, 1001, 1002, 1008, 1011, 1006, 4000, 4401, 4999]), rng.chance(0.5) ? weirdString(rng) : 'bye');
      })();
      onSession({ active, hostile, errorsReceived, finished });
      return { connection: active, close: (code = 1000, reason = 'closed') => active.close(code, reason) };
    },
  };
}
