import { QueryError, type SourcePosition } from './query-error';

export type TokenKind = 'ident' | 'quotedIdent' | 'string' | 'number' | 'param' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifiers and operators as written; strings unescaped; parameters without `$`. */
  readonly value: string;
  /** The token's source text, for error messages. */
  readonly text: string;
  readonly pos: SourcePosition;
}

/** Longest first, so `<=` is never read as `<` then `=`. */
const OPERATORS = ['==', '!=', '<>', '<=', '>=', '||', '(', ')', '[', ']', ',', '.', '*', '+', '-', '/', '%', '=', '<', '>', ';'];

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

/** Splits SQL++ text into tokens, ending with one `eof` token. Comments (`--` and `/* *\/`) are skipped. */
export function tokenize(source: string): Token[] {
  return new Lexer(source).run();
}

class Lexer {
  private offset = 0;
  private line = 1;
  private lineStart = 0;
  private readonly tokens: Token[] = [];

  constructor(private readonly src: string) {}

  run(): Token[] {
    for (;;) {
      this.skipSpaceAndComments();
      if (this.offset >= this.src.length) break;
      this.tokens.push(this.next());
    }
    this.tokens.push({ kind: 'eof', value: '', text: '', pos: this.positionAt(this.offset, 0) });
    return this.tokens;
  }

  private next(): Token {
    const start = this.offset;
    const c = this.src[start]!;
    if (IDENT_START.test(c)) {
      this.advanceWhile((ch) => IDENT_PART.test(ch));
      return this.token('ident', this.src.slice(start, this.offset), start);
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(this.src[start + 1] ?? ''))) return this.number(start);
    if (c === "'" || c === '"') return this.quoted(start, c, 'string');
    if (c === '`') return this.quoted(start, c, 'quotedIdent');
    if (c === '$') {
      this.offset++;
      this.advanceWhile((ch) => IDENT_PART.test(ch));
      const name = this.src.slice(start + 1, this.offset);
      if (name === '') throw this.error('expected a parameter name after $', start, 1);
      return this.token('param', name, start);
    }
    const op = OPERATORS.find((o) => this.src.startsWith(o, start));
    if (!op) throw this.error('unexpected character', start, 1);
    this.offset += op.length;
    return this.token('op', op, start);
  }

  private number(start: number): Token {
    this.advanceWhile((ch) => DIGIT.test(ch));
    if (this.src[this.offset] === '.' && DIGIT.test(this.src[this.offset + 1] ?? '')) {
      this.offset++;
      this.advanceWhile((ch) => DIGIT.test(ch));
    }
    if (/[eE]/.test(this.src[this.offset] ?? '')) {
      const save = this.offset;
      this.offset++;
      if (/[+-]/.test(this.src[this.offset] ?? '')) this.offset++;
      if (!DIGIT.test(this.src[this.offset] ?? '')) this.offset = save;
      else this.advanceWhile((ch) => DIGIT.test(ch));
    }
    if (IDENT_START.test(this.src[this.offset] ?? '')) throw this.error('a number cannot run into a name', start, this.offset - start + 1);
    return this.token('number', this.src.slice(start, this.offset), start);
  }

  /** A quoted string or identifier; the quote character is escaped by doubling it. */
  private quoted(start: number, quote: string, kind: 'string' | 'quotedIdent'): Token {
    let value = '';
    this.offset++;
    for (;;) {
      const c = this.src[this.offset];
      if (c === undefined) throw this.error(kind === 'string' ? 'unterminated string' : 'unterminated quoted name', start, 1);
      if (c === quote) {
        if (this.src[this.offset + 1] === quote) {
          value += quote;
          this.offset += 2;
          continue;
        }
        this.offset++;
        break;
      }
      if (c === '\n') this.newLine(this.offset + 1);
      value += c;
      this.offset++;
    }
    return this.token(kind, value, start);
  }

  private skipSpaceAndComments(): void {
    for (;;) {
      const c = this.src[this.offset];
      if (c === '\n') {
        this.offset++;
        this.newLine(this.offset);
      } else if (c === ' ' || c === '\t' || c === '\r') {
        this.offset++;
      } else if (this.src.startsWith('--', this.offset)) {
        this.advanceWhile((ch) => ch !== '\n');
      } else if (this.src.startsWith('/*', this.offset)) {
        const start = this.offset;
        const end = this.src.indexOf('*/', start + 2);
        if (end < 0) throw this.error('unterminated comment', start, 2);
        for (let i = start; i < end; i++) if (this.src[i] === '\n') this.newLine(i + 1);
        this.offset = end + 2;
      } else {
        return;
      }
    }
  }

  private advanceWhile(test: (ch: string) => boolean): void {
    while (this.offset < this.src.length && test(this.src[this.offset]!)) this.offset++;
  }

  private newLine(nextLineStart: number): void {
    this.line++;
    this.lineStart = nextLineStart;
  }

  private token(kind: TokenKind, value: string, start: number): Token {
    return { kind, value, text: this.src.slice(start, this.offset), pos: this.positionAt(start, this.offset - start) };
  }

  /** Position of `start` on the current line (tokens never span lines, except strings: their first line counts). */
  private positionAt(start: number, length: number): SourcePosition {
    const line = this.lineOf(start);
    return { line: line.number, column: start - line.start + 1, offset: start, length };
  }

  private lineOf(offset: number): { number: number; start: number } {
    if (offset >= this.lineStart) return { number: this.line, start: this.lineStart };
    // A multi-line string moved the counters past its start: count again from the beginning.
    let number = 1;
    let start = 0;
    for (let i = 0; i < offset; i++) {
      if (this.src[i] === '\n') {
        number++;
        start = i + 1;
      }
    }
    return { number, start };
  }

  private error(problem: string, start: number, length: number): QueryError {
    return new QueryError(problem, this.positionAt(start, length), this.src.slice(start, start + length));
  }
}
