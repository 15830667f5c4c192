import type { Collection, RevId } from '../store';
import { storeToBlip } from '../error-mapping';
import { ProposeStatus, type ChangeEntry, type ChangesReplyEntry, type ProposedChange, type RemoteSequence } from './protocol';

/** What the pull keeps track of while a `changes` list is answered, entry by entry and in order. */
export interface ChangesTracking {
  /** An announced sequence: the checkpoint may not pass it until it is done. */
  announced(collection: Collection, seq: RemoteSequence): void;
  /** Whether to ask for a missing revision: false when it is already asked for (and on its way). */
  expect(collection: Collection, docId: string, revId: string, seq: RemoteSequence): boolean;
  /** An announced sequence needing nothing more from the peer. */
  done(collection: Collection, seq: RemoteSequence): void;
}

export interface RevFinderOptions {
  /** The peer's key in remote_revs (active side): what it announces and we have, it has too. */
  readonly remoteId?: number | undefined;
  /** The peer has this revision as its current one and it is already here (see PullerOptions). */
  readonly onPeerRevision?: ((collection: Collection, docId: string, revId: string) => void) | undefined;
}

/**
 * Decides which announced revisions to ask for, as LiteCore's RevFinder: a `changes` list is
 * answered with, per revision, the ancestors here (so the sender can cut its history there) or 0
 * when it is not wanted; a `proposeChanges` list with send / have it / conflict.
 */
export class RevFinder {
  constructor(private readonly options: RevFinderOptions) {}

  /** The reply to a non-empty `changes` list. */
  answerChanges(collection: Collection, entries: readonly ChangeEntry[], tracking: ChangesTracking): ChangesReplyEntry[] {
    // No prototype: a peer's document ID such as `constructor` must not find Object's members.
    const request: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (const [, docId, revId] of entries) (request[docId] ??= []).push(revId);
    let diff: ReturnType<Collection['revsDiff']>;
    try {
      diff = collection.revsDiff(request);
    } catch (e) {
      throw storeToBlip(e);
    }
    const alreadyHere: [string, string][] = [];
    const reply: ChangesReplyEntry[] = entries.map(([seq, docId, revId]) => {
      tracking.announced(collection, seq);
      const d = Object.hasOwn(diff, docId) ? diff[docId] : undefined;
      if (d && d.missing.includes(revId as RevId) && tracking.expect(collection, docId, revId, seq)) return d.possibleAncestors;
      if (!d || !d.missing.includes(revId as RevId)) alreadyHere.push([docId, revId]);
      tracking.done(collection, seq);
      return 0;
    });
    if (alreadyHere.length > 0) this.notePeerRevisions(collection, alreadyHere);
    return reply;
  }

  /** Records that the peer has these revisions (a later push names them as parents) and says so. */
  private notePeerRevisions(collection: Collection, entries: [string, string][]): void {
    const remoteId = this.options.remoteId;
    if (remoteId === undefined) return;
    try {
      collection.setRemoteRevs(remoteId, entries);
    } catch {
      // A later push then proposes with an older parent and learns the truth from the peer.
    }
    for (const [docId, revId] of entries) this.options.onPeerRevision?.(collection, docId, revId);
  }

  /** The status of each proposed revision, compared with the document's current one here. */
  answerProposals(collection: Collection, proposals: readonly ProposedChange[]): number[] {
    return proposals.map(([docId, revId, serverRevId]) => {
      let current: { revId: RevId; deleted: boolean } | undefined;
      try {
        current = collection.currentRevision(docId);
      } catch {
        return 400; // invalid document ID
      }
      if (!current) return ProposeStatus.send;
      if (current.revId === revId) return ProposeStatus.haveIt;
      if (collection.getAncestry(docId, revId, 1)?.[0] === revId) return ProposeStatus.haveIt;
      if ((serverRevId ?? '') === current.revId) return ProposeStatus.send;
      // As a LiteCore listener does: a peer creating the document afresh over a local deletion is not a conflict.
      if (!serverRevId && current.deleted) return ProposeStatus.send;
      return ProposeStatus.conflict;
    });
  }
}
