import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../../helpers/cli';

/** A document as `peersync db get --json` prints it. */
export interface PeersyncDoc {
  id: string;
  revId: string;
  deleted: boolean;
  conflicted: boolean;
  body: Record<string, unknown>;
}

function ok(args: string[], input?: string): string {
  const r = cli(args, input === undefined ? {} : { input });
  if (r.status !== 0) throw new Error(`peersync ${args.join(' ')} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Creates a database with these documents (before `serve` takes its lock). */
export function makePeersyncDb(path: string, docs: Record<string, unknown> = {}): string {
  ok(['db', 'create', '--db', path]);
  const lines = Object.entries(docs).map(([id, body]) => JSON.stringify({ ...(body as object), _id: id }));
  if (lines.length > 0) ok(['db', 'import', '-', '--db', path], lines.join('\n'));
  return path;
}

/** A document, including a tombstone; undefined when the database has never seen it. Needs the database unlocked. */
export function peersyncGet(db: string, docId: string): PeersyncDoc | undefined {
  const r = cli(['db', 'get', docId, '--db', db, '--json', '--include-deleted']);
  if (r.status === 3) return undefined;
  if (r.status !== 0) throw new Error(`peersync db get ${docId} exited with ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as PeersyncDoc;
}

export function peersyncCount(db: string): number {
  const info = JSON.parse(ok(['db', 'info', '--db', db, '--json'])) as { collections: { name: string; documents: number }[] };
  return info.collections.find((c) => c.name === '_default._default')!.documents;
}

export function peersyncPut(db: string, docId: string, body: unknown): void {
  ok(['db', 'put', docId, JSON.stringify(body), '--db', db]);
}

export function peersyncDelete(db: string, docId: string): void {
  ok(['db', 'delete', docId, '--db', db]);
}

/**
 * Another PeerSync peer of a running listener. `serve` holds its database's lock, so edits "on the
 * PeerSync side" while it runs arrive the way they would in use: replicated in from a peer.
 */
export class PeersyncPeer {
  /** `trust`: replicate options for a wss:// listener, e.g. `['--ca', 'listener.pem']`. */
  constructor(
    readonly db: string,
    readonly url: string,
    private readonly trust: readonly string[] = [],
  ) {
    ok(['db', 'create', '--db', db]);
  }

  pull(): void {
    ok(['replicate', '--db', this.db, '--target', this.url, '--pull', '--max-attempts', '1', ...this.trust]);
  }

  push(): void {
    ok(['replicate', '--db', this.db, '--target', this.url, '--push', '--max-attempts', '1', ...this.trust]);
  }

  /** Brings the listener's documents in, applies `edit` here, and pushes the result back. */
  edit(edit: (db: string) => void): void {
    this.pull();
    edit(this.db);
    this.push();
  }

  get(docId: string): PeersyncDoc | undefined {
    return peersyncGet(this.db, docId);
  }
}

/** Writes `count` documents of about `bytes` bytes each as JSON lines (`_id` = `doc-<n>`). */
export function writeJsonLines(dir: string, name: string, count: number, bytes: number): string {
  const path = join(dir, name);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = { _id: `doc-${String(i).padStart(6, '0')}`, n: i, name: `document ${i}`, pad: '' };
    base.pad = 'x'.repeat(Math.max(0, bytes - JSON.stringify(base).length));
    lines.push(JSON.stringify(base));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
