import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { seedInventory } from '../../../server/demo/inventory-seed';
import * as P from '../../../server/rpc/protocol';
import { ServerApi } from '../../../server/rpc/server-api';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import { tempDir } from '../../helpers/temp-dir';

const COLL = '_default._default';

/** A ServerApi behind a real JSON-RPC connection (in-memory streams), so errors and payloads cross the wire. */
async function connect(t: TestContext): Promise<{ conn: MessageConnection; app: PeerSyncApp }> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConn = createMessageConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  const conn = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const app = new PeerSyncApp({ dataFolder: tempDir(t) });
  const api = new ServerApi(app, serverConn);
  serverConn.listen();
  conn.listen();
  t.after(async () => {
    conn.dispose();
    serverConn.dispose();
    api.dispose();
    await app.shutdown();
  });
  return { conn, app };
}

function sha1Digest(content: Buffer): string {
  return `sha1-${createHash('sha1').update(content).digest('base64')}`;
}

async function rejectsWith(p: Promise<unknown>, code: number, reason: P.BlobErrorData['reason'], message: RegExp): Promise<P.BlobErrorData> {
  let data: P.BlobErrorData | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ResponseError, `a ResponseError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    data = e.data as P.BlobErrorData;
    assert.equal(data.reason, reason);
    return true;
  });
  return data!;
}

test('ReadBlob: the demo inventory image, then missing, unreferenced and too large blobs are refused clearly', async (t) => {
  const { conn, app } = await connect(t);
  const db = await app.databases.open('inventory');
  seedInventory(db);
  const ref = { db: 'inventory', collection: COLL, docId: 'list' };

  // The list says it has blobs, and where they are.
  const page = await conn.sendRequest(P.ListDocuments, { db: 'inventory', collection: COLL, limit: 10 });
  assert.equal(page.docs.find((d) => d.id === 'list')?.blobs, 2);
  const blobs = await conn.sendRequest(P.ListDocumentBlobs, ref);
  assert.deepEqual(
    blobs.map((b) => [b.path, b.contentType, b.present]),
    [
      ['list[0].image', 'image/svg+xml', true],
      ['list[1].image', 'image/svg+xml', true],
    ],
  );

  // Found: the bytes arrive intact with their content type.
  const apple = await conn.sendRequest(P.ReadBlob, { ...ref, digest: blobs[0]!.digest });
  const bytes = Buffer.from(apple.base64, 'base64');
  assert.equal(sha1Digest(bytes), blobs[0]!.digest);
  assert.equal(apple.length, bytes.length);
  assert.equal(apple.contentType, 'image/svg+xml');
  assert.match(bytes.toString('utf8'), /^<svg /);

  // Missing: referenced, but the content never arrived (as before a replication brings it).
  const absent = sha1Digest(Buffer.from('not stored here'));
  await conn.sendRequest(P.SaveDocument, {
    db: 'inventory',
    collection: COLL,
    docId: 'photo',
    baseRevId: null,
    body: { photo: { '@type': 'blob', digest: absent, length: 15, content_type: 'image/png' } },
  });
  const photoBlobs = await conn.sendRequest(P.ListDocumentBlobs, { ...ref, docId: 'photo' });
  assert.deepEqual(
    photoBlobs.map((b) => [b.path, b.present]),
    [['photo', false]],
  );
  await rejectsWith(conn.sendRequest(P.ReadBlob, { ...ref, docId: 'photo', digest: absent }), P.RpcErrorCode.notFound, 'missing', /not in inventory: it has not been replicated here/);

  // Unreferenced: stored in the database, but not by the document named.
  const other = db.saveBlob(Buffer.from('a note for someone else'), 'text/plain');
  await rejectsWith(conn.sendRequest(P.ReadBlob, { ...ref, digest: other.digest }), P.RpcErrorCode.notFound, 'notReferenced', /does not reference the blob/);
  await rejectsWith(conn.sendRequest(P.ReadBlob, { ...ref, docId: 'photo', digest: blobs[0]!.digest }), P.RpcErrorCode.notFound, 'notReferenced', /does not reference/);

  // Too large: refused from the declared length, without reading it.
  const big = sha1Digest(Buffer.from('big'));
  await conn.sendRequest(P.SaveDocument, {
    db: 'inventory',
    collection: COLL,
    docId: 'video',
    baseRevId: null,
    body: { clip: { '@type': 'blob', digest: big, length: P.MAX_BLOB_READ_BYTES + 1, content_type: 'video/mp4' } },
  });
  const data = await rejectsWith(conn.sendRequest(P.ReadBlob, { ...ref, docId: 'video', digest: big }), P.RpcErrorCode.tooLarge, 'tooLarge', /blobs are read up to 16777216 bytes/);
  assert.deepEqual([data.length, data.limit], [P.MAX_BLOB_READ_BYTES + 1, P.MAX_BLOB_READ_BYTES]);

  // No such document, and a deleted one no longer vouches for its blobs.
  await assert.rejects(conn.sendRequest(P.ReadBlob, { ...ref, docId: 'nope', digest: absent }), (e: unknown) => e instanceof ResponseError && e.code === P.RpcErrorCode.notFound);
  await conn.sendRequest(P.DeleteDocument, { ...ref, docId: 'photo' });
  await assert.rejects(conn.sendRequest(P.ListDocumentBlobs, { ...ref, docId: 'photo' }), (e: unknown) => e instanceof ResponseError && e.code === P.RpcErrorCode.notFound);
});
