import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { notFound } from '../app/app-error';
import { DEFAULT_IMPORT_BATCH, MAX_IMPORT_BATCH, readImportBatches, writeJsonLines } from '../app/transfer';
import * as P from '../rpc/protocol';
import { builtInResolvers, type JsonObject } from '../store';
import { parseJsonObject } from '../store/canonical-json';
import { withAppClient, type AppClient } from './app-client';
import { UsageError, type CommandContext, type CommandSpec } from './command';
import { plural } from './plural';
import { ProgressBar } from './progress';
import { readBody } from './read-input';

const DEFAULT_COLLECTION = '_default._default';

const collectionOption = { collection: { type: 'string' as const, short: 'c', description: 'collection as scope.name or name (default _default)', valueName: 'NAME' } };

function collectionOf(ctx: CommandContext): string {
  return typeof ctx.values.collection === 'string' ? ctx.values.collection : DEFAULT_COLLECTION;
}

function docRef(client: AppClient, ctx: CommandContext, docId: string): P.DocumentRef {
  return { db: client.db, collection: collectionOf(ctx), docId };
}

function needArg(ctx: CommandContext, index: number, what: string, spec: string): string {
  const v = ctx.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what} (usage: peersync ${spec})`);
  return v;
}

function describeDoc(d: P.DocumentSummary): string {
  return `${d.id} ${d.revId}${d.deleted ? ' (deleted)' : ''}${d.conflicted ? ' (conflicted)' : ''}`;
}

export const dbCommands: CommandSpec[] = [
  {
    name: 'db create',
    summary: 'Create a new, empty database (a directory).',
    options: { 'with-collection': { type: 'string', multiple: true, description: 'also create this collection (repeatable)', valueName: 'NAME' } },
    async run(ctx) {
      await withAppClient(
        ctx.values,
        async (c) => {
          for (const name of (ctx.values['with-collection'] as string[] | undefined) ?? []) await c.sendRequest(P.CreateCollection, { db: c.db, name });
          const info = await c.sendRequest(P.GetDatabaseInfo, { db: c.db });
          ctx.out.result(info, () => `created database ${info.name} at ${info.path} (uuid ${info.uuid})`);
        },
        { create: true, exclusive: true },
      );
    },
  },
  {
    name: 'db create-collection',
    summary: 'Create a collection (scope.name, or name in the default scope).',
    args: 'NAME',
    async run(ctx) {
      const name = needArg(ctx, 0, 'collection name', 'db create-collection NAME');
      await withAppClient(ctx.values, async (c) => {
        const info = await c.sendRequest(P.CreateCollection, { db: c.db, name });
        ctx.out.result(info, () => `collections of ${info.name}: ${info.collections.map((x) => x.name).join(', ')}`);
      });
    },
  },
  {
    name: 'db delete-collection',
    summary: 'Delete a collection and its documents (not the default collection).',
    args: 'NAME',
    async run(ctx) {
      const name = needArg(ctx, 0, 'collection name', 'db delete-collection NAME');
      await withAppClient(ctx.values, async (c) => {
        const info = await c.sendRequest(P.DeleteCollection, { db: c.db, name });
        ctx.out.result(info, () => `deleted ${name}; collections of ${info.name}: ${info.collections.map((x) => x.name).join(', ')}`);
      });
    },
  },
  {
    name: 'db info',
    summary: 'Show the database location, UUID and its collections with document counts.',
    async run(ctx) {
      await withAppClient(ctx.values, async (c) => {
        const info = await c.sendRequest(P.GetDatabaseInfo, { db: c.db });
        ctx.out.result(info, () =>
          [
            `database ${info.name}${c.server ? `  (served by PeerSync process ${c.server.pid})` : ''}`,
            `  path  ${info.path}`,
            `  uuid  ${info.uuid}`,
            `  size  ${mib(info.imageBytes)} (plus ${mib(info.journalBytes)} of journal)`,
            ...info.collections.map((col) => `  ${col.name}: ${plural(col.documents, 'document')}, last sequence ${col.lastSequence}, ${col.conflicts} in conflict`),
          ].join('\n'),
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
      await withAppClient(ctx.values, async (c) => {
        const ref = docRef(c, ctx, id);
        const baseRevId = (ctx.values.rev as string | undefined) ?? (await c.sendRequest(P.GetDocument, ref))?.revId ?? null;
        const d = await c.sendRequest(P.SaveDocument, { ...ref, baseRevId, body, force: ctx.values['fail-on-conflict'] !== true });
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
      await withAppClient(ctx.values, async (c) => {
        const rev = ctx.values.rev as string | undefined;
        const d = await c.sendRequest(P.GetDocument, { ...docRef(c, ctx, id), ...(rev ? { rev } : {}) });
        if (!d || (d.deleted && rev === undefined && ctx.values['include-deleted'] !== true)) {
          throw notFound(`document ${JSON.stringify(id)}${rev ? ` revision ${rev}` : ''} not found${d?.deleted ? ' (it is deleted; --include-deleted shows it)' : ''}`);
        }
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
      await withAppClient(ctx.values, async (c) => {
        const rev = ctx.values.rev as string | undefined;
        const d = await c.sendRequest(P.DeleteDocument, { ...docRef(c, ctx, id), ...(rev ? { baseRevId: rev } : {}) });
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
      await withAppClient(ctx.values, async (c) => {
        await c.sendRequest(P.PurgeDocument, docRef(c, ctx, id));
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
      prefix: { type: 'string', description: 'only documents whose ID starts with this', valueName: 'TEXT' },
      'include-deleted': { type: 'boolean', description: 'include deleted documents' },
    },
    async run(ctx) {
      const limit = Number(ctx.values.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      await withAppClient(ctx.values, async (c) => {
        let after = (ctx.values.after as string | undefined) ?? '';
        let shown = 0;
        while (shown < limit) {
          const { docs } = await c.sendRequest(P.ListDocuments, {
            db: c.db,
            collection: collectionOf(ctx),
            after,
            limit: Math.min(1000, limit - shown),
            includeDeleted: ctx.values['include-deleted'] === true,
            ...(typeof ctx.values.prefix === 'string' ? { prefix: ctx.values.prefix } : {}),
          });
          if (docs.length === 0) break;
          if (ctx.out.json) for (const d of docs) ctx.out.result({ id: d.id, rev: d.revId, sequence: d.sequence, deleted: d.deleted, conflicted: d.conflicted });
          else ctx.out.line(docs.map(describeDoc).join('\n'));
          shown += docs.length;
          after = docs[docs.length - 1]!.id;
        }
        if (shown === 0 && !ctx.out.json) ctx.out.line('(no documents)');
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
      await withAppClient(ctx.values, async (c) => {
        const h = await c.sendRequest(P.GetRevisionTree, docRef(c, ctx, id));
        if (!h) throw notFound(`document ${JSON.stringify(id)} not found`);
        const sorted = [...h].reverse();
        ctx.out.result(sorted, () =>
          sorted
            .map(
              (r) =>
                `${r.winner ? '*' : ' '} ${r.revId}  ← ${r.parentRevId ?? '(root)'}  seq ${r.sequence}${r.leaf ? ' leaf' : ''}${r.deleted ? ' deleted' : ''}${r.conflict ? ' conflict' : ''}${r.hasBody ? '' : ' (no body)'}`,
            )
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
      await withAppClient(ctx.values, async (c) => {
        const list = (await c.sendRequest(P.ListConflicts, { db: c.db, collection: collectionOf(ctx) })).map((x) => ({ docId: x.docId, revId: x.revId }));
        if (ctx.out.json) ctx.out.result(list);
        else ctx.out.line(list.length === 0 ? '(no conflicts)' : list.map((x) => `${x.docId} ${x.revId}`).join('\n'));
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
      if (typeof v.resolver === 'string' && !(v.resolver in builtInResolvers))
        throw new UsageError(`unknown resolver ${JSON.stringify(v.resolver)} (one of ${Object.keys(builtInResolvers).join(', ')})`);
      const resolution: P.ConflictResolution =
        typeof v.resolver === 'string'
          ? { kind: 'resolver', name: v.resolver as P.BuiltInResolverName }
          : typeof v.winner === 'string'
            ? { kind: 'winner', revId: v.winner }
            : typeof v.merged === 'string'
              ? { kind: 'merged', body: parseJsonObject(v.merged, '--merged') }
              : { kind: 'delete' };
      await withAppClient(ctx.values, async (c) => {
        const d = await c.sendRequest(P.ResolveConflict, { ...docRef(c, ctx, id), resolution });
        ctx.out.result({ id: d.id, rev: d.revId, deleted: d.deleted }, () => `resolved ${describeDoc(d)}`);
      });
    },
  },
  {
    name: 'db resolved',
    summary: 'List recorded conflict resolutions (automatic and manual), newest first, with what each discarded.',
    options: { ...collectionOption, limit: { type: 'string', short: 'n', description: 'at most N records (default 20)', valueName: 'N' } },
    async run(ctx) {
      const limit = Number(ctx.values.limit ?? 20);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      await withAppClient(ctx.values, async (c) => {
        const records = await c.sendRequest(P.ListResolvedConflicts, { db: c.db, limit, ...(typeof ctx.values.collection === 'string' ? { collection: ctx.values.collection } : {}) });
        if (ctx.out.json) for (const r of records) ctx.out.result(r);
        else if (records.length === 0) ctx.out.line('(no resolved conflicts)');
        else
          for (const r of records) {
            ctx.out.line(`#${r.id} ${new Date(r.time).toISOString()} ${r.docId} by ${r.resolver}: ${r.outcome} → ${r.resultRevId}`);
            for (const d of r.discarded) ctx.out.line(`    discarded ${d.revId}${d.deleted ? ' (deletion)' : ` ${JSON.stringify(d.body)}`}`);
          }
      });
    },
  },
  {
    name: 'db restore',
    summary: 'Bring back a branch a conflict resolution discarded, as a new revision of its document.',
    args: 'RECORD REV',
    async run(ctx) {
      const recordId = Number(needArg(ctx, 0, 'resolution record number (see peersync db resolved)', 'db restore RECORD REV'));
      const revId = needArg(ctx, 1, 'discarded revision ID', 'db restore RECORD REV');
      if (!Number.isInteger(recordId) || recordId < 1) throw new UsageError('RECORD is the number shown by peersync db resolved');
      await withAppClient(ctx.values, async (c) => {
        const d = await c.sendRequest(P.RestoreDiscarded, { db: c.db, recordId, revId });
        ctx.out.result({ id: d.id, rev: d.revId }, () => `restored ${revId} as ${describeDoc(d)}`);
      });
    },
  },
  {
    name: 'db schema',
    summary: "Show, set (--set FILE) or remove (--remove) the collection's JSON Schema; saves and imports must then match it.",
    options: {
      ...collectionOption,
      set: { type: 'string', description: 'a JSON Schema file', valueName: 'FILE' },
      remove: { type: 'boolean', description: 'remove the schema' },
    },
    async run(ctx) {
      if (ctx.values.set !== undefined && ctx.values.remove) throw new UsageError('choose --set FILE or --remove');
      await withAppClient(ctx.values, async (c) => {
        const where = { db: c.db, collection: collectionOf(ctx) };
        if (typeof ctx.values.set === 'string') {
          const schema = parseJsonObject(readFileSync(ctx.values.set, 'utf8'), ctx.values.set);
          await c.sendRequest(P.SetCollectionSchema, { ...where, schema });
          ctx.out.result({ ...where, schema }, () => `set the schema of ${where.collection} from ${String(ctx.values.set)}`);
        } else if (ctx.values.remove) {
          await c.sendRequest(P.SetCollectionSchema, { ...where, schema: null });
          ctx.out.result({ ...where, schema: null }, () => `removed the schema of ${where.collection}`);
        } else {
          const schema = await c.sendRequest(P.GetCollectionSchema, where);
          ctx.out.result(schema, () => (schema ? JSON.stringify(schema, null, 2) : `(no schema for ${where.collection})`));
        }
      });
    },
  },
  {
    name: 'db import',
    summary: 'Import documents from JSON lines or a JSON array (a file, or - for stdin).',
    args: 'FILE|-',
    details: 'Each object\'s "_id" becomes the document ID (else one is generated); other "_" keys are ignored. Each batch is one durable transaction: an error keeps every batch before it.',
    options: { ...collectionOption, batch: { type: 'string', description: `documents per transaction (default ${DEFAULT_IMPORT_BATCH}, at most ${MAX_IMPORT_BATCH})`, valueName: 'N' } },
    async run(ctx) {
      const source = needArg(ctx, 0, 'input file (or - for stdin)', 'db import FILE|-');
      if (source !== '-' && !existsSync(source)) throw notFound(`input file ${source} not found`);
      const batchSize = Number(ctx.values.batch ?? DEFAULT_IMPORT_BATCH);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_IMPORT_BATCH) throw new UsageError(`--batch must be an integer from 1 to ${MAX_IMPORT_BATCH}`);
      await withAppClient(ctx.values, async (c) => {
        const input: Readable = source === '-' ? process.stdin : createReadStream(source);
        const totalBytes = source === '-' ? undefined : statSync(source).size;
        let bytesRead = 0;
        input.on('data', (chunk: Buffer | string) => (bytesRead += chunk.length));
        const bar = new ProgressBar('importing', process.stderr.isTTY === true && !ctx.out.json);
        let imported = 0;
        let batches = 0;
        for await (const records of readImportBatches(input, batchSize)) {
          imported += (await c.sendRequest(P.ImportBatch, { db: c.db, collection: collectionOf(ctx), records })).imported;
          batches++;
          bar.update(totalBytes ? bytesRead : imported, totalBytes, totalBytes ? 'bytes' : 'docs');
        }
        bar.done();
        ctx.out.result({ imported, batches }, () => `imported ${plural(imported, 'document')} in ${plural(batches, 'batch', 'batches')}`);
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
      await withAppClient(ctx.values, async (c) => {
        const collection = collectionOf(ctx);
        const bar = new ProgressBar('exporting', process.stderr.isTTY === true && target !== '-');
        let total = 0;
        async function* pages(): AsyncGenerator<JsonObject[]> {
          let after = '';
          for (;;) {
            const page = await c.sendRequest(P.ExportPage, { db: c.db, collection, after, limit: 1000 });
            total = page.total;
            if (page.records.length === 0) return;
            yield page.records as JsonObject[];
            after = page.records[page.records.length - 1]!._id as string;
          }
        }
        const out = target === '-' ? process.stdout : createWriteStream(target);
        const n = await writeJsonLines(pages(), out, (written) => bar.update(written, total));
        bar.done();
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
          ctx.out.result({ exported: n, file: target }, () => `exported ${plural(n, 'document')} to ${target}`);
        }
      });
    },
  },
];

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
