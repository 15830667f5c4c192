import { BLIP_ERROR_DOMAIN, BlipError, BlipProtocolError } from './errors';
import { type BlipProperties, checkPropertiesSize, decodeProperties, emptyProperties, propertiesText } from './properties';
import { tryDecodeVarint, varintLength, writeVarint } from './varint';

/**
 * Messages as the application sees them. On the wire a message's payload is
 * varint(length of properties) ‖ properties ‖ body; that payload is then cut into frames.
 */

export type MessageBody = Uint8Array | string;

/** An outgoing request. */
export interface BlipRequest {
  /** Sent as the first property, "Profile"; the peer dispatches on it. */
  readonly profile?: string | undefined;
  readonly properties?: Readonly<Record<string, string>> | undefined;
  /** Strings are sent as UTF-8. */
  readonly body?: MessageBody | undefined;
  /** The peer must not reply. Use `sendNoReply()` for these. */
  readonly noReply?: boolean | undefined;
  /** Gets a larger share of bandwidth (BLIP spec §3.2). */
  readonly urgent?: boolean | undefined;
  /**
   * true: always compress; false: never; undefined: compress when the payload is at least the
   * connection's compression threshold.
   */
  readonly compressed?: boolean | undefined;
  /** Called once the last frame has been handed to the transport (the sender's flow control counts from then). */
  readonly onSent?: (() => void) | undefined;
}

/** What a request handler returns to send a (non-error) reply. */
export interface BlipReply {
  readonly properties?: Readonly<Record<string, string>> | undefined;
  readonly body?: MessageBody | undefined;
  /** Defaults to the request's urgency, as LiteCore does. */
  readonly urgent?: boolean | undefined;
  readonly compressed?: boolean | undefined;
  /** Called once the reply's last frame has been handed to the transport. */
  readonly onSent?: (() => void) | undefined;
}

export type IncomingKind = 'request' | 'reply' | 'error';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export function bodyBytes(body: MessageBody | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === 'string' ? utf8.encode(body) : body;
}

/** Properties with "Profile" first (where Couchbase Lite puts it), then the rest in order. */
export function requestProperties(profile: string | undefined, properties: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const all = emptyProperties();
  if (profile !== undefined) all['Profile'] = profile;
  if (properties) {
    for (const [key, value] of Object.entries(properties)) {
      if (key === 'Profile' && profile !== undefined) continue;
      all[key] = value;
    }
  }
  return all;
}

/** varint(len(props)) ‖ props ‖ body — the byte stream a message's frames carry. */
export function encodeMessagePayload(properties: Readonly<Record<string, string>>, body: MessageBody | undefined): Uint8Array {
  const props = propertiesText(properties);
  const propsLength = Buffer.byteLength(props, 'utf8');
  checkPropertiesSize(propsLength);
  const start = varintLength(propsLength) + propsLength;
  const bodyLength = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  // One pooled buffer per message, everything written straight into it (see assembleFrame on pooling).
  const out = Buffer.allocUnsafe(start + bodyLength);
  const at = writeVarint(propsLength, out, 0);
  out.write(props, at, 'utf8');
  if (typeof body === 'string') out.write(body, start, 'utf8');
  else if (body) out.set(body, start);
  return out;
}

export interface DecodedPayload {
  readonly properties: BlipProperties;
  readonly body: Uint8Array;
}

export function decodeMessagePayload(payload: Uint8Array): DecodedPayload {
  const length = tryDecodeVarint(payload, 0);
  if (length === undefined) {
    throw new BlipProtocolError('TRUNCATED_MESSAGE', 'message ends before its properties length');
  }
  const propsEnd = length.length + length.value;
  if (propsEnd > payload.length) {
    throw new BlipProtocolError('TRUNCATED_MESSAGE', `properties length ${length.value} runs past the end of the message`);
  }
  return {
    properties: decodeProperties(payload.subarray(length.length, propsEnd)),
    body: payload.subarray(propsEnd),
  };
}

/** A complete message received from the peer. */
export class IncomingMessage {
  constructor(
    readonly kind: IncomingKind,
    /** The request number (a reply carries its request's number). */
    readonly number: number,
    readonly properties: Readonly<BlipProperties>,
    readonly body: Uint8Array,
    readonly flags: { readonly urgent: boolean; readonly noReply: boolean; readonly compressed: boolean },
  ) {}

  get profile(): string | undefined {
    return this.properties['Profile'];
  }

  get urgent(): boolean {
    return this.flags.urgent;
  }

  /** The sender expects no reply (requests only). */
  get noReply(): boolean {
    return this.flags.noReply;
  }

  /** Whether any of its frames arrived compressed. */
  get compressed(): boolean {
    return this.flags.compressed;
  }

  property(name: string): string | undefined {
    return this.properties[name];
  }

  /** Integer property, or `fallback` if absent or not an integer. */
  intProperty(name: string, fallback = 0): number {
    const value = this.properties[name];
    if (value === undefined || !/^[+-]?\d+$/.test(value)) return fallback;
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : fallback;
  }

  /** Boolean property the way Couchbase Lite writes them ("true"/"false", also YES/NO and numbers). */
  boolProperty(name: string, fallback = false): boolean {
    const value = this.properties[name]?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true' || value === 'yes') return true;
    if (value === 'false' || value === 'no') return false;
    return this.intProperty(name, fallback ? 1 : 0) !== 0;
  }

  text(): string {
    return utf8Decoder.decode(this.body);
  }

  /** Parsed JSON body; undefined for an empty body. Throws SyntaxError on malformed JSON. */
  json(): unknown {
    if (this.body.length === 0) return undefined;
    const value: unknown = JSON.parse(this.text());
    return value;
  }
}

export type IncomingRequest = IncomingMessage;
export type IncomingReply = IncomingMessage;

/** Properties + body of the ERR message that carries `error`. */
export function errorReplyContent(error: BlipError): { properties: Record<string, string>; body: Uint8Array } {
  const properties = emptyProperties();
  properties['Error-Domain'] = error.domain;
  properties['Error-Code'] = String(Math.trunc(error.code));
  for (const [key, value] of Object.entries(error.properties)) {
    if (key !== 'Error-Domain' && key !== 'Error-Code') properties[key] = value;
  }
  return { properties, body: bodyBytes(error.message) };
}

/** The BlipError an ERR reply describes. */
export function blipErrorFromMessage(message: IncomingMessage): BlipError {
  const domain = message.property('Error-Domain') || BLIP_ERROR_DOMAIN;
  const code = message.intProperty('Error-Code', 0);
  const extra = emptyProperties();
  for (const [key, value] of Object.entries(message.properties)) {
    if (key !== 'Error-Domain' && key !== 'Error-Code') extra[key] = value;
  }
  const text = message.text() || `${domain} error ${code}`;
  return new BlipError(domain, code, text, extra);
}
