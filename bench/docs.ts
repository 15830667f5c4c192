/**
 * Deterministic benchmark documents: the same index always yields the same ID and body, in this
 * process and in the fixture child processes, so every run (and every machine) writes identical data.
 */
import type { JsonObject } from '../server/store';

/** Target size of one body as JSON text (canonical JSON has the same length: only key order differs). */
export const DOC_BYTES = 1024;

const WORDS = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliet',
  'kilo',
  'lima',
  'mike',
  'november',
  'oscar',
  'papa',
  'quebec',
  'romeo',
  'sierra',
  'tango',
  'uniform',
  'victor',
  'whiskey',
  'yankee',
];
const CITIES = ['Lisbon', 'Oslo', 'Nairobi', 'Osaka', 'Quito', 'Tallinn', 'Perth', 'Montreal', 'Dakar', 'Hanoi'];
const COUNTRIES = ['PT', 'NO', 'KE', 'JP', 'EC', 'EE', 'AU', 'CA', 'SN', 'VN'];
const EPOCH_MS = Date.UTC(2024, 0, 1);

/** mulberry32: a tiny seeded PRNG (deterministic per document index). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function docId(i: number): string {
  return `doc-${String(i).padStart(7, '0')}`;
}

/** A body of several typed fields (strings, numbers, booleans, an array, a nested object), padded to `bytes`. */
export function makeBody(i: number, bytes = DOC_BYTES): JsonObject {
  const r = rng(i * 2654435761 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const first = pick(WORDS);
  const last = pick(WORDS);
  const city = Math.floor(r() * CITIES.length);
  const body: JsonObject = {
    type: 'customer',
    index: i,
    name: `${first} ${last}`,
    email: `${first}.${last}.${i}@example.com`,
    age: 18 + Math.floor(r() * 70),
    active: r() < 0.8,
    score: Math.round(r() * 1e6) / 100,
    tags: [pick(WORDS), pick(WORDS), pick(WORDS)],
    address: { street: `${1 + Math.floor(r() * 999)} ${pick(WORDS)} street`, city: CITIES[city]!, zip: String(10000 + Math.floor(r() * 89999)), country: COUNTRIES[city]! },
    createdAt: new Date(EPOCH_MS + i * 1000).toISOString(),
    history: [Math.floor(r() * 1000), Math.floor(r() * 1000), Math.floor(r() * 1000), Math.floor(r() * 1000)],
    notes: '',
  };
  const missing = bytes - JSON.stringify(body).length;
  let notes = '';
  while (notes.length < missing) notes += (notes ? ' ' : '') + pick(WORDS);
  body['notes'] = notes.slice(0, Math.max(0, missing));
  return body;
}

export interface DocSet {
  readonly ids: string[];
  readonly bodies: JsonObject[];
  /** The same bodies as JSON text (for the raw sql.js comparator, which stores text). */
  readonly jsons: string[];
  /** Mean body size in bytes of JSON. */
  readonly docBytes: number;
}

export function makeDocs(n: number, bytes = DOC_BYTES): DocSet {
  const ids: string[] = new Array<string>(n);
  const bodies: JsonObject[] = new Array<JsonObject>(n);
  const jsons: string[] = new Array<string>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = docId(i);
    bodies[i] = makeBody(i, bytes);
    jsons[i] = JSON.stringify(bodies[i]);
    total += Buffer.byteLength(jsons[i]!);
  }
  return { ids, bodies, jsons, docBytes: n > 0 ? Math.round(total / n) : 0 };
}
