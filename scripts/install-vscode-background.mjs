// `npm start` installs VS Code in the browser (code-server) on its first run. It needs nothing from
// this project's node_modules, so it starts here, in the background, while npm ci and the build
// run: the two take about as long, and the demo then waits only for whichever is slower.
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const headless = process.env.PEERSYNC_DEMO_HEADLESS === '1';
export const backgroundPidFile = join(root, '.cache', 'code-server-install.pid');
export const backgroundLog = join(root, '.cache', 'code-server-install.log');

if (!headless) {
  const { isInstalled } = await import('../test/exthost/install-code-server.mjs');
  if (!isInstalled() && !existsSync(backgroundPidFile)) {
    mkdirSync(dirname(backgroundLog), { recursive: true });
    const out = openSync(backgroundLog, 'w');
    const child = spawn(process.execPath, [join(root, 'test', 'exthost', 'install-code-server.mjs')], { cwd: root, detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    writeFileSync(backgroundPidFile, `${child.pid}\n`);
    child.unref();
    console.log(`peersync: installing VS Code in the browser (code-server) in the background meanwhile (log: ${backgroundLog})`);
  }
}
