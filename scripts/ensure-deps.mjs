// Installs dependencies when node_modules is missing or older than the lockfile, so that
// `npm test` and `npm start` work on a fresh clone. npm ci says nothing for minutes, so a line
// every few seconds tells how far it has got.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  // Top-level packages only, the ones installedCount can see.
  const total = Object.keys(JSON.parse(readFileSync(lock, 'utf8')).packages ?? {}).filter((p) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p)).length;
  const started = Date.now();
  console.log(`peersync: installing dependencies (npm ci, ${total} packages; a few minutes on a fresh clone)…`);
  const child = spawn('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  const timer = setInterval(() => {
    console.log(`peersync: npm ci: ${installedCount()} of ${total} packages after ${Math.round((Date.now() - started) / 1000)} s`);
  }, 10_000);
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  clearInterval(timer);
  if (code !== 0) {
    console.error(`peersync: npm ci failed (exit ${code})`);
    process.exit(code);
  }
  console.log(`peersync: dependencies installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Top-level packages unpacked so far (npm makes their folders early and fills them later: count the package.json files). */
function installedCount() {
  const dir = join(root, 'node_modules');
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      try {
        for (const inner of readdirSync(join(dir, name))) if (existsSync(join(dir, name, inner, 'package.json'))) n++;
      } catch {
        // removed meanwhile
      }
    } else if (existsSync(join(dir, name, 'package.json'))) n++;
  }
  return n;
}
