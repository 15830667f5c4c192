import { FORBIDDEN_KEY, MAX_NESTING, forbiddenKey, nestsTooDeep } from './body-limits';
import { StoreError } from './errors';
import type { JsonObject, JsonValue } from './types';

export interface CanonicalForm {
  /** JSON with object keys sorted at every level and no whitespace. */
  readonly json: string;
  /** The body holds at least one blob reference (`"@type": "blob"`). */
  readonly hasBlobs: boolean;
}

/**
 * Serialises a JSON value with object keys sorted and no whitespace, so that equal bodies always
 * hash to the same revision ID no matter how their keys were ordered when built.
 */
export function canonicalJson(value: JsonValue): string {
  return canonicalize(value).json;
}

/**
 * One validating walk returns the value with every object's keys in sorted order (objects already
 * in order are reused, not copied); native JSON.stringify then writes it. This is faster than
 * building the string in JavaScript or passing JSON.stringify a key list. The walk also rejects
 * what JSON cannot hold and notes blob references.
 */
export function canonicalize(value: JsonValue): CanonicalForm {
  const state: WalkState = { hasBlobs: false, integerKeys: false };
  const ordered = sorted(value, 1, state);
  // JavaScript always enumerates integer-like keys first, in numeric order, so an object holding
  // them cannot be rebuilt in string order; a sorted key list as JSON.stringify's replacer can.
  const json = state.integerKeys ? JSON.stringify(value, [...collectKeys(value, new Set())].sort()) : JSON.stringify(ordered);
  return { json, hasBlobs: state.hasBlobs };
}

interface WalkState {
  hasBlobs: boolean;
  integerKeys: boolean;
}

const INTEGER_KEY = /^(0|[1-9][0-9]*)$/;

function collectKeys(value: unknown, keys: Set<string>): Set<string> {
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) for (const v of value) collectKeys(v, keys);
    else
      for (const [k, v] of Object.entries(value)) {
        keys.add(k);
        collectKeys(v, keys);
      }
  }
  return keys;
}

function sorted(value: unknown, depth: number, state: WalkState): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // skipped in objects, null in arrays, as JSON.stringify does
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new StoreError('INVALID_DOCUMENT', `document contains a non-finite number (${value})`);
      return value;
    case 'object': {
      if (value === null) return value;
      if (depth > MAX_NESTING) throw nestsTooDeep();
      if (Array.isArray(value)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          const s = sorted(item, depth + 1, state);
          if (s !== item) (out ??= value.slice())[i] = s;
        }
        return out ?? value;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new StoreError('INVALID_DOCUMENT', 'document contains a value that is not plain JSON');
      }
      const obj = value as Record<string, unknown>;
      if (obj['@type'] === 'blob') state.hasBlobs = true;
      const keys = Object.keys(obj);
      if (keys.includes(FORBIDDEN_KEY)) throw forbiddenKey();
      if (keys.length > 0 && INTEGER_KEY.test(keys[0]!)) state.integerKeys = true;
      let inOrder = true;
      for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1]! >= keys[i]!) {
          inOrder = false;
          break;
        }
      }
      if (inOrder) {
        let out: Record<string, unknown> | undefined;
        for (const k of keys) {
          const v = obj[k];
          const s = sorted(v, depth + 1, state);
          if (s !== v) (out ??= { ...obj })[k] = s;
        }
        return out ?? obj;
      }
      keys.sort();
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = sorted(obj[k], depth + 1, state);
      return out;
    }
    default:
      throw new StoreError('INVALID_DOCUMENT', `document contains a ${typeof value}, which JSON cannot hold`);
  }
}

/** Parses JSON text that must hold an object (a document body). */
export function parseJsonObject(text: string, what = 'document body'): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new StoreError('INVALID_DOCUMENT', `${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw new StoreError('INVALID_DOCUMENT', `${what} must be a JSON object`);
  return parsed;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
