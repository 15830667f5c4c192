import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { BlipConnection, BlipError, createMemoryTransportPair, type RequestHandler } from '../../../server/blip';
import { BlobFetcher } from '../../../server/replication/blob-fetcher';
import { BlobServer } from '../../../server/replication/blob-server';
import type { DocumentEnded } from '../../../server/replication/document-event';
import { createMemoryConnector } from '../../../server/replication/memory-connector';
import { PassivePeerSession } from '../../../server/replication/passive-peer';
import { Profile, blobProof } from '../../../server/replication/protocol';
import { Replicator } from '../../../server/replication/replicator';
import type { BlobRef, Database, JsonObject } from '../../../server/store';
import { measurePeak, mb } from '../../helpers/memory';
import { openTempDb } from '../../helpers/open-db';
import { replicateOnce } from '../../helpers/replicate';

function bytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sha1Digest(content: Uint8Array): string {
  return `sha1-${createHash('sha1').update(content).digest('base64')}`;
}

function asJson(ref: BlobRef): JsonObject {
  return ref as unknown as JsonObject;
}

/** Counts what a database's blob store is asked to serve: whole reads (content) and chunked reads (proofs). */
function spyOnBlobs(db: Database): { reads: number; proofReads: number } {
  const n = { reads: 0, proofReads: 0 };
  const store = db.blobs;
  const read = store.read.bind(store);
  const readChunks = store.readChunks.bind(store);
  store.read = (digest) => {
    n.reads++;
    return read(digest);
  };
  store.readChunks = (digest, visit, size) => {
    n.proofReads++;
    return readChunks(digest, visit, size);
  };
  return n;
}

async function run(t: TestContext, config: ConstructorParameters<typeof Replicator>[0]): Promise<{ errors: DocumentEnded[] }> {
  return { errors: await replicateOnce(t, config) };
}

test('push: a document with blobs arrives with their content, each blob fetched once', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const photo = a.saveBlob(bytes(70_000, 1), 'image/jpeg');
  const notes = a.saveBlob(Buffer.from('notes '.repeat(5000)), 'text/plain');
  a.defaultCollection.save({ id: 'item', body: { name: 'chair', photo: asJson(photo), extra: [{ notes: asJson(notes) }] } });
  a.defaultCollection.save({ id: 'same-photo', body: { photo: asJson(photo) } });
  const served = spyOnBlobs(a);
  const { errors } = await run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'push' });
  assert.deepEqual(errors, []);
  assert.deepEqual(b.defaultCollection.get('item')?.body, a.defaultCollection.get('item')?.body);
  assert.ok(b.getBlob(photo.digest)?.equals(bytes(70_000, 1)));
  assert.equal(sha1Digest(b.getBlob(notes.digest)!), notes.digest);
  assert.equal(served.reads, 2, 'two distinct blobs, each sent once');
  assert.equal(served.proofReads, 0, 'a blob sent on this connection needs no proof');
});

test('pull: a document with a blob arrives with its content', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const content = bytes(200_000, 2);
  const ref = b.saveBlob(content, 'application/octet-stream');
  b.defaultCollection.save({ id: 'doc', body: { file: asJson(ref) } });
  const { errors } = await run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'pull' });
  assert.deepEqual(errors, []);
  assert.deepEqual(a.defaultCollection.get('doc')?.body, { file: ref });
  assert.ok(a.getBlob(ref.digest)?.equals(content));
});

test('a blob whose content does not match its digest is refused, and its document not stored', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const ref = a.saveBlob(bytes(50_000, 3), 'image/png');
  a.defaultCollection.save({ id: 'bad', body: { img: asJson(ref) } });
  a.defaultCollection.save({ id: 'plain', body: { ok: true } });
  // The sender serves other bytes of the same length under that digest.
  a.blobs.read = () => bytes(50_000, 4);
  const { errors } = await run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'push' });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.docId, 'bad');
  assert.equal(errors[0]?.error?.code, 400);
  assert.match(errors[0]?.error?.message ?? '', /does not match/);
  assert.equal(b.defaultCollection.get('bad'), undefined);
  assert.equal(b.blobs.has(ref.digest), false);
  assert.deepEqual(readdirSync(b.blobs.dir), [], 'no temporary file left behind');
  assert.deepEqual(b.defaultCollection.get('plain')?.body, { ok: true });
});

test('a blob the receiver already has is not sent again: the sender proves it holds it', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const content = bytes(30_000, 5);
  const ref = a.saveBlob(content, 'image/png');
  b.saveBlob(content, 'image/png');
  a.defaultCollection.save({ id: 'doc', body: { img: asJson(ref) } });
  const served = spyOnBlobs(a);
  const { errors } = await run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'push' });
  assert.deepEqual(errors, []);
  assert.deepEqual(b.defaultCollection.get('doc')?.body, { img: ref });
  assert.equal(served.reads, 0, 'no content transferred');
  assert.equal(served.proofReads, 1, 'one proof computed');
});

test('a sender that cannot prove it holds a blob the receiver has gets its document refused', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const secret = bytes(10_000, 6);
  const ref = b.saveBlob(secret, 'application/octet-stream');
  // a knows only the digest: it references the blob without holding its content.
  a.defaultCollection.save({ id: 'probe', body: { stolen: asJson(ref) } });
  const { errors } = await run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'push' });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.error?.code, 404);
  assert.equal(b.defaultCollection.get('probe'), undefined);

  // A sender that answers with a wrong proof is refused too.
  a.saveBlob(secret);
  a.defaultCollection.save({ id: 'probe', body: { stolen: asJson(ref), attempt: 2 } });
  a.blobs.readChunks = (_digest, visit) => {
    visit(bytes(10_000, 7));
    return true;
  };
  const second = await run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'push' });
  assert.equal(second.errors.length, 1);
  assert.equal(second.errors[0]?.error?.code, 403);
  assert.match(second.errors[0]?.error?.message ?? '', /could not prove/);
  assert.equal(b.defaultCollection.get('probe'), undefined);
});

/** A passive session on `db` and the raw BLIP connection a client would use to talk to it. */
function sessionOn(t: TestContext, db: Database, collections?: string[]): BlipConnection {
  const [x, y] = createMemoryTransportPair();
  const client = new BlipConnection(x, { name: 'client' });
  const session = new PassivePeerSession(new BlipConnection(y, { name: 'listener' }), { database: db, collections });
  t.after(() => {
    client.close();
    session.close();
  });
  return client;
}

test('getAttachment serves only blobs referenced by a document the listener shares', async (t) => {
  const { db } = await openTempDb(t);
  db.createCollection('private.stuff');
  const shared = db.saveBlob(bytes(1000, 8), 'image/png');
  const unreferenced = db.saveBlob(bytes(1000, 9));
  const hidden = db.saveBlob(bytes(1000, 10));
  db.defaultCollection.save({ id: 'doc', body: { img: asJson(shared) } });
  db.requireCollection('private.stuff').save({ id: 'doc', body: { img: asJson(hidden) } });
  const client = sessionOn(t, db, ['_default._default']);
  const get = (digest: string, docID: string): Promise<Buffer> => client.request({ profile: Profile.getAttachment, properties: { digest, docID } }).then((r) => Buffer.from(r.body));
  const notFound = (e: unknown): boolean => e instanceof BlipError && e.code === 404;

  assert.ok((await get(shared.digest, 'doc')).equals(bytes(1000, 8)));
  await assert.rejects(get(unreferenced.digest, 'doc'), notFound, 'stored, but no shared document references it');
  await assert.rejects(get(hidden.digest, 'doc'), notFound, 'referenced only in a collection this listener does not serve');
  await assert.rejects(get(sha1Digest(Buffer.from('nothing')), 'doc'), notFound, 'not stored at all');
  await assert.rejects(get(shared.digest, 'other'), notFound, 'a document that does not exist');
  await assert.rejects(client.request({ profile: Profile.getAttachment, properties: { digest: 'md5-x' } }), (e: unknown) => e instanceof BlipError && e.code === 400);

  // Announced so that Couchbase Lite pushes blobs as they are, without legacy _attachments stubs.
  const proposed = await client.request({ profile: Profile.proposeChanges, body: JSON.stringify([['new', '1-abc']]) });
  assert.equal(proposed.properties['blobs'], 'true');

  const nonce = Buffer.from('0123456789abcdef');
  const proof = await client.request({ profile: Profile.proveAttachment, properties: { digest: shared.digest }, body: nonce });
  assert.equal(
    proof.text(),
    blobProof(nonce, (update) => update(bytes(1000, 8))),
  );
  await assert.rejects(client.request({ profile: Profile.proveAttachment, properties: { digest: shared.digest } }), (e: unknown) => e instanceof BlipError && e.code === 400, 'no nonce');
});

test('a pusher serves the blobs of the documents it pushes, and no others', async (t) => {
  const { db } = await openTempDb(t);
  const pushed = db.saveBlob(bytes(500, 11));
  const other = db.saveBlob(bytes(500, 12));
  db.defaultCollection.save({ id: 'pushed', body: { b: asJson(pushed) } });
  db.defaultCollection.save({ id: 'kept', body: { b: asJson(other) } });
  const [x, y] = createMemoryTransportPair();
  const peer = new BlipConnection(x);
  const server = new BlobServer(new BlipConnection(y), {
    db,
    collectionFor: () => db.defaultCollection,
    mayRead: (_c, docId) => docId === 'pushed',
  });
  t.after(() => {
    server.close();
    peer.close();
  });
  const reply = await peer.request({ profile: Profile.getAttachment, properties: { digest: pushed.digest, docID: 'pushed' } });
  assert.ok(Buffer.from(reply.body).equals(bytes(500, 11)));
  await assert.rejects(peer.request({ profile: Profile.getAttachment, properties: { digest: other.digest, docID: 'kept' } }), (e: unknown) => e instanceof BlipError && e.code === 404);
});

test('a peer without proveAttachment proves possession by sending the content', async (t) => {
  const { db: sender } = await openTempDb(t);
  const { db: receiver } = await openTempDb(t);
  const content = bytes(40_000, 13);
  const ref = sender.saveBlob(content, 'text/plain');
  receiver.saveBlob(content);
  sender.defaultCollection.save({ id: 'doc', body: { a: asJson(ref) } });
  const [x, y] = createMemoryTransportPair();
  const senderConn = new BlipConnection(x);
  const server = new BlobServer(senderConn, { db: sender, collectionFor: () => sender.defaultCollection });
  const fetcher = new BlobFetcher(new BlipConnection(y), receiver.blobs);
  t.after(() => {
    server.close();
    senderConn.close();
  });
  const asked: string[] = [];
  const getAttachment = (senderConn as unknown as { handlers: Map<string, RequestHandler> }).handlers.get(Profile.getAttachment)!;
  senderConn.onRequest(Profile.proveAttachment, () => {
    throw new BlipError('BLIP', 404, "no handler for profile 'proveAttachment'");
  });
  senderConn.onRequest(Profile.getAttachment, (req) => {
    asked.push(req.profile ?? '');
    return getAttachment(req);
  });
  await fetcher.ensure('doc', JSON.stringify({ a: ref }), undefined);
  assert.deepEqual(asked, [Profile.getAttachment]);
  assert.ok(receiver.getBlob(ref.digest)?.equals(content));
});

test('a 20 MB blob replicates both ways with bounded memory', async (t) => {
  const { db: a } = await openTempDb(t);
  const { db: b } = await openTempDb(t);
  const size = 20_000_000;
  let ref = a.saveBlob(bytes(size, 14), 'application/octet-stream');
  a.defaultCollection.save({ id: 'big', body: { data: asJson(ref) } });
  const peak = await measurePeak(() => run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'push' }));
  assert.equal(sha1Digest(b.getBlob(ref.digest)!), ref.digest);
  t.diagnostic(`push 20 MB over the memory transport: peak external (Buffers) +${mb(peak.external)} MB, heap +${mb(peak.heap)} MB, rss +${mb(peak.rss)} MB`);

  ref = b.saveBlob(bytes(size, 15), 'application/octet-stream');
  b.defaultCollection.save({ id: 'big2', body: { data: asJson(ref) } });
  const pullPeak = await measurePeak(() => run(t, { database: a, target: createMemoryConnector({ database: b }), type: 'pull' }));
  assert.equal(sha1Digest(a.getBlob(ref.digest)!), ref.digest);
  t.diagnostic(`pull 20 MB over the memory transport: peak external (Buffers) +${mb(pullPeak.external)} MB, heap +${mb(pullPeak.heap)} MB, rss +${mb(pullPeak.rss)} MB`);
  // Both peers live in this process: the sender holds the blob (plus a copy while encoding); the
  // receiver streams it to disk. Five copies would mean something is buffering the whole blob.
  assert.ok(peak.external < 5 * size, `push peak ${mb(peak.external)} MB`);
  assert.ok(pullPeak.external < 5 * size, `pull peak ${mb(pullPeak.external)} MB`);
});
