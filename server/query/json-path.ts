import type { PathStep } from './ast';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A property path as an SQLite JSON path (`$.a."odd key"[0]`), from steps the parser produced. Keys
 * other than plain names are double-quoted; SQLite's path syntax has no escape for a double quote
 * inside one, so such a key is refused (the caller reports where). The result is always bound as a
 * parameter, never spliced into SQL.
 */
export function jsonPath(steps: readonly PathStep[], root = '$'): string {
  let path = root;
  for (const step of steps) {
    if ('index' in step) {
      path += `[${step.index}]`;
    } else if (PLAIN_KEY.test(step.key)) {
      path += `.${step.key}`;
    } else {
      if (step.key.includes('"')) throw new UnsupportedKeyError(step.key);
      path += `."${step.key}"`;
    }
  }
  return path;
}

export class UnsupportedKeyError extends Error {
  constructor(readonly key: string) {
    super(`the property name ${JSON.stringify(key)} cannot be queried: it contains a double quote`);
  }
}
