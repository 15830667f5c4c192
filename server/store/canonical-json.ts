import { StoreError } from './errors';
import type { JsonObject, JsonValue } from './types';

/**
 * Serialises a JSON value with object keys sorted and no whitespace, so that equal bodies always
 * hash to the same revision ID no matter how their keys were ordered when built.
 */
export function canonicalJson(value: JsonValue): string {
  return write(value, 0);
}

const MAX_DEPTH = 200;

function write(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new StoreError('INVALID_DOCUMENT', `document nests deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new StoreError('INVALID_DOCUMENT', `document contains a non-finite number (${value})`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : write(item, depth + 1);
        }
        return out + ']';
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new StoreError('INVALID_DOCUMENT', 'document contains a value that is not plain JSON');
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += JSON.stringify(k) + ':' + write(v, depth + 1);
      }
      return out + '}';
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
