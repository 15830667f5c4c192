/**
 * How a `.peersync-query` file is read, without VS Code: the `-- db: name` first line, the queries
 * in it (separated by `;` or blank lines, neither counting inside strings or comments), which one
 * a cursor is in, and which collection a query reads (to open a result row's document).
 */

export interface QueryBlock {
  /** Offsets into the file's text: the query runs from `start` up to (not including) `end`. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const DB_DIRECTIVE = /^\s*--\s*db\s*:\s*(\S+)\s*$/i;

/** The database the file's first line names (`-- db: laptop`), if it names one. */
export function dbDirective(text: string): string | undefined {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  return DB_DIRECTIVE.exec(firstLine)?.[1];
}

/** Every query in the file, in order; stretches holding only comments and spaces are not queries. */
export function queryBlocks(text: string): QueryBlock[] {
  const blocks: QueryBlock[] = [];
  let start = 0;
  const close = (end: number): void => {
    const block = trimmed(text, start, end);
    if (block && hasCode(block.text)) blocks.push(block);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(text, i, c);
    } else if (text.startsWith('--', i)) {
      i = lineEnd(text, i);
    } else if (text.startsWith('/*', i)) {
      const endComment = text.indexOf('*/', i + 2);
      i = endComment < 0 ? text.length : endComment + 2;
    } else if (c === ';') {
      close(i);
      start = ++i;
    } else if (c === '\n' && isBlankLineAfter(text, i)) {
      close(i);
      start = ++i;
    } else {
      i++;
    }
  }
  close(text.length);
  return blocks;
}

/**
 * The query the cursor is in; on a separator or blank line between two, the one before it (where
 * the cursor usually is after typing a query), else the one after.
 */
export function blockAt(blocks: readonly QueryBlock[], offset: number): QueryBlock | undefined {
  const inside = blocks.find((b) => offset >= b.start && offset <= b.end);
  if (inside) return inside;
  const before = blocks.filter((b) => b.end <= offset).at(-1);
  return before ?? blocks.find((b) => b.start >= offset);
}

const FROM = /\bFROM\s+(`[^`]*`|[A-Za-z_$][\w$]*)(?:\s*\.\s*(`[^`]*`|[A-Za-z_$][\w$]*))?/i;

/**
 * The collection a query reads as the server names collections (`scope.name`): `_` and `_default`
 * are the default collection, a bare name is in the default scope.
 */
export function collectionOf(query: string): string | undefined {
  const m = FROM.exec(stripComments(query));
  if (!m) return undefined;
  const unquote = (s: string): string => (s.startsWith('`') ? s.slice(1, -1) : s);
  const first = unquote(m[1]!);
  if (m[2] !== undefined) return `${first}.${unquote(m[2])}`;
  if (first === '_' || first === '_default') return '_default._default';
  return `_default.${first}`;
}

/** How a query's FROM names a collection: `_` for the default one, backquoted parts when needed. */
export function fromName(collection: string): string {
  if (collection === '_default._default') return '_';
  const quote = (part: string): string => (/^[A-Za-z_][\w$]*$/.test(part) ? part : `\`${part.replace(/`/g, '``')}\``);
  const dot = collection.indexOf('.');
  return dot < 0 ? quote(collection) : `${quote(collection.slice(0, dot))}.${quote(collection.slice(dot + 1))}`;
}

function trimmed(text: string, start: number, end: number): QueryBlock | undefined {
  let s = start;
  let e = end;
  while (s < e && /\s/.test(text[s]!)) s++;
  while (e > s && /\s/.test(text[e - 1]!)) e--;
  return s < e ? { start: s, end: e, text: text.slice(s, e) } : undefined;
}

function hasCode(text: string): boolean {
  return stripComments(text).trim() !== '';
}

/** The text with comments blanked out (strings kept, so `'--'` in a string stays). */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(text, i, c);
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith('--', i)) {
      i = lineEnd(text, i);
      out += ' ';
    } else if (text.startsWith('/*', i)) {
      const endComment = text.indexOf('*/', i + 2);
      i = endComment < 0 ? text.length : endComment + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Past the closing quote; a doubled quote is an escaped one, as in SQL. */
function skipQuoted(text: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return text.length;
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}

/** The line after the newline at `nl` holds only spaces (a blank line separates queries). */
function isBlankLineAfter(text: string, nl: number): boolean {
  let i = nl + 1;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
  return i >= text.length || text[i] === '\n';
}
