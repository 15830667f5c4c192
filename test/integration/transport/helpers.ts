import http from 'node:http';
import net from 'node:net';
import type { EventEmitter } from 'node:events';
import { withTimeout } from '../../helpers/wait';
import { BlipWebSocketServer, type BlipWebSocketServerOptions } from '../../../server/transport/blip-websocket-server';

/** Something with Node-style or TypedEmitter-style `once` (the event's arguments are typed by the caller). */
type Onceable = Pick<EventEmitter, 'once'> | { once(event: never, listener: never): unknown };

/** Resolves with the arguments of the next `event` (fails after `ms`). */
export function nextEvent<A extends unknown[] = unknown[]>(emitter: Onceable, event: string, ms: number, what = `'${event}' event`): Promise<A> {
  const promise = new Promise<A>((resolve) => {
    (emitter as { once(event: string, listener: (...args: unknown[]) => void): unknown }).once(event, (...args: unknown[]) => resolve(args as A));
  });
  return withTimeout(promise, what, ms);
}

/** Awaits an expected rejection and returns the error (fails if it resolves or takes longer than `ms`). */
export async function rejectionOf(promise: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  const outcome = await withTimeout(
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    what,
    ms,
  );
  if (outcome.ok) throw new Error(`expected ${what} to fail, but it succeeded`);
  return outcome.error;
}

/** LIFO cleanup list; run it in afterEach so every test releases its servers and sockets. */
export class Cleanup {
  private readonly tasks: (() => unknown)[] = [];
  add(task: () => unknown): void {
    this.tasks.push(task);
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.tasks.length > 0) {
      const task = this.tasks.pop() as () => unknown;
      try {
        await withTimeout(Promise.resolve().then(task), 'cleanup task', 5000);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** Starts a listener on 127.0.0.1, port 0, registered for cleanup. */
export async function startServer(cleanup: Cleanup, options: Partial<BlipWebSocketServerOptions> = {}): Promise<BlipWebSocketServer> {
  const server = new BlipWebSocketServer({ networkInterface: '127.0.0.1', databases: ['db'], ...options });
  await withTimeout(server.start(), 'server start', 5000);
  cleanup.add(() => server.stop());
  return server;
}

/** A port that nothing listens on (it was just bound and released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends a raw HTTP request (an upgrade when `upgrade` is set) and returns the status, headers and
 * body. A 101 answer resolves with status 101 and the socket is destroyed.
 */
export function rawRequest(port: number, path: string, options: { headers?: Record<string, string>; upgrade?: boolean; method?: string } = {}): Promise<RawResponse> {
  const upgradeHeaders: Record<string, string> = options.upgrade
    ? {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }
    : {};
  const promise = new Promise<RawResponse>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      headers: { ...upgradeHeaders, ...options.headers },
      agent: false,
    });
    req.on('error', reject);
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.end();
  });
  return withTimeout(promise, `HTTP response to ${path}`, 5000);
}
