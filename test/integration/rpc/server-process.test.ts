import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection, ResponseError } from 'vscode-jsonrpc/node';
import * as P from '../../../server/rpc/protocol';
import { ROOT } from '../../helpers/cli';
import { tempDir } from '../../helpers/temp-dir';

/** Starts dist/server.js as the extension does (here over stdio) and initializes it. */
async function startServer(t: TestContext, dataFolder: string): Promise<MessageConnection> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  conn.listen();
  t.after(async () => {
    try {
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit').catch(() => undefined);
    } catch {
      /* already gone */
    }
    conn.dispose();
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { dataFolder } });
  conn.sendNotification('initialized', {});
  return conn;
}

function nextNotification<T>(conn: MessageConnection, type: { method: string }, pred: (p: T) => boolean, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${type.method} notification matching within ${ms} ms`));
    }, ms);
    const sub = conn.onNotification(type.method, (p: T) => {
      if (pred(p)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(p);
      }
    });
  });
}

test('the server process: databases, documents, stale saves, listener, replication, notifications', async (t) => {
  const conn = await startServer(t, tempDir(t));
  const db = await conn.sendRequest(P.CreateDatabase, { name: 'notes' });
  assert.equal(db.name, 'notes');
  assert.deepEqual(db.collections.map((c) => c.name), ['_default._default']);
  const ref = { db: 'notes', collection: '_default._default', docId: 'hello' };

  const changed = nextNotification<{ docIds: string[] }>(conn, P.DatabaseChanged, (p) => p.docIds.includes('hello'));
  const saved = await conn.sendRequest(P.SaveDocument, { ...ref, baseRevId: null, body: { text: 'hi' } });
  assert.match(saved.revId, /^1-/);
  await changed;
  const again = await conn.sendRequest(P.SaveDocument, { ...ref, baseRevId: saved.revId, body: { text: 'hi again' } });
  await assert.rejects(conn.sendRequest(P.SaveDocument, { ...ref, baseRevId: saved.revId, body: { text: 'stale' } }), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.equal(e.code, P.RpcErrorCode.conflict);
    assert.deepEqual(e.data, { currentRevId: again.revId });
    return true;
  });
  assert.deepEqual((await conn.sendRequest(P.GetDocument, ref))?.body, { text: 'hi again' });
  const page = await conn.sendRequest(P.ListDocuments, { db: 'notes', collection: '_default._default', limit: 10 });
  assert.equal(page.total, 1);
  await assert.rejects(conn.sendRequest(P.GetDocument, { ...ref, db: 'nope' }), (e: unknown) => e instanceof ResponseError && e.code === P.RpcErrorCode.notFound);

  // A second database in the same server replicates with the first through a listener.
  await conn.sendRequest(P.CreateDatabase, { name: 'phone' });
  const listener = await conn.sendRequest(P.StartListener, { db: 'notes', port: 0, networkInterface: '127.0.0.1', tls: false });
  assert.equal(listener.state, 'listening');
  assert.equal(listener.urls[0], `ws://127.0.0.1:${listener.port}/notes`);
  const idle = nextNotification<P.ReplicatorInfo>(conn, P.ReplicatorStatusChanged, (s) => s.activity === 'idle');
  const rep = await conn.sendRequest(P.StartReplication, { db: 'phone', target: listener.urls[0]!, type: 'pushAndPull', continuous: true });
  assert.equal(rep.target, listener.urls[0]);
  const status = await idle;
  assert.equal(status.completed, 1);
  assert.equal((await conn.sendRequest(P.GetDocument, { ...ref, db: 'phone' }))?.revId, again.revId);

  const list = await conn.sendRequest(P.ListReplications);
  assert.equal(list.length, 1);
  const stopped = await conn.sendRequest(P.StopReplication, { id: rep.id });
  assert.equal(stopped.activity, 'stopped');
  await conn.sendRequest(P.StopListener, { id: listener.id });
  assert.deepEqual(await conn.sendRequest(P.ListListeners), []);
});
