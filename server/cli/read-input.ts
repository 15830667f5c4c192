import { readFileSync } from 'node:fs';
import { parseJsonObject } from '../store/canonical-json';
import type { JsonObject } from '../store';
import { UsageError } from './command';

/** Reads all of stdin (for `-` arguments). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A document body from an inline JSON argument, `--file F`, or `-` (stdin). */
export async function readBody(inline: string | undefined, file: string | undefined): Promise<JsonObject> {
  let text: string;
  let what: string;
  if (file !== undefined) {
    text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
    what = file === '-' ? 'stdin' : file;
  } else if (inline !== undefined) {
    text = inline === '-' ? await readStdin() : inline;
    what = inline === '-' ? 'stdin' : 'the JSON argument';
  } else {
    throw new UsageError('give the document body as a JSON argument, --file FILE, or - for stdin');
  }
  return parseJsonObject(text, `document body from ${what}`);
}
