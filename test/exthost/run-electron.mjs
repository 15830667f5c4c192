// Runs the same compiled extension-host suite in desktop VS Code through @vscode/test-electron — for
// laptops with Internet access or a local VS Code. (On the CI/sandbox machines, which cannot reach
// Microsoft's download servers, use test/exthost/run.mjs instead.)
//
//   node test/exthost/build-suite.mjs && node test/exthost/run-electron.mjs [options]
//
// Options:
//   --extension-dir DIR        extension under development (default: the repo root)
//   --suite DIR                compiled suite folder with index.js (default: dist/exthost-suite)
//   --workspace-template DIR   copy DIR into the fresh temp workspace folder VS Code opens
//   --vscode-version V         VS Code to download into .cache/vscode-test (default 1.100.3, the version
//                              code-server runs; `stable` for the newest)
//   --vscode-executable PATH   use this VS Code binary instead of downloading one
//   --grep PATTERN             only tests whose full title matches
//   --keep                     keep the temp folder (workspace, user data, results)
// Prints each test's result and `N passed, M failed`; exits 1 on any failure or if VS Code failed.
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from './install-code-server.mjs';
import { countResults, printResults, printSummary, readResults } from './run.mjs';

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'extension-dir': { type: 'string' },
      suite: { type: 'string' },
      'workspace-template': { type: 'string' },
      'vscode-version': { type: 'string', default: '1.100.3' },
      'vscode-executable': { type: 'string' },
      grep: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const extensionDir = resolve(values['extension-dir'] ?? repoRoot);
  const suiteDir = resolve(values.suite ?? join(repoRoot, 'dist', 'exthost-suite'));
  const indexFile = join(suiteDir, 'index.js');
  if (!existsSync(indexFile)) {
    console.error(`[exthost] no compiled suite at ${indexFile}: run node test/exthost/build-suite.mjs first`);
    return 1;
  }

  const runDir = realpathSync(mkdtempSync(join(tmpdir(), 'peersync-exthost-electron-')));
  const workspace = join(runDir, 'workspace');
  const userData = join(runDir, 'user-data');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(join(userData, 'User'), { recursive: true });
  if (values['workspace-template']) cpSync(resolve(values['workspace-template']), workspace, { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'workbench.enableExperiments': false,
        'extensions.ignoreRecommendations': true,
        'git.enabled': false,
        'workbench.startupEditor': 'none',
      },
      null,
      2,
    ),
  );
  const resultsFile = join(runDir, 'results.jsonl');
  writeFileSync(resultsFile, '');

  const version = values['vscode-version'];
  const extensionTestsEnv = {
    PEERSYNC_EXTHOST_RESULTS: resultsFile,
    PEERSYNC_EXTHOST_WORKSPACE: workspace,
    // a pinned download is checked exactly; `stable`/`insiders`/a local binary only as >= 1.100
    PEERSYNC_EXTHOST_VSCODE_VERSION: !values['vscode-executable'] && /^\d+\.\d+\.\d+$/.test(version) ? version : undefined,
    PEERSYNC_EXTHOST_GREP: values.grep,
  };

  let vscodeFailed;
  try {
    await runTests({
      ...(values['vscode-executable'] ? { vscodeExecutablePath: resolve(values['vscode-executable']) } : { version }),
      cachePath: join(repoRoot, '.cache', 'vscode-test'),
      extensionDevelopmentPath: extensionDir,
      extensionTestsPath: indexFile,
      extensionTestsEnv,
      launchArgs: [
        workspace,
        '--disable-extensions', // other installed extensions; the one under development still loads
        `--user-data-dir=${userData}`,
        `--extensions-dir=${join(runDir, 'extensions')}`,
      ],
    });
  } catch (err) {
    vscodeFailed = err instanceof Error ? err.message : String(err);
  }

  const results = readResults(resultsFile);
  const counts = countResults(results);
  console.log('');
  printResults(results);
  let problem;
  if (vscodeFailed && counts.failed === 0) problem = `${vscodeFailed} but no test failed: the suite did not load`;
  else if (results.length === 0) problem = 'no test ran';
  if (problem) console.log(`ERROR ${problem}`);
  printSummary(counts);
  if (values.keep) console.log(`[exthost] kept ${runDir}`);
  else rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  return counts.failed > 0 || problem ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
