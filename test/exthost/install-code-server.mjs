// Installs code-server (VS Code server + Node extension host, from the npm registry) into the
// git-ignored cache folder .cache/code-server, for the extension-host tests (see test/exthost/README.md).
// Idempotent: a marker file records a finished install and later runs return at once.
//
//   node test/exthost/install-code-server.mjs [--force]
//
// code-server's own postinstall cannot run here (it refuses root under npm >= 7 and re-runs npm install
// in lib/vscode, where @vscode/ripgrep downloads from GitHub), so it is installed with scripts off and
// the postinstall's work is done by hand. Needs the Debian packages chromium, ripgrep, libkrb5-dev,
// g++, make, python3; as root, missing ones are apt-get installed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = join(repoRoot, '.cache', 'code-server');
const markerName = `.installed-code-server-${CODE_SERVER_VERSION}`;

/** Directory of the installed code-server package (contains out/node/entry.js). */
export function codeServerDir(base = cacheDir) {
  return join(base, 'node_modules', 'code-server');
}

export function isInstalled() {
  return existsSync(join(cacheDir, markerName)) && existsSync(join(codeServerDir(), 'out', 'node', 'entry.js'));
}

class StepError extends Error {}

function log(msg) {
  console.log(`[install-code-server] ${msg}`);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Debian packages: chromium + rg at run time, gssapi headers + a C++ toolchain to build native modules. */
function ensureSystemPackages() {
  const missing = [];
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (!existsSync('/usr/bin/rg')) missing.push('ripgrep');
  if (!existsSync('/usr/include/gssapi/gssapi.h') && !existsSync('/usr/include/gssapi.h')) missing.push('libkrb5-dev');
  if (!which('g++')) missing.push('g++');
  if (!which('make')) missing.push('make');
  if (!which('python3')) missing.push('python3');
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    throw new StepError(`missing system packages: ${missing.join(' ')}\n` + `  install them first, e.g.: sudo apt-get install -y chromium ripgrep libkrb5-dev g++ make python3`);
  }
  log(`apt-get install -y ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
  ]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      throw new StepError(`apt-get ${args.join(' ')} failed (exit ${r.status})\n${tail((r.stdout ?? '') + (r.stderr ?? ''))}`);
    }
  }
}

function tail(text, lines = 40) {
  return text.split('\n').slice(-lines).join('\n');
}

/** node-gyp needs Node's headers; point it at the ones beside this Node so it never downloads them. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const candidate = resolve(dirname(process.execPath), '..');
  return existsSync(join(candidate, 'include', 'node', 'common.gypi')) ? candidate : undefined;
}

/**
 * Installs into a staging folder, then renames it to .cache/code-server, so an interrupted install
 * never looks finished. Returns the code-server package directory.
 */
export function ensureCodeServer({ force = false } = {}) {
  if (!force && isInstalled()) return codeServerDir();
  const started = Date.now();
  ensureSystemPackages();

  mkdirSync(dirname(cacheDir), { recursive: true });
  const stage = `${cacheDir}.staging-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const logFile = join(stage, 'install.log');
  log(`installing code-server@${CODE_SERVER_VERSION} into ${cacheDir} (log: ${logFile}; takes about a minute)`);

  const baseEnv = {
    ...process.env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    // the rebuild steps must run build scripts even where a user's npmrc turns them off globally
    npm_config_ignore_scripts: 'false',
  };
  const nd = nodeDir();
  if (nd) baseEnv.npm_config_nodedir = nd;

  const run = (title, cwd, cmd, args, env = {}) => {
    const t0 = Date.now();
    log(
      `${title}: (cd ${cwd} && ${Object.entries(env)
        .map(([k, v]) => `${k}=${v} `)
        .join('')}${cmd} ${args.join(' ')})`,
    );
    appendFileSync(logFile, `\n=== ${title}\n$ ${cmd} ${args.join(' ')}\n`);
    const r = spawnSync(cmd, args, { cwd, env: { ...baseEnv, ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    appendFileSync(logFile, out);
    if (r.error || r.status !== 0) {
      throw new StepError(`step "${title}" failed (${r.error ? r.error.message : `exit ${r.status}`})\n${tail(out)}\n(full log: ${logFile})`);
    }
    log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r.stdout ?? '';
  };
  const link = (target, path) => {
    rmSync(path, { force: true });
    symlinkSync(target, path);
  };

  try {
    writeFileSync(join(stage, 'package.json'), JSON.stringify({ name: 'peersync-code-server-cache', private: true }, null, 2));
    run('npm install code-server', stage, 'npm', ['install', '--ignore-scripts', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`]);
    run('build argon2', stage, 'npm', ['rebuild', 'argon2'], { npm_config_build_from_source: 'true' });

    const cs = codeServerDir(stage);
    const vs = join(cs, 'lib', 'vscode');
    run('npm install lib/vscode', vs, 'npm', ['install', '--omit=dev', '--ignore-scripts']);
    const rgBin = join(vs, 'node_modules', '@vscode', 'ripgrep', 'bin');
    mkdirSync(rgBin, { recursive: true });
    link('/usr/bin/rg', join(rgBin, 'rg'));
    run('build lib/vscode native modules', vs, 'npm', ['rebuild'], { npm_config_yes: 'true', npm_config_build_from_source: 'kerberos' });
    link('node_modules', join(vs, 'node_modules.asar'));
    link('code-linux.sh', join(vs, 'bin', 'remote-cli', 'code-server'));
    link('browser-linux.sh', join(vs, 'bin', 'helpers', 'browser.sh'));
    run('npm install lib/vscode/extensions', join(vs, 'extensions'), 'npm', ['install', '--omit=dev']);
    // code-server writes a default config.yaml and log folder under XDG dirs even for --version: keep them in the stage
    const xdg = join(stage, 'version-check');
    const versionOut = run('check code-server --version', stage, process.execPath, [join(cs, 'out', 'node', 'entry.js'), '--version'], {
      XDG_CONFIG_HOME: join(xdg, 'config'),
      XDG_DATA_HOME: join(xdg, 'data'),
      XDG_CACHE_HOME: join(xdg, 'cache'),
    });
    rmSync(xdg, { recursive: true, force: true });
    const version = versionOut.trim().split('\n').pop()?.trim();
    if (!version?.startsWith(CODE_SERVER_VERSION)) throw new StepError(`unexpected code-server --version output: ${version}`);

    writeFileSync(join(stage, markerName), `${new Date().toISOString()}\n${version}\n`);
    if (!force && isInstalled()) {
      log('another install finished meanwhile; using that one');
      rmSync(stage, { recursive: true, force: true });
      return codeServerDir();
    }
    rmSync(cacheDir, { recursive: true, force: true });
    renameSync(stage, cacheDir);
  } catch (err) {
    // keep the log of the failed attempt where it can be read, drop the half-built folder
    const failedLog = `${cacheDir}-install-failed.log`;
    try {
      copyFileSync(logFile, failedLog);
    } catch {
      /* no log yet */
    }
    rmSync(stage, { recursive: true, force: true });
    if (err instanceof Error) err.message = err.message.replace(logFile, failedLog);
    throw err;
  }
  log(`installed code-server ${CODE_SERVER_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return codeServerDir();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const force = process.argv.includes('--force');
    if (!force && isInstalled()) log(`code-server ${CODE_SERVER_VERSION} already installed in ${cacheDir}`);
    else ensureCodeServer({ force });
  } catch (err) {
    console.error(`[install-code-server] FAILED: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
