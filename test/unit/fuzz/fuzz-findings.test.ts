/**
 * What the fuzz suite found, each as a plain reproduction that guards against a relapse (an open
 * finding would be a `todo` test saying where the fix belongs).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BlipConnection, BlipError, createMemoryTransportPair, type BlipCloseInfo } from '../../../server/blip';
import { FrameFlag, MessageType } from '../../../server/blip/frame';
import { PassivePeerSession } from '../../../server/replication/passive-peer';
import type { Database } from '../../../server/store';
import { withTimeout } from '../../helpers/wait';
import { Framer, plainPayload } from '../../helpers/fuzz-frames';
import { deepJson } from '../../helpers/fuzz-protocol';
import { openTempDb } from '../../helpers/open-db';
import { FuzzPeer, isReply } from './fuzz-peer';

const WAIT_MS = 5000;

function listenerClient(t: TestContext, db: Database): BlipConnection {
  const [a, b] = createMemoryTransportPair();
  const client = new BlipConnection(a, { name: 'client', compressionLevel: 0 });
  const server = new BlipConnection(b, { name: 'listener', compressionLevel: 0 });
  new PassivePeerSession(server, { database: db });
  t.after(() => client.close());
  return client;
}

async function errorCode(request: Promise<unknown>): Promise<number | 'reply'> {
  try {
    await withTimeout(request, 'the answer', WAIT_MS);
    return 'reply';
  } catch (err) {
    if (err instanceof BlipError) return err.code;
    throw err;
  }
}

test('setCheckpoint with a body the store refuses (too deep) is a 400, not a 500', async (t) => {
  const { db } = await openTempDb(t);
  const client = listenerClient(t, db);
  const code = await errorCode(client.request({ profile: 'setCheckpoint', properties: { client: 'cp', rev: '' }, body: `{"local":${deepJson(300, 'object')}}` }));
  assert.equal(code, 400);
});

test('changes naming documents `constructor` and `toString` are answered (no handler failure)', async (t) => {
  const { db } = await openTempDb(t);
  const client = listenerClient(t, db);
  const reply = await withTimeout(
    client.request({
      profile: 'changes',
      body: JSON.stringify([
        [1, 'constructor', '1-aa'],
        [2, 'toString', '1-bb'],
        [3, 'plain', '1-cc'],
      ]),
    }),
    'the changes reply',
    WAIT_MS,
  );
  assert.deepEqual(reply.json(), [[], [], []], 'all three are new here, so all three are wanted');
});

test('changes naming a document `__proto__` asks for it like any other', async (t) => {
  const { db } = await openTempDb(t);
  const client = listenerClient(t, db);
  const reply = await withTimeout(client.request({ profile: 'changes', body: JSON.stringify([[1, '__proto__', '1-aa']]) }), 'the changes reply', WAIT_MS);
  assert.deepEqual(reply.json(), [[]]);
});

test('a pushed revision nested far deeper than the store allows is refused with 400', async (t) => {
  const { db } = await openTempDb(t);
  const client = listenerClient(t, db);
  const code = await errorCode(client.request({ profile: 'rev', properties: { id: 'deep', rev: '1-aa' }, body: `{"a":${deepJson(5000, 'array')}}` }));
  assert.equal(code, 400);
});

test('a pushed revision holding a blob reference and deep nesting is a 400, not a stack overflow (500)', async (t) => {
  const { db } = await openTempDb(t);
  const client = listenerClient(t, db);
  const body = `{"b":{"@type":"blob","digest":"sha1-${'A'.repeat(27)}=","length":10},"a":${deepJson(20_000, 'array')}}`;
  const code = await errorCode(client.request({ profile: 'rev', properties: { id: 'deep', rev: '1-aa' }, body }));
  assert.equal(code, 400);
});

test('a peer cannot make a connection buffer unbounded data across many unfinished messages', async () => {
  const [ours, theirs] = createMemoryTransportPair();
  const maxMessageSize = 64 * 1024;
  const conn = new BlipConnection(ours, { name: 'bounded', maxMessageSize, maxPendingIncomingBytes: 1024 * 1024 });
  conn.on('error', () => undefined);
  conn.onRequest('echo', (req) => ({ body: req.body }));
  const peer = new FuzzPeer(theirs, (text) => theirs.sendText(text));
  const framer = new Framer();
  try {
    // 64 unfinished requests of 60 KiB each: 3.75 MiB, past the 1 MiB this connection may hold.
    const chunk = new Uint8Array(60 * 1024);
    for (let i = 0; i < 64; i++) peer.send(await framer.frame(framer.nextRequest++, MessageType.MSG | FrameFlag.MoreComing, plainPayload({ Profile: 'echo' }, chunk)));
    const probe = framer.nextRequest++;
    peer.send(await framer.frame(probe, MessageType.MSG, plainPayload({ Profile: 'echo' }, new Uint8Array(1))));
    const outcome = await peer.replyOrClose(probe, WAIT_MS);
    assert.ok(!isReply(outcome), 'the connection should have refused to hold that much (closing with 1008), yet it still answers');
    const info: BlipCloseInfo | undefined = conn.closeInfo;
    assert.equal(info?.code, 1008);
  } finally {
    conn.close();
    peer.close();
    framer.close();
  }
});
