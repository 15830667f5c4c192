import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import type { Collection, Database, JsonObject } from '../store';
import { StoreError } from '../store';
import { isJsonObject } from '../store/canonical-json';
import { ProgressBar } from './progress';

export interface ImportResult {
  readonly imported: number;
  readonly batches: number;
}

/**
 * Imports documents from JSON lines or one JSON array. `_id` names the document (a new ID is
 * generated otherwise); other `_`-prefixed keys (`_rev`, …, as written by export) are dropped.
 * Each batch is one durable transaction, so an error part-way keeps every earlier batch.
 */
export async function importDocuments(
  db: Database,
  collection: Collection,
  source: string,
  options: { batchSize: number; progress: boolean },
): Promise<ImportResult> {
  const input: Readable = source === '-' ? process.stdin : createReadStream(source);
  const totalBytes = source === '-' ? undefined : statSync(source).size;
  const bar = new ProgressBar('importing', options.progress);
  let imported = 0;
  let batches = 0;
  let batch: JsonObject[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const docs = batch;
    batch = [];
    db.inBatch(() => {
      for (const raw of docs) {
        const { _id, ...rest } = raw;
        const body: JsonObject = {};
        for (const [k, v] of Object.entries(rest)) if (!k.startsWith('_')) body[k] = v;
        collection.save(typeof _id === 'string' ? { id: _id, body } : { body });
      }
    });
    imported += docs.length;
    batches++;
  };

  let bytesRead = 0;
  input.on('data', (chunk: Buffer | string) => {
    bytesRead += chunk.length;
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let arrayText: string[] | undefined;
  for await (const line of lines) {
    lineNo++;
    if (arrayText) {
      arrayText.push(line);
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    if (imported === 0 && batch.length === 0 && trimmed.startsWith('[')) {
      arrayText = [line];
      continue;
    }
    batch.push(parseRecord(trimmed, `line ${lineNo}`, imported + batch.length));
    if (batch.length >= options.batchSize) {
      flush();
      bar.update(totalBytes ? bytesRead : imported, totalBytes, totalBytes ? 'bytes' : 'docs');
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
    for (let i = 0; i < parsed.length; i++) {
      const item: unknown = parsed[i];
      if (!isJsonObject(item)) throw new StoreError('INVALID_DOCUMENT', `array element ${i} is not a JSON object (${imported} documents imported before it)`);
      batch.push(item);
      if (batch.length >= options.batchSize) {
        flush();
        bar.update(imported, parsed.length);
      }
    }
  }
  flush();
  bar.update(totalBytes ?? imported, totalBytes);
  bar.done();
  return { imported, batches };

  function parseRecord(text: string, where: string, before: number): JsonObject {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      flush();
      throw new StoreError('INVALID_DOCUMENT', `${where}: invalid JSON (${(e as Error).message}); ${before} documents imported before it`);
    }
    if (!isJsonObject(value)) {
      flush();
      throw new StoreError('INVALID_DOCUMENT', `${where}: expected a JSON object; ${before} documents imported before it`);
    }
    return value;
  }
}

/** Writes every live document as one JSON line: `{"_id", "_rev", ...body}`. */
export async function exportDocuments(collection: Collection, target: string, options: { progress: boolean }): Promise<number> {
  const out = target === '-' ? process.stdout : createWriteStream(target);
  const total = collection.count();
  const bar = new ProgressBar('exporting', options.progress && target !== '-');
  let after = '';
  let written = 0;
  for (;;) {
    const page = collection.allDocs({ after, limit: 1000 });
    if (page.length === 0) break;
    let chunk = '';
    for (const d of page) chunk += JSON.stringify(exportRecord(d.id, d.revId, d.body)) + '\n';
    if (!out.write(chunk)) await once(out, 'drain');
    written += page.length;
    after = page[page.length - 1]!.id;
    bar.update(written, total);
  }
  bar.done();
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  return written;
}

/**
 * `_id` and `_rev` first, then the body. Bodies cannot hold `_` names at the top level any more, but
 * one saved by an older version might: the document's own ID and revision must still win.
 */
function exportRecord(id: string, rev: string, body: JsonObject | undefined): JsonObject {
  const record: JsonObject = { _id: id, _rev: rev };
  for (const key of Object.keys(body ?? {})) if (!key.startsWith('_')) record[key] = body![key]!;
  return record;
}
