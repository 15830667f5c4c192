import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { builtInResolvers, isStoreError, RESOLUTIONS_KEPT, StoreError, type Document, type JsonObject, type Resolution } from '../store';
import { asRevId } from '../store/rev-id';
import { canonicalJson, isJsonObject } from '../store/canonical-json';
import * as P from '../rpc/protocol';
import { AppError, invalid, notFound } from './app-error';
import type { DatabaseRegistry } from './databases';
import { listDocumentBlobs, readDocumentBlob } from './document-blobs';
import { documentData, documentSummary, resolvedConflict, revisionNode } from './dto';
import { requireAbsolute, requireExistingFile } from './paths';
import type { SchemaService } from './schemas';
import { withQueryErrors } from './queries';
import { filterDocumentIds } from '../query/document-filter';
import { DEFAULT_IMPORT_BATCH, MAX_IMPORT_BATCH, exportPage, exportPages, readImportBatches, saveImportBatch, withoutUnderscoreKeys, writeJsonLines } from './transfer';

/** Most documents one ListDocuments or ExportPage returns. */
const MAX_PAGE = 1000;

/** Documents, conflicts, blobs, import and export: the rules every front end shares. */
export class DocumentService {
  constructor(
    private readonly databases: DatabaseRegistry,
    private readonly schemas: SchemaService,
  ) {}

  list(p: { db: string; collection: string; after?: string; limit: number; includeDeleted?: boolean; prefix?: string; where?: string }): { docs: P.DocumentSummary[]; total: number } {
    const coll = this.databases.collection(p.db, p.collection);
    if (p.where !== undefined && p.where.trim() !== '') {
      // Filtering the page afterwards would end paging early: one filter at a time.
      if (p.prefix) throw invalid('filter by an ID prefix or by a condition, not both');
      const ids = withQueryErrors(() => filterDocumentIds(this.databases.get(p.db), coll, p.where!, { after: p.after ?? '', limit: clampPage(p.limit) }));
      const docs = ids.map((id) => coll.get(id)).filter((d): d is Document => d !== undefined);
      return { docs: docs.map(documentSummary), total: coll.count() };
    }
    const docs = coll.allDocs({ after: p.after ?? '', limit: clampPage(p.limit), includeDeleted: p.includeDeleted === true, ...(p.prefix ? { prefix: p.prefix } : {}) });
    return { docs: docs.map(documentSummary), total: coll.count() };
  }

  get(p: P.DocumentRef & { rev?: string }): P.DocumentData | null {
    const d = this.databases.collection(p.db, p.collection).get(p.docId, { includeDeleted: true, ...(p.rev ? { rev: p.rev } : {}) });
    return d ? documentData(d) : null;
  }

  /**
   * A new revision on `baseRevId`; a stale base is a CONFLICT (with the current revision) unless
   * `force`. Saving the current body again is not an edit: no revision is made (it would replicate).
   */
  save(p: P.DocumentRef & { baseRevId: string | null; body: Record<string, unknown>; force?: boolean }): P.DocumentData {
    const coll = this.databases.collection(p.db, p.collection);
    this.schemas.check(this.databases.get(p.db), p.collection, p.body);
    const current = coll.get(p.docId);
    if (current?.body && current.revId === p.baseRevId && isJsonObject(p.body) && canonicalJson(current.body) === canonicalJson(p.body as JsonObject)) return documentData(current);
    try {
      return documentData(coll.save({ id: p.docId, revId: p.baseRevId, body: p.body as JsonObject }, p.force ? 'lastWriteWins' : 'failOnConflict'));
    } catch (e) {
      if (isStoreError(e, 'CONFLICT')) {
        const data: P.ConflictErrorData = { currentRevId: coll.get(p.docId, { includeDeleted: true })?.revId ?? null };
        throw new AppError('CONFLICT', e.message, data);
      }
      throw e;
    }
  }

  delete(p: P.DocumentRef & { baseRevId?: string }): P.DocumentData {
    const coll = this.databases.collection(p.db, p.collection);
    return documentData(coll.delete(p.docId, p.baseRevId ? { revId: p.baseRevId, concurrency: 'failOnConflict' } : {}));
  }

  purge(p: P.DocumentRef): void {
    if (!this.databases.collection(p.db, p.collection).purge(p.docId)) throw notFound(`document ${JSON.stringify(p.docId)} not found`);
  }

  revisionTree(p: P.DocumentRef): P.RevisionNode[] | null {
    return this.databases.collection(p.db, p.collection).getRevisionHistory(p.docId)?.map(revisionNode) ?? null;
  }

  listConflicts(p: { db?: string; collection?: string }): P.ConflictRef[] {
    const dbs = p.db !== undefined ? [this.databases.get(p.db)] : this.databases.list();
    return dbs.flatMap((db) =>
      (p.collection !== undefined ? [db.requireCollection(p.collection)] : db.collections()).flatMap((coll) =>
        coll.conflicts().map((x) => ({ db: db.name, collection: coll.fullName, docId: x.docId, revId: x.revId })),
      ),
    );
  }

  getConflict(p: P.DocumentRef): P.ConflictData | null {
    const coll = this.databases.collection(p.db, p.collection);
    const conflict = coll.getConflict(p.docId);
    if (!conflict) return null;
    const side = (s: typeof conflict.local): P.ConflictSide => ({ revId: s.revId, deleted: s.deleted, body: s.body ?? null });
    return {
      ...p,
      local: side(conflict.local),
      remote: side(conflict.remote),
      others: (conflict.others ?? [conflict.remote]).map(side),
      tree: (coll.getRevisionHistory(p.docId) ?? []).map(revisionNode),
    };
  }

  async resolve(p: P.DocumentRef & { resolution: P.ConflictResolution }): Promise<P.DocumentData> {
    const coll = this.databases.collection(p.db, p.collection);
    const r = p.resolution;
    let d: Document | undefined;
    if (r.kind === 'resolver') {
      const resolver = builtInResolvers[r.name];
      if (!resolver) throw invalid(`unknown resolver ${JSON.stringify(r.name)} (one of ${Object.keys(builtInResolvers).join(', ')})`);
      d = await coll.resolveWith(p.docId, resolver);
      if (!d) throw new StoreError('NOT_IN_CONFLICT', `document ${JSON.stringify(p.docId)} is not in conflict`);
    } else {
      const resolution: Resolution = r.kind === 'winner' ? { winner: asRevId(r.revId) } : r.kind === 'merged' ? { merged: r.body as JsonObject } : { delete: true };
      d = coll.resolveConflict(p.docId, resolution);
    }
    return documentData(d);
  }

  resolutions(p: { db: string; collection?: string; limit?: number; before?: number }): P.ResolvedConflict[] {
    const db = this.databases.get(p.db);
    const collection = p.collection !== undefined ? db.requireCollection(p.collection).fullName : undefined;
    return db
      .resolutions({ ...(collection !== undefined ? { collection } : {}), ...(p.limit !== undefined ? { limit: p.limit } : {}), ...(p.before !== undefined ? { before: p.before } : {}) })
      .map((r) => resolvedConflict(db.name, r));
  }

  /** Brings a discarded branch back: its body becomes a new revision on top of the document's current one. */
  restoreDiscarded(p: { db: string; recordId: number; revId: string }): P.DocumentData {
    const db = this.databases.get(p.db);
    const record = db.resolution(p.recordId);
    if (!record) throw notFound(`no resolution record ${p.recordId} in ${db.name} (only the last ${RESOLUTIONS_KEPT} are kept)`);
    const branch = record.discarded.find((d) => d.revId === p.revId);
    if (!branch) throw notFound(`resolution ${p.recordId} did not discard revision ${p.revId}`);
    const coll = db.requireCollection(record.collection);
    const current = coll.get(record.docId, { includeDeleted: true });
    if (branch.deleted || branch.body === null) return documentData(coll.delete(record.docId, current ? { revId: current.revId } : {}));
    return documentData(coll.save({ id: record.docId, revId: current?.revId ?? null, body: branch.body as JsonObject }, 'lastWriteWins'));
  }

  listBlobs(p: P.DocumentRef): P.BlobInfo[] {
    return listDocumentBlobs(this.databases.get(p.db), this.databases.collection(p.db, p.collection), p.docId);
  }

  readBlob(p: P.DocumentRef & { digest: string }): P.BlobContent {
    return readDocumentBlob(this.databases.get(p.db), this.databases.collection(p.db, p.collection), p.docId, p.digest);
  }

  importBatch(p: { db: string; collection: string; records: readonly Record<string, unknown>[] }): { imported: number } {
    if (!Array.isArray(p.records)) throw invalid('records must be an array of JSON objects');
    if (p.records.length > MAX_IMPORT_BATCH) throw new AppError('TOO_LARGE', `at most ${MAX_IMPORT_BATCH} records per batch (got ${p.records.length})`);
    const db = this.databases.get(p.db);
    const check = this.schemas.checker(db, p.collection);
    for (const r of p.records) check(withoutUnderscoreKeys(r));
    return { imported: saveImportBatch(db, this.databases.collection(p.db, p.collection), p.records) };
  }

  /** Imports a file on this machine, batch by batch (an error keeps every batch before it). */
  async importFile(p: { db: string; collection: string; file: string }): Promise<{ imported: number; batches: number }> {
    const file = requireExistingFile(p.file, 'the import file');
    const db = this.databases.get(p.db);
    const coll = this.databases.collection(p.db, p.collection);
    let imported = 0;
    let batches = 0;
    for await (const batch of readImportBatches(createReadStream(file), DEFAULT_IMPORT_BATCH)) {
      const check = this.schemas.checker(db, p.collection);
      for (const r of batch) check(withoutUnderscoreKeys(r));
      imported += saveImportBatch(db, coll, batch);
      batches++;
    }
    return { imported, batches };
  }

  exportPage(p: { db: string; collection: string; after?: string; limit: number }): { records: Record<string, unknown>[]; total: number } {
    const coll = this.databases.collection(p.db, p.collection);
    return { records: exportPage(coll, p.after ?? '', clampPage(p.limit)), total: coll.count() };
  }

  /** Exports to a file on this machine. */
  async exportFile(p: { db: string; collection: string; file: string }): Promise<{ exported: number }> {
    requireAbsolute(p.file, 'the export file');
    const coll = this.databases.collection(p.db, p.collection);
    const out = createWriteStream(p.file);
    const exported = await writeJsonLines(exportPages(coll), out);
    out.end();
    await once(out, 'finish');
    return { exported };
  }
}

function clampPage(limit: number): number {
  return Math.min(Math.max(1, Number.isInteger(limit) ? limit : MAX_PAGE), MAX_PAGE);
}
