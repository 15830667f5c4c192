/**
 * A LIKE pattern (`%` any run, `_` one character, `\` escapes the next) as an SQLite GLOB pattern.
 * SQL++ LIKE is case-sensitive, SQLite's LIKE is not (for ASCII), and GLOB is: so the match runs
 * as GLOB, with GLOB's own wildcards (`*`, `?`, `[`) made literal by bracketing them.
 */
export function likeToGlob(pattern: string): string {
  let glob = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      glob += literal(pattern[++i]!);
    } else if (c === '%') {
      glob += '*';
    } else if (c === '_') {
      glob += '?';
    } else {
      glob += literal(c);
    }
  }
  return glob;
}

function literal(c: string): string {
  return c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
}
