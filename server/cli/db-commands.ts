import { existsSync, readdirSync } from 'node:fs';
import { Database, StoreError, builtInResolvers, type BuiltInResolverName, type Collection, type Document, type Resolution } from '../store';
import { parseJsonObject } from '../store/canonical-json';
import { asRevId } from '../store/rev-id';
import { UsageError, type CommandContext, type CommandSpec } from './command';
import { importDocuments, exportDocuments } from './import-export';
import { dbPathFrom, withDb } from './open-db';
import { readBody } from './read-input';

const collectionOption = { collection: { type: 'string' as const, short: 'c', description: 'collection as scope.name or name (default _default)', valueName: 'NAME' } };

function pickCollection(db: Database, ctx: CommandContext): Collection {
  const name = ctx.values.collection;
  return typeof name === 'string' ? db.requireCollection(name) : db.defaultCollection;
}

function needArg(ctx: CommandContext, index: number, what: string, spec: string): string {
  const v = ctx.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what} (usage: peersync ${spec})`);
  return v;
}

function describeDoc(d: Document): string {
  return `${d.id} ${d.revId}${d.deleted ? ' (deleted)' : ''}${d.conflicted ? ' (conflicted)' : ''}`;
}

export const dbCommands: CommandSpec[] = [
  {
    name: 'db create',
    summary: 'Create a new, empty database (a directory).',
    options: { 'with-collection': { type: 'string', multiple: true, description: 'also create this collection (repeatable)', valueName: 'NAME' } },
    async run(ctx) {
      const path = dbPathFrom(ctx.values);
      if (existsSync(path) && readdirSync(path).length > 0) throw new StoreError('EXISTS', `${path} already exists and is not empty`);
      const db = await Database.open(path);
      try {
        for (const c of (ctx.values['with-collection'] as string[] | undefined) ?? []) db.createCollection(c);
        const info = db.info();
        ctx.out.result(info, () => `created database ${info.name} at ${info.path} (uuid ${info.uuid})`);
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'db info',
    summary: 'Show the database location, UUID and its collections with document counts.',
    async run(ctx) {
      await withDb(ctx.values, (db) => {
        const info = db.info();
        ctx.out.result(info, () =>
          [`database ${info.name}`, `  path  ${info.path}`, `  uuid  ${info.uuid}`, `  size  ${mib(info.imageBytes)} (plus ${mib(info.journalBytes)} of journal)`, ...info.collections.map((c) => `  ${c.name}: ${c.documents} documents, last sequence ${c.lastSequence}, ${c.conflicts} in conflict`)].join('\n'),
        );
      });
    },
  },
  {
    name: 'db put',
    summary: 'Save a document (a new revision on top of the current one).',
    args: 'ID [JSON|-]',
    options: {
      ...collectionOption,
      file: { type: 'string', short: 'f', description: 'read the body from a file (- = stdin)', valueName: 'FILE' },
      rev: { type: 'string', description: 'the revision this edit is based on', valueName: 'REV' },
      'fail-on-conflict': { type: 'boolean', description: 'refuse if the document changed since --rev (default: last write wins)' },
    },
    async run(ctx) {
      const id = needArg(ctx, 0, 'document ID', 'db put ID [JSON|-]');
      const body = await readBody(ctx.positionals[1], ctx.values.file as string | undefined);
      await withDb(ctx.values, (db) => {
        const coll = pickCollection(db, ctx);
        const revId = (ctx.values.rev as string | undefined) ?? coll.get(id, { includeDeleted: true })?.revId ?? null;
        const d = coll.save({ id, revId, body }, ctx.values['fail-on-conflict'] ? 'failOnConflict' : 'lastWriteWins');
        ctx.out.result({ id: d.id, rev: d.revId, sequence: d.sequence }, () => `saved ${describeDoc(d)}`);
      });
    },
  },
  {
    name: 'db get',
    summary: 'Print a document body (with --json: the document with its metadata).',
    args: 'ID',
    options: { ...collectionOption, rev: { type: 'string', description: 'a specific revision', valueName: 'REV' }, 'include-deleted': { type: 'boolean', description: 'show a deleted document' } },
    async run(ctx) {
      const id = needArg(ctx, 0, 'document ID', 'db get ID');
      await withDb(ctx.values, (db) => {
        const rev = ctx.values.rev as string | undefined;
        const d = pickCollection(db, ctx).get(id, { ...(rev ? { rev } : {}), includeDeleted: ctx.values['include-deleted'] === true });
        if (!d) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)}${rev ? ` revision ${rev}` : ''} not found`);
        ctx.out.result(d, () => JSON.stringify(d.body ?? null, null, 2));
      });
    },
  },
  {
    name: 'db delete',
    summary: 'Delete a document (a tombstone revision that replicates).',
    args: 'ID',
    options: { ...collectionOption, rev: { type: 'string', description: 'refuse unless this is the current revision', valueName: 'REV' } },
    async run(ctx) {
      const id = needArg(ctx, 0, 'document ID', 'db delete ID');
      await withDb(ctx.values, (db) => {
        const rev = ctx.values.rev as string | undefined;
        const d = pickCollection(db, ctx).delete(id, rev ? { revId: rev, concurrency: 'failOnConflict' } : {});
        ctx.out.result({ id: d.id, rev: d.revId, sequence: d.sequence, deleted: true }, () => `deleted ${d.id} (tombstone ${d.revId})`);
      });
    },
  },
  {
    name: 'db purge',
    summary: 'Remove a document and all its history locally (not replicated).',
    args: 'ID',
    options: collectionOption,
    async run(ctx) {
      const id = needArg(ctx, 0, 'document ID', 'db purge ID');
      await withDb(ctx.values, (db) => {
        if (!pickCollection(db, ctx).purge(id)) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)} not found`);
        ctx.out.result({ id, purged: true }, () => `purged ${id}`);
      });
    },
  },
  {
    name: 'db ls',
    summary: 'List documents in ID order.',
    options: {
      ...collectionOption,
      limit: { type: 'string', short: 'n', description: 'at most N documents (default 100)', valueName: 'N' },
      after: { type: 'string', description: 'start after this document ID (paging)', valueName: 'ID' },
      'include-deleted': { type: 'boolean', description: 'include deleted documents' },
    },
    async run(ctx) {
      const limit = Number(ctx.values.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      await withDb(ctx.values, (db) => {
        const docs = pickCollection(db, ctx).allDocs({ limit, after: (ctx.values.after as string | undefined) ?? '', includeDeleted: ctx.values['include-deleted'] === true });
        if (ctx.out.json) for (const d of docs) ctx.out.result({ id: d.id, rev: d.revId, sequence: d.sequence, deleted: d.deleted, conflicted: d.conflicted });
        else ctx.out.line(docs.length === 0 ? '(no documents)' : docs.map(describeDoc).join('\n'));
      });
    },
  },
  {
    name: 'db history',
    summary: "Show a document's revision tree (newest first).",
    args: 'ID',
    options: collectionOption,
    async run(ctx) {
      const id = needArg(ctx, 0, 'document ID', 'db history ID');
      await withDb(ctx.values, (db) => {
        const h = pickCollection(db, ctx).getRevisionHistory(id);
        if (!h) throw new StoreError('NOT_FOUND', `document ${JSON.stringify(id)} not found`);
        const sorted = [...h].reverse();
        ctx.out.result(sorted, () =>
          sorted
            .map((r) => `${r.winner ? '*' : ' '} ${r.revId}  ← ${r.parentRevId ?? '(root)'}  seq ${r.sequence}${r.leaf ? ' leaf' : ''}${r.deleted ? ' deleted' : ''}${r.conflict ? ' conflict' : ''}${r.hasBody ? '' : ' (no body)'}`)
            .join('\n'),
        );
      });
    },
  },
  {
    name: 'db conflicts',
    summary: 'List documents with unresolved conflicts.',
    options: collectionOption,
    async run(ctx) {
      await withDb(ctx.values, (db) => {
        const list = pickCollection(db, ctx).conflicts();
        if (ctx.out.json) ctx.out.result(list);
        else ctx.out.line(list.length === 0 ? '(no conflicts)' : list.map((c) => `${c.docId} ${c.revId}`).join('\n'));
      });
    },
  },
  {
    name: 'db resolve',
    summary: 'Resolve a conflicted document.',
    args: 'ID',
    details: 'Choose exactly one of --winner, --merged, --delete or --resolver.',
    options: {
      ...collectionOption,
      winner: { type: 'string', description: 'keep this leaf revision', valueName: 'REV' },
      merged: { type: 'string', description: 'save this JSON body as the resolution', valueName: 'JSON' },
      delete: { type: 'boolean', description: 'resolve by deleting the document' },
      resolver: { type: 'string', description: `apply a built-in resolver: ${Object.keys(builtInResolvers).join(', ')}`, valueName: 'NAME' },
    },
    async run(ctx) {
      const id = needArg(ctx, 0, 'document ID', 'db resolve ID');
      const v = ctx.values;
      const chosen = ['winner', 'merged', 'delete', 'resolver'].filter((k) => v[k] !== undefined);
      if (chosen.length !== 1) throw new UsageError('choose exactly one of --winner REV, --merged JSON, --delete, --resolver NAME');
      await withDb(ctx.values, async (db) => {
        const coll = pickCollection(db, ctx);
        let d: Document | undefined;
        if (typeof v.resolver === 'string') {
          const r = builtInResolvers[v.resolver as BuiltInResolverName];
          if (!r) throw new UsageError(`unknown resolver ${JSON.stringify(v.resolver)} (one of ${Object.keys(builtInResolvers).join(', ')})`);
          d = await coll.resolveWith(id, r);
          if (!d) throw new StoreError('NOT_IN_CONFLICT', `document ${JSON.stringify(id)} is not in conflict`);
        } else {
          const resolution: Resolution =
            typeof v.winner === 'string' ? { winner: asRevId(v.winner) } : typeof v.merged === 'string' ? { merged: parseJsonObject(v.merged, '--merged') } : { delete: true };
          d = coll.resolveConflict(id, resolution);
        }
        const doc = d;
        ctx.out.result({ id: doc.id, rev: doc.revId, deleted: doc.deleted }, () => `resolved ${describeDoc(doc)}`);
      });
    },
  },
  {
    name: 'db import',
    summary: 'Import documents from JSON lines or a JSON array (a file, or - for stdin).',
    args: 'FILE|-',
    details: 'Each object\'s "_id" becomes the document ID (else one is generated); other "_" keys are ignored.',
    options: { ...collectionOption, batch: { type: 'string', description: 'documents per transaction (default 1000)', valueName: 'N' } },
    async run(ctx) {
      const source = needArg(ctx, 0, 'input file (or - for stdin)', 'db import FILE|-');
      if (source !== '-' && !existsSync(source)) throw new StoreError('NOT_FOUND', `input file ${source} not found`);
      const batchSize = Number(ctx.values.batch ?? 1000);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch must be a positive integer');
      await withDb(ctx.values, async (db) => {
        const r = await importDocuments(db, pickCollection(db, ctx), source, { batchSize, progress: process.stderr.isTTY === true && !ctx.out.json });
        ctx.out.result(r, () => `imported ${r.imported} documents in ${r.batches} batches`);
      });
    },
  },
  {
    name: 'db export',
    summary: 'Export live documents as JSON lines {"_id","_rev",...body} (a file, or stdout).',
    args: '[FILE|-]',
    options: collectionOption,
    async run(ctx) {
      const target = ctx.positionals[0] ?? '-';
      await withDb(ctx.values, async (db) => {
        const n = await exportDocuments(pickCollection(db, ctx), target, { progress: process.stderr.isTTY === true });
        if (target !== '-') ctx.out.result({ exported: n, file: target }, () => `exported ${n} documents to ${target}`);
      });
    },
  },
];

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
