import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { CHILD_HANG_GUARD_MS, CLI, spawn } from './cli';

/** Starts `peersync serve` as its own process; resolves with its ready line. Killed after the test. */
export async function serve(t: TestContext, db: string, extra: string[] = []): Promise<{ url: string; stop: () => Promise<number> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--db', db, ...(extra.includes('--port') ? [] : ['--port', '0']), '--interface', '127.0.0.1', '--json', ...(extra.includes('--tls') ? [] : ['--no-tls']), ...extra.filter((x) => x !== '--tls')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  t.after(() => {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line') as Promise<[string]>,
    once(child, 'exit').then(() => {
      throw new Error(`serve exited early: ${stderr}`);
    }),
  ]);
  const ready = JSON.parse(first[0]) as { event: string; urls: string[] };
  assert.equal(ready.event, 'ready');
  return {
    url: ready.urls[0]!,
    stop: async () => {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      return code;
    },
  };
}

