/**
 * Fuzzing a listener's replication handlers (PassivePeerSession) with structured but bent
 * requests from a client: every request is answered, with a reply or an ERR whose code says what
 * was wrong with it (4xx), never a handler failure (5xx); the connection stays up; a probe
 * afterwards gets its correct answer; the database remains usable.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BlipConnection, BlipError, createMemoryTransportPair, type BlipCloseInfo } from '../../../server/blip';
import { PassivePeerSession } from '../../../server/replication/passive-peer';
import type { Database } from '../../../server/store';
import { type Rng, drainEventLoop, fuzzLoop, guardProcess, pendingTimers } from '../../helpers/fuzz';
import { withTimeout } from '../../helpers/wait';
import { jsonValue, passiveRequest, type FuzzRequest } from '../../helpers/fuzz-protocol';
import { openTempDb } from '../../helpers/open-db';

const WAIT_MS = 10_000;

interface Outcome {
  readonly request: FuzzRequest;
  readonly result: 'reply' | { domain: string; code: number; message: string } | { closed: BlipCloseInfo } | { other: string };
}

function describe(o: Outcome): string {
  const props = JSON.stringify(o.request.properties).slice(0, 300);
  const body = typeof o.request.body === 'string' ? o.request.body.slice(0, 200) : `<${o.request.body.length} bytes>`;
  return `${o.request.profile} ${props} ${JSON.stringify(body)} -> ${JSON.stringify(o.result)}`;
}

async function send(client: BlipConnection, request: FuzzRequest): Promise<Outcome> {
  try {
    await withTimeout(client.request(request), `the answer to ${request.profile}`, WAIT_MS);
    return { request, result: 'reply' };
  } catch (err) {
    if (err instanceof BlipError) return { request, result: { domain: err.domain, code: err.code, message: err.message } };
    if (client.closeInfo) return { request, result: { closed: client.closeInfo } };
    return { request, result: { other: err instanceof Error ? err.message : String(err) } };
  }
}

/** How the fuzzing client answers the listener's `changes`: mostly sensible, sometimes not. */
function changesReply(rng: Rng, entries: number): { body: string; valid: boolean } {
  return rng.weighted<() => { body: string; valid: boolean }>([
    [4, () => ({ body: JSON.stringify(new Array<number>(entries).fill(0)), valid: true })],
    [2, () => ({ body: JSON.stringify(Array.from({ length: entries }, () => (rng.chance(0.5) ? [] : 0))), valid: true })],
    [1, () => ({ body: '[]', valid: true })],
    [
      1,
      () => {
        const v = jsonValue(rng);
        return { body: v, valid: v.startsWith('[') };
      },
    ],
    [1, () => ({ body: rng.pick(['{', 'x']), valid: false })],
  ])();
}

async function iteration(t: TestContext, db: Database, rng: Rng, i: number): Promise<void> {
  const [a, b] = createMemoryTransportPair();
  const client = new BlipConnection(a, { name: 'fuzz-client', compressionLevel: rng.chance(0.5) ? 0 : 6 });
  const server = new BlipConnection(b, { name: 'listener', compressionLevel: 0 });
  const session = new PassivePeerSession(server, { database: db, readOnly: rng.chance(0.1) });
  const handlerErrors: unknown[] = [];
  server.on('handlerError', (err, req) => handlerErrors.push(`${req.profile ?? '?'}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  client.on('error', () => undefined);
  server.on('error', () => undefined);
  let sentBadChangesReply = false;
  client.onRequest('changes', (req) => {
    const entries = Array.isArray(req.json()) ? (req.json() as unknown[]).length : 0;
    const reply = changesReply(rng, entries);
    if (!reply.valid) sentBadChangesReply = true;
    return { body: reply.body };
  });
  client.onRequest('rev', () => undefined);
  client.onRequest('norev', () => undefined);
  const sessionClosed = new Promise<void>((resolve) => session.once('closed', () => resolve()));

  try {
    const outcomes: Outcome[] = [];
    // A few in sequence, sometimes a few at once (what a pipelining client does).
    for (let n = rng.range(1, 5); n > 0; n--) {
      if (rng.chance(0.3)) outcomes.push(...(await Promise.all([send(client, passiveRequest(rng)), send(client, passiveRequest(rng))])));
      else outcomes.push(await send(client, passiveRequest(rng)));
    }
    const log = (): string => outcomes.map(describe).join('\n  ');
    for (const o of outcomes) {
      if (o.result === 'reply') continue;
      if ('code' in o.result) {
        // 501 from the replication layer means "not supported" (a filter, a versioning); from the
        // BLIP layer it means a handler threw, which a peer's input must never cause.
        const unsupported = o.result.code === 501 && o.result.domain === 'HTTP';
        assert.ok((o.result.code >= 400 && o.result.code < 500) || unsupported, `iteration ${i}: a bad request must be answered with a 4xx, not ${o.result.domain} ${o.result.code}:\n  ${log()}`);
        continue;
      }
      if ('closed' in o.result) {
        assert.ok(sentBadChangesReply, `iteration ${i}: the listener closed the connection (${JSON.stringify(o.result.closed)}):\n  ${log()}`);
        continue;
      }
      assert.fail(`iteration ${i}: unexpected failure:\n  ${log()}`);
    }
    assert.deepEqual(handlerErrors, [], `iteration ${i}: handlers threw:\n  ${log()}`);

    if (!client.isClosed) {
      // The probe: an unknown checkpoint is 404 on a default-collection connection, 400 (collection
      // required) once getCollections switched it to collections mode. Anything else is wrong.
      const probe = await send(client, { profile: 'getCheckpoint', properties: { client: `probe-${i}-${rng.next()}` }, body: '' });
      const r = probe.result;
      if (typeof r === 'object' && 'closed' in r) assert.ok(sentBadChangesReply, `iteration ${i}: closed before the probe: ${describe(probe)}`);
      else assert.ok(typeof r === 'object' && 'code' in r && (r.code === 404 || r.code === 400), `iteration ${i}: probe answered ${describe(probe)}\n  after:\n  ${log()}`);
    } else {
      assert.ok(sentBadChangesReply, `iteration ${i}: the connection closed: ${JSON.stringify(client.closeInfo)}`);
      assert.equal(client.closeInfo?.code, 1011);
      assert.equal(client.closeInfo?.reason, 'sending changes failed');
    }
    assert.doesNotThrow(() => db.defaultCollection.count(), 'the database stays usable');
  } finally {
    client.close();
  }
  await withTimeout(sessionClosed, 'the passive session to close', WAIT_MS);
  void t;
}

test('passive peer: bent requests get a reply or a 4xx, the connection survives, a probe after them is answered correctly', async (t) => {
  const guard = guardProcess(t);
  const { db } = await openTempDb(t);
  for (const id of ['doc-1', 'doc-2', 'doc-3']) db.defaultCollection.save({ id, body: { id, n: 1 } });
  db.defaultCollection.delete('doc-3');
  const timersBefore = pendingTimers();
  await fuzzLoop(t, 'passive-peer', 150, (rng, i) => iteration(t, db, rng, i));
  await drainEventLoop();
  assert.ok(pendingTimers() <= timersBefore, `timers left running after the sessions closed: ${pendingTimers()} > ${timersBefore}`);
  guard.check();
});
