/**
 * Generators for replication-protocol messages that know their shape (profiles, the properties
 * each one reads, the JSON bodies they expect) and bend one part at a time: wrong JSON types,
 * numbers past 2^53, deep nesting, missing IDs, odd sequences, revisions with strange histories.
 */
import type { Rng } from './fuzz';

export interface FuzzRequest {
  readonly profile: string;
  readonly properties: Record<string, string>;
  readonly body: string | Uint8Array;
}

const WEIRD_STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  'null',
  'true',
  '1e308',
  '9007199254740993',
  '-0',
  '0x10',
  'NaN',
  '__proto__',
  'constructor',
  '\u0001',
  '\ud800', // lone surrogate
  '\u{1F600}',
  'é'.repeat(300),
  'x'.repeat(5000),
  '../../etc/passwd',
  '%00',
  '"quoted"',
  '[1,2]',
  '{"a":1}',
  '_design/x',
  '_local/cp',
];

export function weirdString(rng: Rng): string {
  return rng.chance(0.8)
    ? rng.pick(WEIRD_STRINGS)
    : Buffer.from(rng.bytes(rng.size(40)))
        .toString('latin1')
        .replace(/\0/g, '');
}

/** Nested arrays or objects `depth` levels deep, written out directly (no recursion here). */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A JSON value of any type, biased to edges. Text, because some values (deep ones) are built as text. */
export function jsonValue(rng: Rng, depth = 0): string {
  const kind = depth > 3 ? rng.int(5) : rng.int(9);
  switch (kind) {
    case 0:
      return JSON.stringify(rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 5e-324]));
    case 1:
      return rng.pick(['1e400', '-0', '123456789012345678901234567890', '0.0000001']);
    case 2:
      return JSON.stringify(weirdString(rng));
    case 3:
      return rng.pick(['true', 'false', 'null']);
    case 4:
      return rng.pick(['{}', '[]', '""']);
    case 5:
      return `[${Array.from({ length: rng.size(20) }, () => jsonValue(rng, depth + 1)).join(',')}]`;
    case 6: {
      const keys = ['_id', '_rev', '_deleted', '_attachments', '_revisions', 'a', '__proto__', '', 'docIDs', '@type'];
      const entries = Array.from({ length: rng.size(8) }, () => `${JSON.stringify(rng.chance(0.7) ? rng.pick(keys) : weirdString(rng))}:${jsonValue(rng, depth + 1)}`);
      return `{${entries.join(',')}}`;
    }
    case 7:
      return deepJson(rng.pick([50, 1000, 20_000]), rng.chance(0.5) ? 'array' : 'object');
    default:
      return `{"@type":"blob","digest":"sha1-${'A'.repeat(27)}=","length":${rng.pick(['-1', '1e20', '"x"', '10'])}}`;
  }
}

/** A body that may not be JSON at all. */
export function body(rng: Rng, valid: () => string): string | Uint8Array {
  return rng.weighted<() => string | Uint8Array>([
    [6, valid],
    [3, () => jsonValue(rng)],
    [1, () => rng.pick(['{', '[1,', 'nul', '\u0000', '{"a":1}{"b":2}', '\ufeff{}'])],
    [1, () => rng.bytes(rng.size(64))],
  ])();
}

/** A revision ID as found in the wild, or not. */
export function revId(rng: Rng): string {
  return rng.weighted<() => string>([
    [5, () => `${rng.range(1, 20)}-${Buffer.from(rng.bytes(8)).toString('hex')}`],
    [1, () => rng.pick(['0-a', '-1-a', '1-', '-', '1', 'abc', '1-a-b', '01-a', '1e3-a', '9999999999999999999999-a', ' 1-a', '1-a\u0001b'])],
    [1, () => weirdString(rng)],
  ])();
}

/** A `history` property: comma-separated ancestors, with oddities (gaps, repeats, non-descending, huge). */
export function history(rng: Rng, rev: string): string {
  const gen = Number.parseInt(rev, 10);
  return rng.weighted<() => string>([
    [4, () => Array.from({ length: Math.max(0, Number.isFinite(gen) ? Math.min(gen - 1, 60) : 3) }, (_, i) => `${gen - 1 - i}-${'ab'.repeat(4)}`).join(',')],
    [1, () => `${rev},${rev}`],
    [1, () => ' , ,,'],
    [1, () => Array.from({ length: 5000 }, (_, i) => `${5000 - i}-x`).join(',')],
    [1, () => `${(gen || 1) + 5}-a,${(gen || 1) + 6}-b`],
    [1, () => Array.from({ length: rng.size(10) }, () => revId(rng)).join(rng.pick([',', ', ', ';']))],
  ])();
}

/** A sequence in any of the shapes a peer might send, plus some it must not. */
export function sequence(rng: Rng): string {
  return rng.pick(['1', '0', '-1', '"12"', '[1,2]', '[1,"x",3]', '{}', 'null', '1.5', '1e400', '9007199254740993', '[[1]]', 'garbage', '']);
}

/** Replaces, drops or adds properties at random. */
export function bend(rng: Rng, properties: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...properties };
  for (const key of Object.keys(out)) {
    if (rng.chance(0.15)) delete out[key];
    // eslint-disable-next-line no-dupe-else-if -- each chance() draws a fresh number, so the second test is a different roll
    else if (rng.chance(0.15)) out[key] = weirdString(rng);
  }
  if (rng.chance(0.2)) out[rng.pick(['collection', 'since', 'batch', 'client', 'rev', 'id', 'history', 'deleted', 'sequence', 'x-extra'])] = weirdString(rng);
  return out;
}

export const DOC_IDS = ['doc-1', 'doc-2', 'doc-3', 'fresh'] as const;

function docId(rng: Rng): string {
  return rng.chance(0.8) ? rng.pick(DOC_IDS) : weirdString(rng);
}

function collectionProp(rng: Rng): Record<string, string> {
  return rng.weighted<Record<string, string>>([
    [6, {}],
    [2, { collection: '0' }],
    [1, { collection: rng.pick(['1', '-1', '1.5', '', 'x', '99999999999', '0x0']) }],
  ]);
}

/** One request a client could send to a listener (passive peer). */
export function passiveRequest(rng: Rng): FuzzRequest {
  const c = collectionProp(rng);
  const kind = rng.pick(['getCheckpoint', 'setCheckpoint', 'getCollections', 'subChanges', 'changes', 'proposeChanges', 'rev', 'norev', 'getAttachment', 'proveAttachment', 'unknown'] as const);
  switch (kind) {
    case 'getCheckpoint':
      return { profile: kind, properties: bend(rng, { client: `cp-${rng.int(3)}`, ...c }), body: '' };
    case 'setCheckpoint':
      return {
        profile: kind,
        properties: bend(rng, { client: `cp-${rng.int(3)}`, rev: rng.pick(['', '1-cc', '0-1', revId(rng)]), ...c }),
        body: body(rng, () => JSON.stringify({ time: Date.now(), local: rng.int(100), remote: rng.int(100) })),
      };
    case 'getCollections':
      return {
        profile: kind,
        properties: {},
        body: body(rng, () => {
          const names = Array.from({ length: rng.range(0, 3) }, () => rng.pick(['_default._default', '_default', 'nope.nope', weirdString(rng)]));
          const ids = names.map((_, i) => (rng.chance(0.9) ? `cp-${i}` : rng.int(5)));
          if (rng.chance(0.2)) ids.push('extra');
          return JSON.stringify({ collections: names, checkpoint_ids: ids });
        }),
      };
    case 'subChanges':
      return {
        profile: kind,
        properties: bend(rng, {
          ...(rng.chance(0.6) ? { since: sequence(rng) } : {}),
          ...(rng.chance(0.5) ? { continuous: rng.pick(['true', 'false', '1', 'yes']) } : {}),
          ...(rng.chance(0.5) ? { batch: rng.pick(['0', '-5', '1', '200', '1e9', 'abc', '1000000']) } : {}),
          ...(rng.chance(0.3) ? { activeOnly: 'true' } : {}),
          ...(rng.chance(0.2) ? { versioning: rng.pick(['rev-trees', 'version-vectors', 'x']) } : {}),
          ...(rng.chance(0.1) ? { filter: 'sync_gateway/bychannel' } : {}),
          ...c,
        }),
        body: rng.chance(0.6) ? '' : body(rng, () => JSON.stringify({ docIDs: rng.chance(0.7) ? [...DOC_IDS] : [1, null, 'doc-1'] })),
      };
    case 'changes':
      return {
        profile: kind,
        properties: bend(rng, { ...c }),
        body: body(
          rng,
          () =>
            `[${Array.from({ length: rng.size(30) }, () => `[${sequence(rng) || '1'},${JSON.stringify(docId(rng))},${JSON.stringify(revId(rng))}${rng.chance(0.3) ? `,${rng.pick(['0', '1', 'true', '"x"'])}` : ''}${rng.chance(0.3) ? `,${rng.pick(['10', '-1', '1e300'])}` : ''}]`).join(',')}]`,
        ),
      };
    case 'proposeChanges':
      return {
        profile: kind,
        properties: bend(rng, { ...c }),
        body: body(
          rng,
          () =>
            `[${Array.from({ length: rng.size(30) }, () => JSON.stringify([docId(rng), revId(rng), ...(rng.chance(0.5) ? [rng.chance(0.5) ? revId(rng) : ''] : []), ...(rng.chance(0.3) ? [rng.int(5000)] : [])])).join(',')}]`,
        ),
      };
    case 'rev': {
      const rev = revId(rng);
      return {
        profile: kind,
        properties: bend(rng, {
          id: docId(rng),
          rev,
          ...(rng.chance(0.7) ? { history: history(rng, rev) } : {}),
          ...(rng.chance(0.5) ? { sequence: sequence(rng) } : {}),
          ...(rng.chance(0.2) ? { deleted: rng.pick(['true', '1', 'false', 'yes']) } : {}),
          ...(rng.chance(0.2) ? { noconflicts: 'true' } : {}),
          ...c,
        }),
        body: body(rng, () => JSON.stringify({ n: rng.int(1000), text: weirdString(rng) })),
      };
    }
    case 'norev':
      return { profile: kind, properties: bend(rng, { id: docId(rng), rev: revId(rng), sequence: sequence(rng), error: rng.pick(['404', 'x', '']), reason: 'gone', ...c }), body: '' };
    case 'getAttachment':
    case 'proveAttachment':
      return {
        profile: kind,
        properties: bend(rng, { digest: rng.pick([`sha1-${'A'.repeat(27)}=`, 'sha1-', 'md5-x', weirdString(rng)]), docID: docId(rng), compress: 'true', ...c }),
        body: kind === 'proveAttachment' ? rng.bytes(rng.pick([0, 1, 16, 255, 256, 1000])) : '',
      };
    default:
      return { profile: weirdString(rng), properties: bend(rng, c), body: body(rng, () => '{}') };
  }
}
