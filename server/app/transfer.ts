/**
 * Import and export formats, decided once: import reads JSON lines or one JSON array of objects,
 * export writes JSON lines `{"_id","_rev",...body}`. Where the bytes come from or go (a file on the
 * server, the CLI's stdin or stdout) is the caller's business.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { StoreError, type Collection, type Database, type JsonObject } from '../store';
import { isJsonObject } from '../store/canonical-json';

/** Documents per durable transaction when importing (each batch lands whole or not at all). */
export const DEFAULT_IMPORT_BATCH = 1000;
/** Largest ImportBatch a client may send at once. */
export const MAX_IMPORT_BATCH = 10_000;

/**
 * Reads records from JSON lines or one JSON array and yields them in batches. A malformed record
 * fails with the count of records before it, so the caller can say what was already imported.
 */
export async function* readImportBatches(input: Readable, batchSize: number): AsyncGenerator<JsonObject[]> {
  let batch: JsonObject[] = [];
  let yielded = 0;
  let lineNo = 0;
  let arrayText: string[] | undefined;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (arrayText) {
      arrayText.push(line);
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    if (yielded === 0 && batch.length === 0 && trimmed.startsWith('[')) {
      arrayText = [line];
      continue;
    }
    const before = yielded + batch.length;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      if (batch.length > 0) yield batch;
      throw new StoreError('INVALID_DOCUMENT', `line ${lineNo}: invalid JSON (${(e as Error).message}); ${before} documents imported before it`);
    }
    if (!isJsonObject(value)) {
      if (batch.length > 0) yield batch;
      throw new StoreError('INVALID_DOCUMENT', `line ${lineNo}: expected a JSON object; ${before} documents imported before it`);
    }
    batch.push(value);
    if (batch.length >= batchSize) {
      yield batch;
      yielded += batch.length;
      batch = [];
    }
  }
  if (arrayText) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(arrayText.join('\n'));
    } catch (e) {
      throw new StoreError('INVALID_DOCUMENT', `input is not a valid JSON array: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new StoreError('INVALID_DOCUMENT', 'input starting with "[" must be a JSON array of objects');
    for (const [i, item] of (parsed as unknown[]).entries()) {
      if (!isJsonObject(item)) {
        if (batch.length > 0) yield batch;
        throw new StoreError('INVALID_DOCUMENT', `array element ${i} is not a JSON object (${i} documents imported before it)`);
      }
      batch.push(item);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Saves import records in one durable transaction: `_id` names the document (a new ID is generated
 * otherwise) and other `_` keys (`_rev`, …, as export writes them) are dropped.
 */
export function saveImportBatch(db: Database, collection: Collection, records: readonly Readonly<Record<string, unknown>>[]): number {
  const bodies = records.map((raw, i) => {
    if (!isJsonObject(raw)) throw new StoreError('INVALID_DOCUMENT', `record ${i} is not a JSON object`);
    return { id: typeof raw._id === 'string' ? raw._id : undefined, body: withoutUnderscoreKeys(raw) };
  });
  db.inBatch(() => {
    for (const { id, body } of bodies) collection.save(id !== undefined ? { id, body } : { body });
  });
  return bodies.length;
}

/** A record's body: every key but the `_` ones (`_id`, `_rev`, … as export writes them). */
export function withoutUnderscoreKeys(record: Readonly<Record<string, unknown>>): JsonObject {
  const body: JsonObject = {};
  for (const [k, v] of Object.entries(record)) if (!k.startsWith('_')) body[k] = v as JsonObject[string];
  return body;
}

/** A page of export records after `after`, in document ID order. */
export function exportPage(collection: Collection, after: string, limit: number): JsonObject[] {
  return collection.allDocs({ after, limit }).map((d) => exportRecord(d.id, d.revId, d.body));
}

/**
 * `_id` and `_rev` first, then the body. Bodies cannot hold `_` names at the top level any more, but
 * one saved by an older version might: the document's own ID and revision must still win.
 */
function exportRecord(id: string, rev: string, body: JsonObject | undefined): JsonObject {
  const record: JsonObject = { _id: id, _rev: rev };
  for (const [key, value] of Object.entries(body ?? {})) if (!key.startsWith('_')) record[key] = value;
  return record;
}

/** Writes pages of records as JSON lines, honouring back-pressure; returns how many were written. */
export async function writeJsonLines(pages: AsyncIterable<readonly JsonObject[]> | Iterable<readonly JsonObject[]>, out: NodeJS.WritableStream, onPage?: (written: number) => void): Promise<number> {
  let written = 0;
  for await (const page of pages) {
    let chunk = '';
    for (const record of page) chunk += JSON.stringify(record) + '\n';
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
    written += page.length;
    onPage?.(written);
  }
  return written;
}

/** Every export record of a collection, page by page. */
export function* exportPages(collection: Collection, pageSize = 1000): Generator<JsonObject[]> {
  let after = '';
  for (;;) {
    const page = exportPage(collection, after, pageSize);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!._id as string;
  }
}
