/**
 * HTTP/1.1 upgrade requests for the WebSocket listener, built part by part (method, target,
 * version, each header) so that one part at a time can be odd: paths that do not decode,
 * subprotocol lists, duplicated or malformed headers, wrong versions, partial requests.
 */
import type { Rng } from './fuzz';

export interface HttpFuzzRequest {
  /** The bytes to write. */
  readonly bytes: Buffer;
  /** Write only this prefix, then end the socket (a peer that gives up mid-request). */
  readonly cutAt: number | undefined;
  /** Every part was left well-formed: the server must complete the upgrade. (Some odd parts are valid too.) */
  readonly valid: boolean;
}

const SUBPROTOCOL = 'BLIP_3+CBMobile_3';

export function upgradeRequest(rng: Rng, database = 'db'): HttpFuzzRequest {
  let valid = true;
  const odd = <T>(good: T, bad: () => T, p = 0.15): T => {
    if (!rng.chance(p)) return good;
    valid = false;
    return bad();
  };
  const method = odd('GET', () => rng.pick(['POST', 'HEAD', 'PUT', 'get', 'CONNECT', 'OPTIONS', 'G ET', 'BREW', '']));
  // A query string does not change the endpoint: still a valid target.
  const goodTarget = rng.chance(0.1) ? `/${database}/_blipsync?x=1` : `/${database}/_blipsync`;
  const target = odd(goodTarget, () =>
    rng.pick([
      `//${database}/_blipsync`,
      `/${database}/_blipsync/`,
      `/${database}/_blipsync/extra`,
      '/%ZZ/_blipsync',
      '/%00/_blipsync',
      '/%2F%2E%2E/_blipsync',
      '/nodb/_blipsync',
      '/_blipsync',
      '/',
      '*',
      `http://127.0.0.1/${database}/_blipsync`,
      `/${'a'.repeat(rng.pick([300, 9000, 70_000]))}/_blipsync`,
      `/${encodeURIComponent('\u{1F600}')}/_blipsync`,
      `/${database}/_blipsync#frag`,
      `${database}/_blipsync`,
    ]),
  );
  const version = odd('HTTP/1.1', () => rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1', 'HTTPS/1.1', '']), 0.08);
  const headers: string[] = [];
  const add = (line: string | undefined): void => {
    if (line !== undefined) headers.push(line);
  };
  add(odd<string | undefined>('Host: 127.0.0.1', () => rng.pick([undefined, 'Host:', 'Host: a, b', 'Host: 127.0.0.1\r\nHost: other'])));
  add(
    odd<string | undefined>('Upgrade: websocket', () => rng.pick([undefined, 'Upgrade: WebSocket', 'Upgrade: h2c', 'Upgrade: websocket, h2c', 'Upgrade:', 'Upgrade: websocket\r\nUpgrade: websocket'])),
  );
  add(odd<string | undefined>('Connection: Upgrade', () => rng.pick([undefined, 'Connection: keep-alive', 'Connection: keep-alive, Upgrade', 'Connection: close'])));
  add(
    odd<string | undefined>('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', () =>
      rng.pick([undefined, 'Sec-WebSocket-Key: short', 'Sec-WebSocket-Key: ', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: b3RoZXIgc2FtcGxlIG5vbmNl']),
    ),
  );
  add(odd<string | undefined>('Sec-WebSocket-Version: 13', () => rng.pick([undefined, 'Sec-WebSocket-Version: 8', 'Sec-WebSocket-Version: 13, 8', 'Sec-WebSocket-Version: x'])));
  add(
    odd<string | undefined>(`Sec-WebSocket-Protocol: ${SUBPROTOCOL}`, () =>
      rng.pick([
        undefined,
        'Sec-WebSocket-Protocol: BLIP_3+CBMobile_2',
        `Sec-WebSocket-Protocol: BLIP_3+CBMobile_2, ${SUBPROTOCOL}`,
        `Sec-WebSocket-Protocol: ${SUBPROTOCOL}, ${SUBPROTOCOL}`,
        `Sec-WebSocket-Protocol: ,,${SUBPROTOCOL},,`,
        'Sec-WebSocket-Protocol: ',
        `Sec-WebSocket-Protocol: ${'x,'.repeat(2000)}`,
        `Sec-WebSocket-Protocol: ${SUBPROTOCOL.toLowerCase()}`,
        `Sec-WebSocket-Protocol: BLIP_3+CBMobile_2\r\nSec-WebSocket-Protocol: ${SUBPROTOCOL}`,
      ]),
    ),
  );
  if (rng.chance(0.2)) {
    valid = false;
    add(
      rng.pick([
        'NoColonHere',
        ' folded: continuation',
        'X-Nul: a\u0000b',
        'X-Big: ' + 'h'.repeat(rng.pick([100, 20_000, 70_000])),
        'Bad Name: x',
        'Content-Length: 5',
        'Transfer-Encoding: chunked',
        'X-Latin: caf\u00e9',
      ]),
    );
  }
  const terminator = odd('\r\n\r\n', () => rng.pick(['\n\n', '\r\n', '\r\r', '']), 0.08);
  const text = `${method} ${target} ${version}\r\n${headers.join('\r\n')}${terminator}`;
  const bytes = Buffer.from(text, 'latin1');
  const cutAt = rng.chance(0.1) ? rng.int(bytes.length) : undefined;
  if (cutAt !== undefined) valid = false;
  if (rng.chance(0.05)) return { bytes: Buffer.from(rng.bytes(rng.size(300))), cutAt: undefined, valid: false };
  return { bytes, cutAt, valid };
}
