import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { CHILD_HANG_GUARD_MS, CLI } from './cli';
import { waitForCondition } from './wait';

/** One line of `serve --events --json`: a document that went through the listener. */
export interface ServeDocEvent {
  event: 'document';
  /** From the listener's side: `pull` = it received the document, `push` = it sent it. */
  direction: 'push' | 'pull';
  docId: string;
  revId: string;
  deleted: boolean;
  error?: { code: number; message: string };
  skipped?: boolean;
}

export interface ServeReady {
  port: number;
  urls: string[];
  tls: boolean;
  name: string;
}

export interface RunningServe {
  readonly ready: ServeReady;
  /** `ws://127.0.0.1:PORT/<db>` or `wss://localhost:PORT/<db>` (cblite checks DNS names only, never IP SANs). */
  readonly url: string;
  readonly events: ServeDocEvent[];
  readonly stderr: () => string;
  /** Resolves with the first event matching `pred`; fails loudly after `ms` with every event seen. */
  waitForEvent(pred: (e: ServeDocEvent) => boolean, ms: number, what: string): Promise<ServeDocEvent>;
  /** SIGTERM, then the exit code; the database is free for `peersync db …` afterwards. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  /** Serve wss:// (with the database's anonymous identity unless `--identity` is in `args`). */
  tls?: boolean;
  args?: readonly string[];
}

/** Starts `peersync serve` (the built CLI) on a free loopback port; killed when the test ends. */
export async function startServe(t: TestContext, db: string, options: ServeOptions = {}): Promise<RunningServe> {
  const args = [
    CLI,
    'serve',
    '--db',
    db,
    ...(options.args?.includes('--port') ? [] : ['--port', '0']),
    '--interface',
    '127.0.0.1',
    '--json',
    '--events',
    ...(options.tls ? [] : ['--no-tls']),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  t.after(() => {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const events: ServeDocEvent[] = [];
  const listeners = new Set<() => void>();
  const lines = createInterface({ input: child.stdout });
  let resolveReady: (r: ServeReady) => void = () => {};
  const readyLine = new Promise<ServeReady>((resolve) => (resolveReady = resolve));
  lines.on('line', (line) => {
    const msg = JSON.parse(line) as { event: string };
    if (msg.event === 'ready') resolveReady(msg as unknown as ServeReady);
    else if (msg.event === 'document') {
      events.push(msg as ServeDocEvent);
      listeners.forEach((l) => l());
    }
  });
  const ready = await Promise.race([
    readyLine,
    once(child, 'exit').then(() => {
      throw new Error(`peersync serve exited before listening:\n${stderr}`);
    }),
  ]);
  const host = options.tls ? 'localhost' : '127.0.0.1';
  return {
    ready,
    url: `${options.tls ? 'wss' : 'ws'}://${host}:${ready.port}/${ready.name}`,
    events,
    stderr: () => stderr,
    async waitForEvent(pred, ms, what) {
      const subscribe = (notify: () => void): (() => void) => (listeners.add(notify), () => listeners.delete(notify));
      await waitForCondition(() => events.some(pred), subscribe, ms, what).catch((e: Error) => {
        throw new Error(`${e.message}; listener events:\n${events.map((ev) => JSON.stringify(ev)).join('\n')}\nserve stderr:\n${stderr}`);
      });
      return events.find(pred)!;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
