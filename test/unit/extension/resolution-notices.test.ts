import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { NOTICE_INTERVAL_MS, ResolutionNotices } from '../../../extension/conflicts/resolution-notices';
import type { Ctx } from '../../../extension/ctx';
import type { ResolvedConflictsView } from '../../../extension/views/resolved-conflicts-view';
import type { ResolvedConflict, ServerEventParams } from '../../../server/rpc/protocol';

function record(id: number, resolver = 'remoteWins'): ResolvedConflict {
  return { id, time: 0, db: 'shop', collection: '_default._default', docId: `doc-${id}`, resolver, competing: [], outcome: 'kept', resultRevId: '2-abc', discarded: [] };
}

test('at most one notice per interval: the first at once, the next ones summed up', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  try {
    let emit!: (e: ServerEventParams) => void;
    const shown: string[] = [];
    const ctx = {
      onServerEvent: (listener: (e: ServerEventParams) => void) => ((emit = listener), { dispose: () => undefined }),
      ui: { showInformationMessage: (m: string) => (shown.push(m), Promise.resolve(undefined)) },
    } as unknown as Ctx;
    const notices = new ResolutionNotices(ctx, {} as ResolvedConflictsView);
    emit({ kind: 'conflictResolved', resolution: record(1) });
    mock.timers.tick(0);
    assert.equal(shown.length, 1);
    assert.match(shown[0]!, /“doc-1” \(remoteWins: kept 2-abc, discarded 0\)/);

    emit({ kind: 'conflictResolved', resolution: record(2) });
    emit({ kind: 'conflictResolved', resolution: record(3, 'manual') });
    emit({ kind: 'conflictResolved', resolution: record(4) });
    mock.timers.tick(NOTICE_INTERVAL_MS - 1);
    assert.equal(shown.length, 1, 'nothing more within the interval');
    mock.timers.tick(1);
    assert.deepEqual(shown.slice(1), ['PeerSync: 2 conflicts resolved.'], 'manual resolutions are not announced');
    notices.dispose();
  } finally {
    mock.timers.reset();
  }
});
