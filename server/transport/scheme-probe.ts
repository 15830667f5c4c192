/**
 * Recognises a replication URL with the wrong scheme for its listener: `ws://` to a listener that
 * speaks TLS just sees the connection dropped (it would be retried as a hang-up for ever), and
 * `wss://` to a plain one fails deep inside OpenSSL. One short probe of the other protocol tells
 * them apart from a real network failure, so the error can say what to change.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConnectionError, ConnectionErrorCode } from './connection-error';

const PROBE_TIMEOUT_MS = 3000;

/** A wrong-scheme error for `url` after it failed with `err`, or undefined when the probe does not show one. */
export async function explainWrongScheme(err: Error, url: string): Promise<ConnectionError | undefined> {
  const code = (err as NodeJS.ErrnoException).code;
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol === 'ws:' && code === 'ECONNRESET' && (await speaksTls(host, port))) {
    return new ConnectionError(`this listener speaks TLS: use wss://${u.host}${u.pathname.replace(/\/_blipsync$/, '')}`, { transient: false, code: ConnectionErrorCode.WrongScheme, url, cause: err });
  }
  if (u.protocol === 'wss:' && (code === 'EPROTO' || code === 'ECONNRESET') && (await speaksPlainHttp(host, port))) {
    return new ConnectionError(`this listener does not speak TLS: use ws://${u.host}${u.pathname.replace(/\/_blipsync$/, '')}`, {
      transient: false,
      code: ConnectionErrorCode.WrongScheme,
      url,
      cause: err,
    });
  }
  return undefined;
}

/** Whether a TLS handshake completes (any certificate: this only asks which protocol is spoken). */
function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(isIp(host) ? {} : { servername: host }), timeout: PROBE_TIMEOUT_MS });
    const done = (v: boolean): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Whether the port answers a plain HTTP request with an HTTP status line. */
function speaksPlainHttp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port, timeout: PROBE_TIMEOUT_MS });
    let head = '';
    const done = (v: boolean): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once('connect', () => socket.write(`HEAD / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.length >= 5) done(head.startsWith('HTTP/'));
    });
    socket.once('end', () => done(head.startsWith('HTTP/')));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
