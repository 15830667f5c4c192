/**
 * The Couchbase Mobile replication protocol (rev-tree flavour) as it runs over BLIP: message
 * profiles, property names, body shapes, and validators for everything a peer may send. Declared
 * once; the Pusher, the Puller (with its RevFinder and Inserter), the passive peer and the
 * replicator all import from here.
 */
import { createHash } from 'node:crypto';
import { BlipError } from '../blip';
import type { IncomingRequest } from '../blip';

export const SUBPROTOCOL = 'BLIP_3+CBMobile_3';

export const Profile = {
  getCheckpoint: 'getCheckpoint',
  setCheckpoint: 'setCheckpoint',
  getCollections: 'getCollections',
  subChanges: 'subChanges',
  changes: 'changes',
  proposeChanges: 'proposeChanges',
  rev: 'rev',
  norev: 'norev',
  getAttachment: 'getAttachment',
  proveAttachment: 'proveAttachment',
} as const;

export const Prop = {
  client: 'client',
  rev: 'rev',
  collection: 'collection',
  since: 'since',
  continuous: 'continuous',
  batch: 'batch',
  activeOnly: 'activeOnly',
  versioning: 'versioning',
  filter: 'filter',
  maxHistory: 'maxHistory',
  id: 'id',
  history: 'history',
  deleted: 'deleted',
  sequence: 'sequence',
  noconflicts: 'noconflicts',
  error: 'error',
  reason: 'reason',
  /** In `changes`/`proposeChanges` replies: blobs may be sent as they are, without legacy `_attachments` stubs. */
  blobs: 'blobs',
  /** getAttachment / proveAttachment: the blob's `sha1-…` digest. */
  digest: 'digest',
  /** getAttachment: the document whose revision references the blob. */
  docID: 'docID',
  /** getAttachment: the reply may be compressed. */
  compress: 'compress',
} as const;

/** Protocol defaults (LiteCore's ReplicatorTuning). */
export const Tuning = {
  changesBatchSize: 200,
  maxChangeListsInFlight: 5,
  maxRevsInFlight: 10,
  maxRevBytesAwaitingReply: 2 * 1024 * 1024,
  maxHistory: 50,
  insertionBatchSize: 100,
  insertionDelayMs: 20,
  checkpointSaveDelayMs: 5000,
  /** getAttachment / proveAttachment requests one connection has outstanding at once. */
  maxBlobRequestsInFlight: 4,
  /** Blob bytes one connection holds in replies being transmitted; one blob is always allowed. */
  maxBlobBytesBeingServed: 16 * 1024 * 1024,
  /** proveAttachment nonce size (the protocol allows 1–255 bytes). */
  proofNonceBytes: 16,
} as const;

/**
 * What proves possession of a blob without sending it: `sha1-` + base64 of SHA-1(nonce length as
 * one byte ‖ nonce ‖ content). Fed the content piece by piece.
 */
export function blobProof(nonce: Uint8Array, feed: (update: (chunk: Uint8Array) => void) => void): string {
  const hash = createHash('sha1');
  hash.update(Uint8Array.of(nonce.length & 0xff));
  hash.update(nonce);
  feed((chunk) => hash.update(chunk));
  return `sha1-${hash.digest('base64')}`;
}

/** A sequence as the peer sends it: opaque JSON (PeerSync's own are integers). */
export type RemoteSequence = number | string | (number | string)[];

/** `changes` body entry: [sequence, docID, revID, deleted?, bodySize?]. */
export type ChangeEntry = [RemoteSequence, string, string, (0 | 1 | boolean)?, number?];
/** `proposeChanges` body entry: [docID, revID, serverRevID?, bodySize?]. */
export type ProposedChange = [string, string, string?, number?];

/** proposeChanges reply statuses. */
export const ProposeStatus = { send: 0, haveIt: 304, conflict: 409 } as const;

/** A `changes` reply entry: the ancestors the receiver has (wanted), or 0 (not wanted). */
export type ChangesReplyEntry = string[] | 0 | null;

/** The checkpoint document kept on both peers. */
export interface CheckpointBody {
  /** When it was saved (ms since epoch). */
  time?: number;
  /** Last local sequence whose push is complete. */
  local?: number;
  /** Last remote sequence whose pull is complete. */
  remote?: RemoteSequence | null;
}

export function badRequest(message: string): BlipError {
  return new BlipError('HTTP', 400, message);
}

function isSequence(v: unknown): v is RemoteSequence {
  return typeof v === 'number' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string'));
}

/** Validates a `changes` body. */
export function parseChanges(req: IncomingRequest): ChangeEntry[] {
  const body = jsonBody(req);
  if (!Array.isArray(body)) throw badRequest('changes body must be a JSON array');
  return body.map((e: unknown, i) => {
    if (!Array.isArray(e) || e.length < 3 || !isSequence(e[0]) || typeof e[1] !== 'string' || typeof e[2] !== 'string') {
      throw badRequest(`changes entry ${i} must be [sequence, docID, revID, deleted?, bodySize?]`);
    }
    return e as ChangeEntry;
  });
}

/** Validates a `proposeChanges` body. */
export function parseProposedChanges(req: IncomingRequest): ProposedChange[] {
  const body = jsonBody(req);
  if (!Array.isArray(body)) throw badRequest('proposeChanges body must be a JSON array');
  return body.map((e: unknown, i) => {
    if (!Array.isArray(e) || e.length < 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string' || (e[2] !== undefined && typeof e[2] !== 'string')) {
      throw badRequest(`proposeChanges entry ${i} must be [docID, revID, serverRevID?, bodySize?]`);
    }
    return e as ProposedChange;
  });
}

/** A `rev` message's metadata, validated. The body stays as the bytes received, for the store's rules to decode and check. */
export interface RevMessage {
  readonly docId: string;
  readonly revId: string;
  /** Ancestors, newest first, not including revId itself. */
  readonly history: string[];
  readonly deleted: boolean;
  readonly sequence: RemoteSequence | undefined;
  readonly noConflicts: boolean;
  readonly body: Uint8Array;
}

export function parseRev(req: IncomingRequest): RevMessage {
  const p = req.properties;
  const docId = p[Prop.id];
  const revId = p[Prop.rev];
  if (!docId || !revId) throw badRequest('rev message needs id and rev properties');
  const historyProp = p[Prop.history];
  const history = historyProp
    ? historyProp
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h.length > 0)
    : [];
  let sequence: RemoteSequence | undefined;
  const seqProp = p[Prop.sequence];
  if (seqProp !== undefined) {
    try {
      const parsed: unknown = JSON.parse(seqProp);
      if (!isSequence(parsed)) throw new Error('not a sequence');
      sequence = parsed;
    } catch {
      throw badRequest(`rev message has an invalid sequence ${JSON.stringify(seqProp)}`);
    }
  }
  return {
    docId,
    revId,
    history,
    deleted: isTrue(p[Prop.deleted]),
    sequence,
    noConflicts: isTrue(p[Prop.noconflicts]),
    body: req.body.length === 0 ? EMPTY_BODY : req.body,
  };
}

const EMPTY_BODY = Buffer.from('{}');

export function isTrue(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

/** The `collection` property: an index into the list agreed by getCollections (undefined in legacy mode). */
export function collectionIndex(req: IncomingRequest): number | undefined {
  const v = req.properties[Prop.collection];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid collection index ${JSON.stringify(v)}`);
  return n;
}

export function jsonBody(req: IncomingRequest): unknown {
  if (req.body.length === 0) return undefined;
  try {
    return req.json();
  } catch {
    throw badRequest(`${req.profile ?? 'message'} body is not valid JSON`);
  }
}
