/** Widest a cell is shown in a table; longer values end in an ellipsis (other formats give them whole). */
const MAX_CELL = 60;

/**
 * Query rows as an aligned text table for a terminal: a header, a rule, then one line per row with
 * every value as compact JSON (so a string "1" and a number 1 look different); a missing value is blank.
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function cell(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value).replace(/[\r\n\t]/g, ' ');
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}
