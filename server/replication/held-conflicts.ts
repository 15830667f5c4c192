import type { Change, Collection } from '../store';
import { Tuning } from './protocol';

/** A change the peer refused as a conflict, waiting to learn the peer's current revision. */
export interface HeldConflict {
  readonly change: Change;
  /** Already reported as failed (the run caught up without learning anything new). */
  reported: boolean;
}

/**
 * What learning the peer's current revision of a document means for the change held for it:
 * `superseded` (changed here since), `peerHasIt` (the peer has ours after all), `retry` (the
 * peer's revision is an ancestor of ours: propose again naming it), `conflict` (a real one, which
 * the pull resolves into a new local revision, pushed in its turn).
 */
export type HeldVerdict = 'superseded' | 'peerHasIt' | 'retry' | 'conflict';

/**
 * The changes a push-and-pull replication holds after the peer refused them as conflicts (409):
 * its pull may show that the peer's current revision is one of ours, and then they can be retried.
 */
export class HeldConflicts {
  private readonly held = new Map<string, HeldConflict>();

  constructor(private readonly collection: Collection) {}

  get size(): number {
    return this.held.size;
  }

  hold(change: Change): void {
    this.held.set(change.docId, { change, reported: false });
  }

  /** Stops holding the document's change and returns it, if one was held. */
  take(docId: string): HeldConflict | undefined {
    const h = this.held.get(docId);
    if (h) this.held.delete(docId);
    return h;
  }

  /** The held changes not reported yet, each marked as reported as it is handed out. */
  *takeUnreported(): Generator<Change> {
    for (const [, h] of this.held) {
      if (h.reported) continue;
      h.reported = true;
      yield h.change;
    }
  }

  /** The verdict for the change held for `docId` now that the peer is known to have `revId` (undefined: none held). */
  verdict(docId: string, revId: string): HeldVerdict | undefined {
    const held = this.held.get(docId);
    if (!held) return undefined;
    const current = this.collection.currentRevision(docId);
    if (!current || current.revId !== held.change.revId) return 'superseded';
    if (revId === current.revId) return 'peerHasIt';
    const ancestry = this.collection.getAncestry(docId, current.revId, Tuning.maxHistory + 1);
    return ancestry?.some((r) => r === revId) ? 'retry' : 'conflict';
  }
}
