import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { Listener } from '../../../server/listener/listener';
import type { BlobRef, Database, JsonObject } from '../../../server/store';
import { measurePeak } from '../../helpers/memory';
import { openTempDb } from '../../helpers/open-db';
import { replicateOnce } from '../../helpers/replicate';

async function listen(t: TestContext, database: Database): Promise<string> {
  const listener = new Listener({ database, networkInterface: '127.0.0.1', port: 0, disableTLS: true });
  await listener.start();
  t.after(() => listener.stop());
  return listener.urls[0]!;
}

function content(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const ref = (r: BlobRef): JsonObject => r as unknown as JsonObject;
const digestOf = (b: Uint8Array): string => `sha1-${createHash('sha1').update(b).digest('base64')}`;

test('blobs push to and pull from a listener over a real WebSocket', async (t) => {
  const { db: server } = await openTempDb(t);
  const { db: client } = await openTempDb(t);
  const url = await listen(t, server);
  const up = client.saveBlob(content(120_000, 1), 'image/png');
  const down = server.saveBlob(Buffer.from('{"text":"compressible"}'.repeat(4000)), 'application/json');
  client.defaultCollection.save({ id: 'from-client', body: { photo: ref(up) } });
  server.defaultCollection.save({ id: 'from-server', body: { attachments: [ref(down)] } });
  assert.deepEqual(await replicateOnce(t, { database: client, target: url }), []);
  assert.equal(digestOf(server.getBlob(up.digest)!), up.digest);
  assert.equal(digestOf(client.getBlob(down.digest)!), down.digest);
  assert.deepEqual(client.defaultCollection.get('from-server')?.body, { attachments: [down] });
  assert.deepEqual(server.defaultCollection.get('from-client')?.body, { photo: up });
});

test('a 20 MB blob pushed and pulled over a WebSocket, with bounded memory', async (t) => {
  const { db: server } = await openTempDb(t);
  const { db: client } = await openTempDb(t);
  const url = await listen(t, server);
  const size = 20_000_000;
  const up = client.saveBlob(content(size, 2), 'application/octet-stream');
  client.defaultCollection.save({ id: 'big-up', body: { data: ref(up) } });
  const push = await measurePeak(() => replicateOnce(t, { database: client, target: url, type: 'push' }));
  assert.equal(digestOf(server.getBlob(up.digest)!), up.digest);

  const down = server.saveBlob(content(size, 3), 'application/octet-stream');
  server.defaultCollection.save({ id: 'big-down', body: { data: ref(down) } });
  const pull = await measurePeak(() => replicateOnce(t, { database: client, target: url, type: 'pull' }));
  assert.equal(digestOf(client.getBlob(down.digest)!), down.digest);
  for (const [what, p] of [
    ['push', push],
    ['pull', pull],
  ] as const) {
    t.diagnostic(
      `${what} 20 MB over WebSocket (both peers in this process): peak Buffers +${(p.external / 1e6).toFixed(1)} MB, heap +${(p.heap / 1e6).toFixed(1)} MB, rss +${(p.rss / 1e6).toFixed(1)} MB`,
    );
    // The sender holds the blob while it is sent (and briefly a second copy); the receiver streams
    // it to disk. Five copies would mean something buffers the whole blob again.
    assert.ok(p.external < 5 * size, `${what}: peak ${p.external} bytes`);
  }
});
