// Compiles the extension-host test suite (test/exthost/suite/*.ts) with esbuild into dist/exthost-suite/:
// index.js (the mocha entry point, extensionTestsPath) plus one bundle per *.test.ts.
// `vscode` (provided by the extension host) and `mocha` (from node_modules) stay external.
//   node test/exthost/build-suite.mjs
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const srcDir = join(here, 'suite');
export const suiteOutDir = join(root, 'dist', 'exthost-suite');

const tests = readdirSync(srcDir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
const entryPoints = [join(srcDir, 'index.ts'), ...tests.map((f) => join(srcDir, f))].map((f) => relative(root, f));
for (const e of entryPoints) if (!existsSync(join(root, e))) throw new Error(`missing ${e}`);

rmSync(suiteOutDir, { recursive: true, force: true }); // no stale *.test.js from deleted tests
await esbuild.build({
  absWorkingDir: root,
  entryPoints,
  outdir: suiteOutDir,
  outbase: relative(root, srcDir),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
console.log(`built ${entryPoints.length} files into ${relative(root, suiteOutDir)}/ (${tests.length} test files)`);
