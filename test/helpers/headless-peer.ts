/** A headless peer for the extension-host tests: `peersync serve` (the built CLI) in its own process. */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cli, extensionPath, tempDir } from './exthost';
import { withTimeout } from './wait';

/** A headless peer: `peersync serve` on a fresh database with `count` documents, on loopback: plain ws:// unless `tls` (its anonymous certificate). */
export async function headlessPeer(count: number, users?: string, tls = false): Promise<{ url: string; dir: string; stop: () => Promise<void> }> {
  const dir = join(tempDir(), 'remote');
  assert.equal((await cli(['db', 'create', '--db', dir])).code, 0);
  if (count > 0) {
    const file = join(dir, '..', 'seed.jsonl');
    writeFileSync(file, Array.from({ length: count }, (_, i) => JSON.stringify({ _id: `r-${String(i).padStart(3, '0')}`, i, from: 'headless' })).join('\n'));
    const r = await cli(['db', 'import', file, '--db', dir]);
    assert.equal(r.code, 0, r.stderr);
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [join(extensionPath(), 'dist', 'cli.js'), 'serve', '--db', dir, '--port', '0', '--interface', '127.0.0.1', ...(tls ? [] : ['--no-tls']), '--json', ...(users ? ['--users', users] : [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const announced = new Promise<{ urls: string[] }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peersync serve exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { event?: string; urls?: string[] };
      if (msg.event === 'ready') resolve({ urls: msg.urls ?? [] });
    });
  });
  const ready = await withTimeout(announced, 'peersync serve to report ready', 20_000).catch((e: Error) => {
    throw new Error(`${e.message}; it printed: ${stderr}`);
  });
  const url = ready.urls[0];
  if (url === undefined || !url.startsWith(`${tls ? 'wss' : 'ws'}://127.0.0.1:`)) assert.fail(`serve reported ${JSON.stringify(ready.urls)}`);
  return {
    url,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => (clearTimeout(timer), resolve()));
        child.kill('SIGTERM');
      }),
  };
}
