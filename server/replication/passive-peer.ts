import { BlipError, type BlipConnection, type IncomingRequest, type BlipReply } from '../blip';
import { isStoreError, type Collection, type Database } from '../store';
import { isJsonObject } from '../store/canonical-json';
import { TypedEmitter } from '../util/typed-emitter';
import { BlobServer } from './blob-server';
import { Pusher } from './pusher';
import { peerCheckpointDocId } from './checkpoint';
import type { DocumentEnded } from './document-event';
import { Profile, Prop, Tuning, badRequest, collectionIndex, isTrue, jsonBody } from './protocol';
import { Puller } from './puller';
import { storeToBlip } from '../error-mapping';

/**
 * Default cap on a checkpoint a client stores here. LiteCore's are a few dozen bytes; the cap keeps
 * a client from making every later getCheckpoint/getCollections reply carry megabytes.
 */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 16 * 1024;

export interface PassivePeerOptions {
  readonly database: Database;
  /** Collections this peer serves (default: all of the database's). */
  readonly collections?: readonly string[] | undefined;
  /** Refuse pushes (403); pulls are served. */
  readonly readOnly?: boolean | undefined;
  /** Stored for delta sync (a later protocol feature); not used yet. */
  readonly enableDeltaSync?: boolean | undefined;
  /** Largest `setCheckpoint` body accepted (bytes); larger ones are refused with HTTP 413. */
  readonly maxCheckpointBytes?: number | undefined;
}

export type PassivePeerEvents = {
  documentEnded: [DocumentEnded];
  /** Busy = serving a pull or receiving a push right now. */
  activity: [busy: boolean];
  closed: [];
};

/**
 * The passive side of one replication connection (what a listener runs per client): stores the
 * client's checkpoints, serves `subChanges` with a Pusher, and takes pushes with a
 * Puller that refuses conflicting revisions.
 */
export class PassivePeerSession extends TypedEmitter<PassivePeerEvents> {
  /** null until the first message decides legacy (default collection) or collections mode. */
  private collectionsMode: boolean | null = null;
  private agreed: (Collection | null)[] = [];
  /**
   * One changes feed per collection, as a LiteCore passive peer has one pusher per collection: a
   * later subChanges for the same collection replaces the feed rather than adding one.
   */
  private readonly feeds = new Map<Collection, Pusher>();
  private readonly puller: Puller;
  private readonly blobServer: BlobServer;
  private readonly unregister: (() => void)[] = [];
  private busy = false;
  private closed = false;

  constructor(
    private readonly conn: BlipConnection,
    private readonly options: PassivePeerOptions,
  ) {
    super();
    this.puller = new Puller(conn, {
      db: options.database,
      role: 'passive',
      readOnly: options.readOnly === true,
      collectionFor: (i) => this.collectionFor(i),
    });
    this.puller.on('documentEnded', (e) => this.emit('documentEnded', e));
    this.puller.on('progress', () => this.updateBusy());
    // Blobs of documents in the collections this listener serves (and only those).
    this.blobServer = new BlobServer(conn, { db: options.database, collectionFor: (i) => this.collectionFor(i) });
    this.unregister.push(
      conn.onRequest(Profile.getCheckpoint, (req) => this.onGetCheckpoint(req)),
      conn.onRequest(Profile.setCheckpoint, (req) => this.onSetCheckpoint(req)),
      conn.onRequest(Profile.getCollections, (req) => this.onGetCollections(req)),
      conn.onRequest(Profile.subChanges, (req) => this.onSubChanges(req)),
    );
    conn.on('close', () => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unregister) off();
    for (const s of this.feeds.values()) s.stop();
    this.puller.close();
    this.blobServer.close();
    this.emit('closed');
  }

  private served(): Collection[] {
    const db = this.options.database;
    return this.options.collections ? this.options.collections.map((n) => db.requireCollection(n)) : db.collections();
  }

  private collectionFor(index: number | undefined): Collection {
    if (index === undefined) {
      if (this.collectionsMode === true) throw badRequest('this connection uses collections: the collection property is required');
      this.collectionsMode = false;
      const def = this.options.database.defaultCollection;
      if (!this.served().includes(def)) throw new BlipError('HTTP', 404, 'the default collection is not shared by this listener');
      return def;
    }
    if (this.collectionsMode !== true) throw badRequest('collection property sent before getCollections');
    const c = this.agreed[index];
    if (!c) throw new BlipError('HTTP', 404, `no collection at index ${index}`);
    return c;
  }

  private onGetCollections(req: IncomingRequest): BlipReply {
    if (this.collectionsMode === false) throw badRequest('getCollections must be the first message');
    const body = jsonBody(req);
    if (!isJsonObject(body)) throw badRequest('getCollections body must be a JSON object');
    const { collections, checkpoint_ids: ids } = body;
    if (!Array.isArray(collections) || !Array.isArray(ids) || collections.length === 0 || collections.length !== ids.length) {
      throw badRequest('getCollections needs equal-length, non-empty collections and checkpoint_ids arrays');
    }
    if (collections.some((c) => typeof c !== 'string') || ids.some((c) => typeof c !== 'string')) throw badRequest('collection names and checkpoint IDs must be strings');
    if (new Set(collections).size !== collections.length) throw badRequest('duplicate collection in getCollections');
    this.collectionsMode = true;
    const served = this.served();
    this.agreed = (collections as string[]).map((name) => {
      const c = this.options.database.collection(name);
      return c && served.includes(c) ? c : null;
    });
    const reply = (ids as string[]).map((id, i) => {
      if (!this.agreed[i]) return null;
      const cp = this.options.database.getLocal(peerCheckpointDocId(id));
      return cp ? { ...cp.body, rev: cp.rev } : {};
    });
    return { body: JSON.stringify(reply) };
  }

  private onGetCheckpoint(req: IncomingRequest): BlipReply {
    const client = req.properties[Prop.client];
    if (!client) throw badRequest('getCheckpoint needs a client property');
    this.collectionFor(collectionIndex(req));
    const cp = this.options.database.getLocal(peerCheckpointDocId(client));
    if (!cp) throw new BlipError('HTTP', 404, 'no checkpoint');
    return { properties: { [Prop.rev]: cp.rev }, body: JSON.stringify(cp.body) };
  }

  private onSetCheckpoint(req: IncomingRequest): BlipReply {
    const client = req.properties[Prop.client];
    if (!client) throw badRequest('setCheckpoint needs a client property');
    this.collectionFor(collectionIndex(req));
    const limit = this.options.maxCheckpointBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES;
    if (req.body.length > limit) throw new BlipError('HTTP', 413, `checkpoint is ${req.body.length} bytes; this listener keeps at most ${limit}`);
    const body = jsonBody(req);
    if (!isJsonObject(body)) throw badRequest('checkpoint must be a JSON object');
    try {
      // LiteCore always sends `rev`, empty on its first save: empty means "no checkpoint yet".
      const saved = this.options.database.putLocal(peerCheckpointDocId(client), body, req.properties[Prop.rev] || null);
      return { properties: { [Prop.rev]: saved.rev } };
    } catch (e) {
      if (isStoreError(e, 'CONFLICT')) throw new BlipError('HTTP', 409, 'checkpoint revision mismatch');
      // A body the store refuses (too deep, say) is the client's mistake (400), not a server fault.
      throw storeToBlip(e);
    }
  }

  private onSubChanges(req: IncomingRequest): undefined {
    const collection = this.collectionFor(collectionIndex(req));
    const p = req.properties;
    if (p[Prop.versioning] && p[Prop.versioning] !== 'rev-trees') {
      throw new BlipError('HTTP', 501, `versioning ${p[Prop.versioning]} is not supported (only rev-trees)`);
    }
    if (p[Prop.filter]) throw new BlipError('HTTP', 501, `filter ${JSON.stringify(p[Prop.filter])} is not supported`);
    let since = 0;
    const sinceText = p[Prop.since];
    if (sinceText) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(sinceText);
      } catch {
        throw badRequest('since must be JSON');
      }
      if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < 0) throw badRequest(`since ${sinceText} is not a sequence of this peer`);
      since = parsed;
    }
    const body = jsonBody(req);
    let docIds: string[] | undefined;
    if (body !== undefined) {
      if (!isJsonObject(body)) throw badRequest('subChanges body must be a JSON object');
      if (body.docIDs !== undefined) {
        if (!Array.isArray(body.docIDs) || body.docIDs.some((d) => typeof d !== 'string')) throw badRequest('docIDs must be an array of strings');
        docIds = body.docIDs as string[];
      }
    }
    const batch = Number(p[Prop.batch] ?? Tuning.changesBatchSize);
    const sender = new Pusher(this.conn, collection, {
      mode: 'changes',
      since,
      continuous: isTrue(p[Prop.continuous]),
      batchSize: Number.isInteger(batch) && batch > 0 ? Math.min(batch, 1000) : Tuning.changesBatchSize,
      docIds,
      activeOnly: isTrue(p[Prop.activeOnly]),
      collectionIndex: collectionIndex(req),
    });
    sender.on('documentEnded', (e) => this.emit('documentEnded', e));
    sender.on('progress', () => this.updateBusy());
    sender.on('caughtUp', () => this.updateBusy());
    sender.on('failed', () => this.conn.close(1011, 'sending changes failed'));
    this.feeds.get(collection)?.stop();
    this.feeds.set(collection, sender);
    // Start after this handler's (empty) reply is queued, so the reply precedes the first changes.
    // Unless a later subChanges has replaced it by then (both may arrive in one read).
    queueMicrotask(() => {
      if (!this.closed && this.feeds.get(collection) === sender) sender.start();
    });
    return undefined;
  }

  private updateBusy(): void {
    let busy = !this.puller.isIdle;
    for (const s of this.feeds.values()) busy ||= !s.isCaughtUp;
    if (busy !== this.busy) {
      this.busy = busy;
      this.emit('activity', busy);
    }
  }
}
