// Runs the extension-host test suite in a real VS Code: code-server (VS Code 1.100 server + Node
// extension host, installed on demand into .cache/code-server) driven by Debian's Chromium through
// playwright-core. No downloads beyond the npm registry; no marketplace, no telemetry.
//
//   node test/exthost/build-suite.mjs && node test/exthost/run.mjs [options]
//
// Options:
//   --extension-dir DIR        extension under development (default: the repo root; its package.json `main`)
//   --suite DIR                compiled suite folder with index.js (default: dist/exthost-suite)
//   --workspace-template DIR   copy DIR into the fresh temp workspace folder that VS Code opens
//   --timeout SECONDS          overall time limit (default 600)
//   --grep PATTERN             only tests whose full title matches (mocha grep)
//   --screenshot-at-end FILE   save a PNG of the workbench before shutting down
//   --keep                     keep the temp run folder (logs, profile, workspace) for debugging
//   --verbose                  print the whole workbench / extension-host log and code-server output
//
// The extension host inherits these environment variables from code-server:
//   PEERSYNC_EXTHOST_RESULTS    file the suite appends one JSON line {title, state, error?} per test to
//   PEERSYNC_EXTHOST_WORKSPACE  absolute path of the opened workspace folder
//   PEERSYNC_EXTHOST_GREP       the --grep pattern, if any
//   PEERSYNC_EXTHOST_VSCODE_VERSION  the VS Code version under test (1.100.3)
// Prints each test's result, then `N passed, M failed`; exits 1 on any failure, load error or timeout.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { codeServerDir, ensureCodeServer, repoRoot } from './install-code-server.mjs';

const CHROMIUM = '/usr/bin/chromium';
const LOG_PREFIX = '[exthost-test]'; // the suite's reporter prefixes its console lines with this
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  // stops Chromium's own lookups of Google hosts; only loopback resolves
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];
/** A quiet VS Code profile: no telemetry, updates, experiments or recommendations (also used by the npm start demo). */
export const USER_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'git.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
};

function usage(msg) {
  if (msg) console.error(`run.mjs: ${msg}`);
  (msg ? console.error : console.log)(
    'usage: node test/exthost/run.mjs [--extension-dir DIR] [--suite DIR] [--workspace-template DIR] ' +
      '[--timeout SECONDS] [--grep PATTERN] [--screenshot-at-end FILE] [--install-vsix FILE] [--keep] [--verbose]',
  );
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'extension-dir': { type: 'string' },
        suite: { type: 'string' },
        'workspace-template': { type: 'string' },
        timeout: { type: 'string' },
        grep: { type: 'string' },
        'screenshot-at-end': { type: 'string' },
        'install-vsix': { type: 'string' },
        keep: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) usage();
  const timeoutSec = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) usage(`bad --timeout ${values.timeout}`);
  return {
    extensionDir: resolve(values['extension-dir'] ?? repoRoot),
    suiteDir: resolve(values.suite ?? join(repoRoot, 'dist', 'exthost-suite')),
    workspaceTemplate: values['workspace-template'] ? resolve(values['workspace-template']) : undefined,
    timeoutMs: timeoutSec * 1000,
    grep: values.grep,
    screenshotAtEnd: values['screenshot-at-end'] ? resolve(values['screenshot-at-end']) : undefined,
    installVsix: values['install-vsix'] ? resolve(values['install-vsix']) : undefined,
    keep: values.keep,
    verbose: values.verbose,
  };
}

function say(msg) {
  console.log(`[exthost] ${msg}`);
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function isLoopback(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/** Warns about an extension folder VS Code will not load as intended (the tests still run). */
function checkExtension(dir) {
  const pkgFile = join(dir, 'package.json');
  if (!existsSync(pkgFile)) throw new Error(`no package.json in extension dir ${dir}`);
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (!pkg.engines?.vscode) say(`warning: ${pkgFile} has no engines.vscode; VS Code will not load it as an extension`);
  if (pkg.main && !existsSync(resolve(dir, pkg.main)) && !existsSync(resolve(dir, `${pkg.main}.js`))) {
    say(`warning: the extension's main ${pkg.main} does not exist (build it first); activation will fail`);
  }
}

/** The VS Code version code-server bundles (1.100.3 for code-server 4.100.3). */
function vscodeVersion(csDir) {
  return JSON.parse(readFileSync(join(csDir, 'lib', 'vscode', 'package.json'), 'utf8')).version;
}

/** Helper for later: a PNG of whatever the page shows. */
export async function screenshot(page, file) {
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  say(`screenshot: ${file}`);
}

export function countResults(results) {
  const n = (state) => results.filter((r) => r.state === state).length;
  return { passed: n('passed'), failed: n('failed'), pending: n('pending') };
}

export function printResults(results) {
  for (const r of results) {
    const tag = r.state === 'passed' ? 'PASS' : r.state === 'pending' ? 'SKIP' : 'FAIL';
    console.log(`${tag}  ${r.title}`);
    if (r.error)
      console.log(
        r.error
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n'),
      );
  }
}

export function printSummary({ passed, failed, pending }) {
  if (pending > 0) console.log(`${pending} pending`);
  console.log(`${passed} passed, ${failed} failed`);
}

/** The JSON lines {title, state, error?} the suite appended to $PEERSYNC_EXTHOST_RESULTS. */
export function readResults(file) {
  if (!existsSync(file)) return [];
  const out = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      out.push({ title: `(unreadable result line) ${line}`, state: 'failed' });
    }
  }
  return out;
}

/** Formats a codeAutomationLog call: (level, message) or (type, args[]). */
function formatLog(args) {
  const parts = args.length > 1 ? args.slice(1) : args;
  return parts
    .flat()
    .map((p) => (typeof p === 'string' ? p : JSON.stringify(p)))
    .join(' ');
}

export async function main(argv = process.argv.slice(2)) {
  const opts = parseOptions(argv);
  let t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  const indexFile = join(opts.suiteDir, 'index.js');
  if (!existsSync(indexFile)) {
    console.error(`[exthost] no compiled suite at ${indexFile}: run node test/exthost/build-suite.mjs first`);
    return 1;
  }
  checkExtension(opts.extensionDir);
  ensureCodeServer(); // also makes sure chromium and rg are there (apt-get as root), or says what is missing
  t0 = Date.now(); // --timeout covers the run, not a first-time install
  const csDir = codeServerDir();

  // Everything of this run lives in one temp folder: XDG dirs, TMPDIR, user data, browser profile, workspace.
  const runDir = mkdtempSync(join(tmpdir(), 'peersync-exthost-'));
  const d = (...p) => join(runDir, ...p);
  for (const p of ['config', 'data', 'cache', 'tmp', 'user-data/User', 'extensions', 'browser-profile', 'workspace']) {
    mkdirSync(d(p), { recursive: true });
  }
  mkdirSync(d('runtime'), { recursive: true, mode: 0o700 });
  const workspace = d('workspace');
  if (opts.workspaceTemplate) cpSync(opts.workspaceTemplate, workspace, { recursive: true });
  writeFileSync(d('user-data', 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  writeFileSync(d('config.yaml'), 'auth: none\ncert: false\n');
  const resultsFile = d('results.jsonl');
  writeFileSync(resultsFile, '');

  const isolatedEnv = {
    XDG_CONFIG_HOME: d('config'),
    XDG_DATA_HOME: d('data'),
    XDG_CACHE_HOME: d('cache'),
    XDG_RUNTIME_DIR: d('runtime'),
    TMPDIR: d('tmp'),
  };

  let server; // the code-server child (leader of its own process group)
  let serverExited;
  let browserLaunch; // promise of the playwright BrowserContext, once launching started
  let interrupted = false;
  let cleanedUp;
  const cleanup = () =>
    (cleanedUp ??= (async () => {
      if (browserLaunch) {
        // also waits for a launch still in progress, so Chromium is never orphaned mid-start
        const context = await Promise.race([browserLaunch.catch(() => undefined), sleep(15_000)]);
        if (context) await Promise.race([context.close().catch(() => {}), sleep(5000)]);
      }
      if (server && server.exitCode === null && server.signalCode === null) {
        try {
          process.kill(-server.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const ended = await Promise.race([serverExited.then(() => true), sleep(5000).then(() => false)]);
        if (!ended) say('code-server did not stop within 5 s of SIGTERM: SIGKILL');
      }
      // whatever is left in code-server's group (e.g. an extension host that outlived its parent)
      if (server)
        try {
          process.kill(-server.pid, 'SIGKILL');
        } catch {
          /* none left */
        }
      // processes that left both groups but still use this run's folder (Chromium's crashpad handlers
      // after an interrupted start): matched by the unique run folder in their command line
      await killStragglers(runDir);
      if (opts.keep) say(`kept run folder ${runDir}`);
      else removeDir(runDir);
    })());
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    say(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // last resort if this process exits some other way: no code-server left behind
  process.on('exit', () => {
    if (server)
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  });

  let exitCode;
  const serverLog = [];
  try {
    // ---- code-server ----
    const port = await freePort();
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
    Object.assign(env, isolatedEnv, {
      EXTENSIONS_GALLERY: '{}',
      PEERSYNC_EXTHOST_RESULTS: resultsFile,
      PEERSYNC_EXTHOST_WORKSPACE: workspace,
      PEERSYNC_EXTHOST_VSCODE_VERSION: vscodeVersion(csDir),
    });
    if (opts.grep) env.PEERSYNC_EXTHOST_GREP = opts.grep;
    if (opts.installVsix) {
      // Installed the way a user would (`--install-extension`), into this run's fresh extensions folder.
      env.PEERSYNC_EXTHOST_VSIX = opts.installVsix;
      const r = spawnSync(process.execPath, [join(csDir, 'out', 'node', 'entry.js'), '--extensions-dir', d('extensions'), '--user-data-dir', d('user-data'), '--install-extension', opts.installVsix], {
        cwd: runDir,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`code-server --install-extension ${opts.installVsix} failed: ${r.stderr || r.stdout}`);
      say(`installed ${opts.installVsix}`);
    }
    const serverArgs = [
      join(csDir, 'out', 'node', 'entry.js'),
      '--config',
      d('config.yaml'),
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--user-data-dir',
      d('user-data'),
      '--extensions-dir',
      d('extensions'),
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--disable-proxy',
      '--ignore-last-opened',
    ];
    // detached: the child calls setsid(), so the whole group (extension host, pty host, …) can be ended
    server = spawn(process.execPath, serverArgs, { cwd: runDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    serverExited = new Promise((r) => server.once('exit', r));
    const serverLogFile = createWriteStream(d('code-server.log'));
    let listening;
    const listeningP = new Promise((res, rej) => {
      listening = res;
      server.once('exit', (code, sig) => rej(new Error(`code-server exited (${sig ?? code}) before listening`)));
      server.once('error', rej);
    });
    listeningP.catch(() => {});
    const onServerOutput = (chunk) => {
      serverLogFile.write(chunk);
      const text = chunk.toString();
      for (const line of text.split('\n')) {
        if (!line) continue;
        serverLog.push(line);
        if (serverLog.length > 200) serverLog.shift();
        if (opts.verbose) console.log(`[code-server] ${line}`);
      }
      if (text.includes('HTTP server listening')) listening();
    };
    server.stdout.on('data', onServerOutput);
    server.stderr.on('data', onServerOutput);
    await withTimeout(listeningP, 60_000, 'code-server did not report "HTTP server listening" within 60 s');
    say(`code-server listening on 127.0.0.1:${port} (${elapsed()})`);

    // ---- Chromium ----
    const { chromium } = await import('playwright-core');
    browserLaunch = chromium.launchPersistentContext(d('browser-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: { ...process.env, ...isolatedEnv },
      viewport: { width: 1280, height: 800 },
      // playwright's own handlers would process.exit(130) on Ctrl-C before our cleanup ran
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const context = await browserLaunch;
    let blocked = 0;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      blocked++;
      if (opts.verbose) say(`blocked request to ${url}`);
      return route.abort('blockedbyclient');
    });
    let exited;
    const exitP = new Promise((r) => {
      exited = r;
    });
    await context.exposeFunction('codeAutomationExit', (code) => {
      exited(Number(code) || 0);
    });
    await context.exposeFunction('codeAutomationLog', (...args) => {
      const msg = formatLog(args);
      for (const line of msg.split('\n')) {
        const i = line.indexOf(LOG_PREFIX);
        if (i < 0) {
          if (opts.verbose) console.log(`[workbench] ${line}`);
          continue;
        }
        // live progress from the suite's reporter; indented lines (error details) are printed at the end
        const text = line.slice(i + LOG_PREFIX.length + 1);
        if (opts.verbose || !text.startsWith(' ')) console.log(`  ${text}`);
      }
    });
    const page = context.pages()[0] ?? (await context.newPage());
    if (opts.verbose) {
      // plain console.log lines also arrive via codeAutomationLog; show only the browser's warnings and errors
      page.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') console.log(`[browser:${m.type()}] ${m.text()}`);
      });
      page.on('pageerror', (e) => console.log(`[browser:pageerror] ${e.message}`));
    }

    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(opts.extensionDir)],
      ['extensionTestsPath', remote(indexFile.replace(/\.js$/, ''))],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    if (opts.verbose) say(`opening ${url}`);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    say(`workbench loading; running tests (time limit ${opts.timeoutMs / 1000} s)`);

    const remaining = Math.max(1000, opts.timeoutMs - (Date.now() - t0));
    let timer;
    const outcome = await Promise.race([
      exitP.then((code) => ({ code })),
      serverExited.then((code) => ({ serverDied: code })),
      new Promise((r) => {
        timer = setTimeout(() => r({ timedOut: true }), remaining);
      }),
    ]);
    clearTimeout(timer);
    if (interrupted) return 130;
    if (opts.screenshotAtEnd) await screenshot(page, opts.screenshotAtEnd).catch((e) => say(`screenshot failed: ${e.message}`));
    if (blocked > 0) say(`blocked ${blocked} non-loopback request(s)`);

    // ---- results ----
    const results = readResults(resultsFile);
    const { passed, failed, pending } = countResults(results);
    console.log('');
    printResults(results);
    let problem;
    if (outcome.timedOut) problem = `timed out after ${opts.timeoutMs / 1000} s (the workbench never called codeAutomationExit)`;
    else if (outcome.serverDied !== undefined) problem = `code-server exited (${outcome.serverDied}) during the run`;
    else if (outcome.code !== 0 && failed === 0) problem = `the test run ended with exit code ${outcome.code} but no test failed: the suite did not load (see the log)`;
    else if (results.length === 0) problem = 'no test ran';
    if (problem) {
      console.log(`ERROR ${problem}`);
      if (!opts.verbose) {
        console.log('--- last code-server output ---');
        for (const l of serverLog.slice(-40)) console.log(`  ${clip(l)}`);
      }
    }
    printSummary({ passed, failed, pending });
    say(`done in ${elapsed()}`);
    exitCode = failed > 0 || problem ? 1 : 0;
  } catch (err) {
    if (interrupted) return 130; // the signal handler is cleaning up and exits
    console.error(`[exthost] ERROR ${err instanceof Error ? err.stack : err}`);
    if (serverLog.length > 0) {
      console.error('--- last code-server output ---');
      for (const l of serverLog.slice(-40)) console.error(`  ${clip(l)}`);
    }
    exitCode = 1;
  } finally {
    await cleanup(); // once only; also what the signal handler awaits
    if (!interrupted) for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(sig, onSignal);
  }
  return exitCode;
}

/** code-server dumps whole minified source lines with some stack traces. */
function clip(line, max = 400) {
  return line.length > max ? `${line.slice(0, max)}… (${line.length - max} more characters)` : line;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** rm -rf that tolerates files still being written by processes that are just ending. */
function removeDir(dir) {
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      return;
    } catch (err) {
      if (attempt >= 3) {
        say(`warning: could not remove ${dir}: ${err.message}`);
        return;
      }
    }
  }
}

/** SIGKILLs processes (other than this one) whose command line mentions this run's unique folder. */
async function killStragglers(runDir) {
  if (process.platform !== 'linux') return;
  const { readdirSync } = await import('node:fs');
  let killed = 0;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!cmdline.includes(`${runDir}/`)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      /* gone */
    }
  }
  if (killed > 0) await sleep(200);
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
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
