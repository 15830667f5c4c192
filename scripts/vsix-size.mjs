// Prints the size and file list of a packaged .vsix (a zip), so packaging changes are visible.
import { statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const file = process.argv[2] ?? 'peersync.vsix';
const bytes = statSync(file).size;
console.log(`${file}: ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
try {
  console.log(execFileSync('unzip', ['-l', file], { encoding: 'utf8' }).trim());
} catch {
  /* unzip not installed: the size is enough */
}
