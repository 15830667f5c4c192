/** A channel-like field filter: only documents whose field holds one of the values cross, both ways. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSyncApp } from '../../../server/app/peersync-app';
import type * as P from '../../../server/rpc/protocol';
import { tempDir } from '../../helpers/temp-dir';
import { waitForCondition } from '../../helpers/wait';

test('a field filter replicates only matching documents in both directions; deletions pass', async (t) => {
  const app = new PeerSyncApp({ dataFolder: tempDir(t), persistConfiguration: false });
  t.after(() => app.shutdown());
  const hub = await app.databases.open('hub');
  const edge = await app.databases.open('edge');
  const l = await app.listeners.start({ db: 'hub', port: 0, networkInterface: '127.0.0.1', tls: false });
  hub.defaultCollection.save({ id: 'hub-a', body: { channel: 'a' } });
  hub.defaultCollection.save({ id: 'hub-b', body: { channel: 'b' } });
  hub.defaultCollection.save({ id: 'hub-ab', body: { channel: ['x', 'a'] } });
  hub.defaultCollection.save({ id: 'hub-none', body: { other: 1 } });
  edge.defaultCollection.save({ id: 'edge-a', body: { meta: { channel: 'a' }, channel: 'a' } });
  edge.defaultCollection.save({ id: 'edge-b', body: { channel: 'b' } });

  await assert.rejects(
    app.replications.start({ db: 'edge', target: `ws://127.0.0.1:${l.port}/hub`, type: 'push', continuous: false, filterField: 'a..b', filterValues: ['x'] }),
    /not a property path/,
  );
  await assert.rejects(app.replications.start({ db: 'edge', target: `ws://127.0.0.1:${l.port}/hub`, type: 'push', continuous: false, filterField: 'channel', filterValues: [] }), /at least one value/);

  const run = async (): Promise<void> => {
    let last: P.ReplicatorInfo | undefined;
    const off = app.events.on('replicationStatus', (s) => (last = s));
    const r = await app.replications.start({ db: 'edge', target: `ws://127.0.0.1:${l.port}/hub`, type: 'pushAndPull', continuous: false, filterField: 'channel', filterValues: ['a'], persist: false });
    await waitForCondition(
      () => last?.id === r.id && last.activity === 'stopped',
      (notify) => app.events.on('replicationStatus', notify),
      30_000,
      'the filtered run to end',
    );
    off();
    assert.equal(last?.error, undefined);
    await app.replications.remove(r.id);
  };
  await run();
  const ids = (db: typeof hub): string[] => db.defaultCollection.allDocs({ limit: 100 }).map((d) => d.id);
  assert.deepEqual(ids(edge), ['edge-a', 'edge-b', 'hub-a', 'hub-ab']);
  assert.deepEqual(ids(hub), ['edge-a', 'hub-a', 'hub-ab', 'hub-b', 'hub-none']);

  hub.defaultCollection.delete('hub-a');
  await run();
  assert.equal(edge.defaultCollection.get('hub-a'), undefined, 'the deletion crossed the filter');
});
