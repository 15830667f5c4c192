// Runs every test tier with Node's built-in runner. TypeScript sources run through tsx.
// Usage: node scripts/run-tests.mjs [unit|integration|interop|exthost ...] [--only-file substring]
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// interop drives a real Couchbase Lite client (../shared/tools/cblite) and skips itself without it.
const allTiers = ['unit', 'integration', 'interop', 'exthost'];
const args = process.argv.slice(2);
const filterIdx = args.indexOf('--only-file');
const filter = filterIdx >= 0 ? args[filterIdx + 1] : undefined;
const tiers = args.filter((a, i) => !a.startsWith('--') && (filterIdx < 0 || i !== filterIdx + 1));
const chosen = tiers.length > 0 ? tiers : allTiers;

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const nodeTiers = chosen.filter((t) => t !== 'exthost');
const files = nodeTiers.flatMap((t) => findTests(join(root, 'test', t))).filter((f) => !filter || f.includes(filter));
let status = 0;
if (files.length > 0 || nodeTiers.length > 0) status = runNodeTests();
// The extension-host tier runs in a real VS Code (code-server + Chromium, see test/exthost/README.md).
if (chosen.includes('exthost') && !filter) {
  console.log('running the extension-host tests (real VS Code)');
  const steps = [
    [process.execPath, ['test/exthost/build-suite.mjs']],
    [process.execPath, ['test/exthost/run.mjs']],
    // The packaged .vsix, installed into a fresh VS Code as a user would, activates.
    ['npm', ['run', 'package', '--silent']],
    [process.execPath, ['test/exthost/run.mjs', '--extension-dir', 'test/exthost/fixtures/minimal-extension', '--install-vsix', 'peersync.vsix', '--grep', 'packaged extension']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, PEERSYNC_ROOT: root } });
    if (r.status !== 0) {
      status = r.status ?? 1;
      break;
    }
  }
}
process.exit(status);

function runNodeTests() {
  if (files.length === 0) {
    console.error('no test files found for', nodeTiers.join(', '));
    return 1;
  }
  console.log(`running ${files.length} test files: ${nodeTiers.join(', ')}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files.map((f) => relative(root, f))], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PEERSYNC_ROOT: root },
  });
  return res.status ?? 1;
}
