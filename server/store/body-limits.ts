import { StoreError } from './errors';

/**
 * How deeply a document body may nest objects and arrays, the body itself being level 1.
 * Couchbase Lite's JSON parser stops at 8,192 levels, but JavaScript code that walks a body
 * recursively (JSON.stringify, structuredClone, resolvers, the editor) runs out of stack long
 * before that; 200 is far beyond any real document and leaves every such walk a wide margin.
 */
export const MAX_NESTING = 200;

export function nestsTooDeep(): StoreError {
  return new StoreError('INVALID_DOCUMENT', `document nests objects and arrays deeper than ${MAX_NESTING} levels`);
}

/** JavaScript treats this name specially (assigning it replaces an object's prototype), so no body may use it. */
export const FORBIDDEN_KEY = '__proto__';

export function forbiddenKey(): StoreError {
  return new StoreError('INVALID_DOCUMENT', `property name "${FORBIDDEN_KEY}" is not allowed in a document`);
}

export function reservedKey(key: string): StoreError {
  return new StoreError('INVALID_DOCUMENT', `top-level property ${JSON.stringify(key)} is reserved (names starting with "_")`);
}
