import { MAX_PROPERTIES_SIZE } from './constants';
import { BlipProtocolError } from './errors';

/**
 * BLIP message properties: alternating key and value strings, each UTF-8 and NUL-terminated.
 *
 * BLIP 2 replaced common property names and values with one-byte tokens; BLIP 3 ("v3.0a2" in the
 * spec's history) removed that tokenisation, so every string is written out literally. Couchbase
 * Lite 3.x speaks only BLIP 3, so there is no token table here.
 */

export type BlipProperties = Record<string, string>;

// fatal: reject malformed UTF-8 rather than silently substituting U+FFFD.
// ignoreBOM: a leading U+FEFF is data, not a byte-order mark, inside a property string.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An object without a prototype, so a peer-chosen key such as `__proto__` or `toString` is just
 * data and a lookup of an absent key yields undefined.
 */
export function emptyProperties(): BlipProperties {
  return Object.create(null) as BlipProperties;
}

/**
 * The properties block as text: keys and values in insertion order, each followed by NUL. Throws
 * if a string contains NUL. Built as one string so it is encoded to UTF-8 in one native call.
 */
export function propertiesText(properties: Readonly<Record<string, string>>): string {
  let text = '';
  for (const key in properties) {
    const value = properties[key];
    if (typeof value !== 'string') throw new TypeError(`property ${JSON.stringify(key)} must be a string`);
    if (key.includes('\0') || value.includes('\0')) throw new TypeError(`property ${JSON.stringify(key)} contains a NUL character`);
    text += key + '\0' + value + '\0';
  }
  return text;
}

/** Throws unless `bytes` of encoded properties are within the protocol's limit. */
export function checkPropertiesSize(bytes: number): void {
  if (bytes > MAX_PROPERTIES_SIZE) {
    throw new BlipProtocolError('PROPERTIES_TOO_LARGE', `encoded properties are ${bytes} bytes; the limit is ${MAX_PROPERTIES_SIZE}`);
  }
}

/** Encodes properties in insertion order. Throws if a string contains NUL or the result is too big. */
export function encodeProperties(properties: Readonly<Record<string, string>>): Uint8Array {
  const out = Buffer.from(propertiesText(properties), 'utf8');
  checkPropertiesSize(out.length);
  return out;
}

/** Decodes the properties block (without its length prefix). */
export function decodeProperties(bytes: Uint8Array): BlipProperties {
  const result = emptyProperties();
  if (bytes.length === 0) return result;
  if (bytes.length > MAX_PROPERTIES_SIZE) {
    throw new BlipProtocolError('PROPERTIES_TOO_LARGE', `properties are ${bytes.length} bytes; the limit is ${MAX_PROPERTIES_SIZE}`);
  }
  if (bytes[bytes.length - 1] !== 0) {
    throw new BlipProtocolError('BAD_PROPERTIES', 'properties are not NUL-terminated');
  }
  // One decode for the whole block: a 0 byte never occurs inside a multi-byte UTF-8 sequence, so
  // splitting the text at NUL is the same as splitting the bytes.
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (err) {
    throw new BlipProtocolError('BAD_PROPERTIES', 'property string is not valid UTF-8', { cause: err });
  }
  const strings = text.split('\0');
  strings.pop(); // after the final NUL
  if (strings.length % 2 !== 0) {
    throw new BlipProtocolError('BAD_PROPERTIES', 'property key without a value');
  }
  for (let i = 0; i < strings.length; i += 2) {
    const key = strings[i] as string;
    // First occurrence wins, matching how LiteCore looks a property up.
    if (!Object.hasOwn(result, key)) result[key] = strings[i + 1] as string;
  }
  return result;
}
