// Builds every bundle with one script: node esbuild.mjs [--watch] [--production]
//   extension  extension/extension.ts → dist/extension.js   (cjs, vscode external)
//   server     server/main.ts         → dist/server.js      (the sync server process)
//   cli        server/cli.ts          → dist/cli.js         (`peersync`)
//   webviews   webview/*/main.ts      → dist/webview/*.js   (browser)
// sql.js's .wasm is copied beside the node bundles and located at run time (never fetched).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const outdir = join(root, 'dist');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  absWorkingDir: root,
};

const node = { ...common, platform: 'node', format: 'cjs', target: 'node20' };

const configs = [
  // jsonc-parser's UMD build loads its parts with a require() the bundler cannot follow: bundle its ES modules.
  { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' } },
  { ...node, entryPoints: ['server/main.ts'], outfile: 'dist/server.js' },
  { ...node, entryPoints: ['server/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
];

const webviewDir = join(root, 'webview');
if (existsSync(webviewDir)) {
  for (const name of readdirSync(webviewDir)) {
    const entry = join('webview', name, 'main.ts');
    if (existsSync(join(root, entry))) {
      configs.push({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: [entry], outfile: `dist/webview/${name}.js` });
    }
  }
}

// Front ends arrive one at a time; build the entry points that exist.
const present = configs.filter((c) => existsSync(join(root, c.entryPoints[0])));

mkdirSync(outdir, { recursive: true });
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(outdir, 'sql-wasm.wasm'));

if (watch) {
  for (const c of present) await (await esbuild.context(c)).watch();
  console.log(`watching ${present.length} bundles…`);
} else {
  await Promise.all(present.map((c) => esbuild.build(c)));
}
