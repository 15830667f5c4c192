/**
 * Query results as files or streams other programs read: JSON lines (one row object per line), a
 * JSON array, or CSV (RFC 4180). Shared by the command line and any export of results.
 */

export type ResultFormat = 'jsonl' | 'json' | 'csv';

export const RESULT_FORMATS: readonly ResultFormat[] = ['jsonl', 'json', 'csv'];

export interface ResultTable {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
}

export function formatResults(format: ResultFormat, result: ResultTable): string {
  switch (format) {
    case 'jsonl':
      return toJsonLines(result.rows);
    case 'json':
      return toJsonArray(result.rows);
    case 'csv':
      return toCsv(result);
  }
}

export function toJsonLines(rows: readonly Record<string, unknown>[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}

export function toJsonArray(rows: readonly Record<string, unknown>[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/**
 * A header line of column names, then one line per row, each ended by CRLF as RFC 4180 has it.
 * Strings are written as they are, numbers and booleans as JSON, objects and arrays as JSON text;
 * a missing value and null both leave the field empty, CSV having no null.
 */
export function toCsv(result: ResultTable): string {
  const lines = [result.columns.map(csvField), ...result.rows.map((row) => result.columns.map((c) => csvField(csvText(row[c]))))];
  return lines.map((fields) => `${fields.join(',')}\r\n`).join('');
}

function csvText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Quoted when it holds a comma, a quote or a line break; quotes inside are doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
