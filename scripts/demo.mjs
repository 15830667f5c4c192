// `npm start`: PeerSync as a user sees it. Starts two demo peers and VS Code in the browser with the
// PeerSync extension installed, prints the URL to open, and stops everything on Ctrl+C.
//
//   node scripts/demo.mjs [--headless] [--reset] [--port N] [--vscode-port N]
//   (through npm: npm start -- --headless)
//
//   peer "inventory"  node dist/cli.js serve --demo: a listener (TLS, anonymous self-signed certificate)
//                     on .peersync/demo/inventory, seeded with the tutorial's inventory list (doc "list")
//   peer "phone"      node dist/cli.js replicate --continuous: keeps .peersync/demo/phone in sync with it
//   VS Code           code-server 4.100.3 (the one the extension-host tests use, installed on first use
//                     into .cache/code-server) on 127.0.0.1, no auth, no telemetry, no marketplace, with
//                     this repository installed as the extension peersync.peersync and the workspace
//                     .peersync/demo/workspace, whose settings point the extension at its own data
//                     folder .peersync/demo/vscode (database "laptop")
//
// --headless (or PEERSYNC_DEMO_HEADLESS=1) skips VS Code; so does a failed code-server install or start,
// with a message. Everything lives under .peersync/demo (git-ignored); --reset deletes it first.
// Output of the three processes goes to .peersync/demo/logs/.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { USER_SETTINGS as TEST_USER_SETTINGS } from '../test/exthost/run.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(repoRoot, 'dist', 'cli.js');
const demoDir = join(repoRoot, '.peersync', 'demo');
const d = (...p) => join(demoDir, ...p);
const rel = (p) => relative(process.cwd(), p) || '.';
const STOP_GRACE_MS = 5000;

// The tests' quiet profile, opening the demo workspace's README.md (the walkthrough) at start.
const USER_SETTINGS = { ...TEST_USER_SETTINGS, 'workbench.startupEditor': 'readme', 'files.autoSave': 'off' };

// ---------------------------------------------------------------------------------------------------
// options

function usage(problem) {
  const text = [
    'usage: node scripts/demo.mjs [--headless] [--reset] [--port N] [--vscode-port N]   (npm start -- …)',
    '  --headless        only the two peers, no VS Code (also: PEERSYNC_DEMO_HEADLESS=1)',
    '  --reset           delete .peersync/demo first (databases, VS Code profile) and start afresh',
    '  --port N          port of the inventory listener (default 4984, else any free port)',
    '  --vscode-port N   port of VS Code in the browser on 127.0.0.1 (default 8080, else any free port)',
  ].join('\n');
  if (problem) {
    console.error(`demo: ${problem}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

let opts;
try {
  opts = parseArgs({
    options: {
      headless: { type: 'boolean', default: false },
      reset: { type: 'boolean', default: false },
      port: { type: 'string' },
      'vscode-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  usage(err.message);
}
if (opts.help) usage();
const portOption = (name) => {
  if (opts[name] === undefined) return undefined;
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 0 || n > 65535) usage(`--${name} must be 0–65535`);
  return n;
};
const listenerPortWanted = portOption('port');
const vscodePortWanted = portOption('vscode-port');
let headless = opts.headless || /^(1|true|yes)$/i.test(process.env.PEERSYNC_DEMO_HEADLESS ?? '');

// ---------------------------------------------------------------------------------------------------
// small helpers

function say(msg) {
  console.log(msg);
}

// what the peers report is held back until the banner with the URLs is out
let peerLines = [];
function peerSay(msg) {
  if (peerLines) peerLines.push(msg);
  else say(msg);
}
function flushPeerLines() {
  const lines = peerLines ?? [];
  peerLines = undefined;
  for (const l of lines) say(l);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function canListen(port, host) {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => res(false));
    srv.listen(port, host, () => srv.close(() => res(true)));
  });
}

function freePort(host) {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
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

/** Runs the CLI to completion (db create and the like). */
function cliSync(args) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8' });
}

/** A database directory the CLI can open (created if missing). */
function ensureDatabase(path) {
  if (existsSync(path)) return;
  const r = cliSync(['db', 'create', '--db', path]);
  if (r.status !== 0) throw new Error(`could not create the database ${rel(path)}: ${(r.stderr || r.stdout).trim()}`);
}

// ---------------------------------------------------------------------------------------------------
// child processes: each leads its own process group, so stopping one ends everything it started

/** @type {Set<Child>} */
const children = new Set();
let stopping = false;

class Child {
  constructor(name, cmd, args, { env, logFile, cwd = repoRoot }) {
    this.name = name;
    this.stderrTail = [];
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.log.write(`\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
    this.proc = spawn(cmd, args, { cwd, env: env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => {
      this.proc.once('exit', (code, signal) => r({ code, signal }));
      this.proc.once('error', (err) => r({ code: null, signal: null, error: err }));
    });
    this.running = true;
    this.exited.then(() => {
      this.running = false;
    });
    children.add(this); // kept after it exits: stop() still ends what is left of its group
    this.proc.stderr.on('data', (chunk) => {
      this.log.write(chunk);
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > 30) this.stderrTail.shift();
      }
    });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (line) => this.log.write(`${line}\n`));
  }

  tail(n = 15) {
    return this.stderrTail
      .slice(-n)
      .map((l) => `    ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`)
      .join('\n');
  }

  signal(sig) {
    try {
      process.kill(-this.proc.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM to the group, SIGKILL after STOP_GRACE_MS; also ends leftovers of the group. */
  async stop() {
    if (this.running) {
      this.signal('SIGTERM');
      const ended = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (!ended) say(`demo: ${this.name} did not stop within ${STOP_GRACE_MS / 1000} s of SIGTERM: SIGKILL`);
    }
    this.signal('SIGKILL'); // whatever is left in its group (e.g. an extension host or a server it spawned)
    await this.exited;
    children.delete(this);
    this.log.end();
  }
}

function startCli(name, args) {
  return new Child(name, process.execPath, [CLI, ...args], { logFile: d('logs', `${name}.log`) });
}

/** The first stdout line of a `--json` CLI process, parsed; rejects if it exits first. */
function firstJsonLine(child, timeoutMs) {
  const p = new Promise((res, rej) => {
    child.lines.once('line', (line) => {
      try {
        res(JSON.parse(line));
      } catch {
        rej(new Error(`${child.name} printed ${line}`));
      }
    });
    child.exited.then(async ({ code, signal, error }) => {
      await sleep(100); // the rest of its stderr
      rej(new Error(`${child.name} exited (${error ? error.message : (signal ?? `exit code ${code}`)}) before it was ready\n${child.tail()}`));
    });
  });
  return withTimeout(p, timeoutMs, `${child.name} was not ready within ${timeoutMs / 1000} s\n${child.tail()}`);
}

// ---------------------------------------------------------------------------------------------------
// the peers

async function startInventory() {
  const db = d('inventory');
  const attempt = async (port) => {
    const child = startCli('inventory', ['serve', '--db', db, '--demo', '--port', String(port), '--json', '--events']);
    try {
      return { child, ready: await firstJsonLine(child, 30_000) };
    } catch (err) {
      await child.stop();
      throw err;
    }
  };
  const wanted = listenerPortWanted ?? 4984;
  try {
    try {
      return await attempt(wanted);
    } catch (err) {
      if (listenerPortWanted !== undefined || wanted === 0 || !/EADDRINUSE/.test(err.message)) throw err;
      say(`demo: port ${wanted} is busy; the inventory listener takes any free port`);
      return await attempt(0);
    }
  } catch (err) {
    if (/in use by another process/.test(err.message)) {
      err.message += `\n  Is another demo (or peersync serve) running on ${rel(db)}? Stop it first.`;
    }
    throw err;
  }
}

/** Prints what replicated through the inventory listener (its --events lines). */
function followInventory(child) {
  child.lines.on('line', (line) => {
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    if (e.event !== 'document' || e.skipped) return;
    const what = `${e.deleted ? 'deletion of ' : ''}"${e.docId}" (rev ${e.revId})`;
    if (e.error) peerSay(`[inventory] ${e.direction === 'push' ? 'sending' : 'receiving'} ${what} failed: ${e.error.message}`);
    else peerSay(`[inventory] ${e.direction === 'push' ? 'sent' : 'received'} ${what}`);
  });
}

function startPhone(target) {
  const db = d('phone');
  ensureDatabase(db);
  const child = startCli('phone', ['replicate', '--db', db, '--target', target, '--continuous', '--self-signed-only', '--json']);
  let last = '';
  child.lines.on('line', (line) => {
    let s;
    try {
      s = JSON.parse(line);
    } catch {
      return;
    }
    let text;
    if (s.event === 'status') text = `${s.activity} (${s.completed}/${s.total} changes)${s.error ? `: ${s.error}` : ''}`;
    else if (s.event === 'documentError') text = `${s.direction} "${s.docId}" failed: ${s.error?.message ?? 'error'}`;
    else return;
    if (text === last) return;
    last = text;
    peerSay(`[phone] ${text}`);
  });
  return child;
}

// ---------------------------------------------------------------------------------------------------
// VS Code in the browser (code-server)

function extensionId() {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  return { folder: `${pkg.publisher}.${pkg.name}-${pkg.version}`, id: `${pkg.publisher}.${pkg.name}`, version: pkg.version, pkg };
}

/** Installs this repository as an extension of the demo profile: a symlink in the extensions folder. */
function installExtensionLink(extensionsDir) {
  const { folder, id, version, pkg } = extensionId();
  const link = join(extensionsDir, folder);
  let ok = false;
  try {
    ok = lstatSync(link).isSymbolicLink() && resolve(extensionsDir, readlinkSync(link)) === repoRoot;
  } catch {
    /* missing */
  }
  if (!ok) {
    rmSync(link, { recursive: true, force: true });
    symlinkSync(repoRoot, link, 'dir');
  }
  // the profile's list of installed extensions (VS Code reads this rather than scanning the folder)
  const manifest = [
    {
      identifier: { id },
      version,
      location: { $mid: 1, path: link, scheme: 'file' },
      relativeLocation: folder,
      metadata: {
        installedTimestamp: Date.now(),
        source: 'vsix',
        pinned: true,
        targetPlatform: 'undefined',
        updated: false,
        isApplicationScoped: false,
        isMachineScoped: false,
        isBuiltin: false,
        preRelease: false,
        hasPreReleaseVersion: false,
      },
    },
  ];
  writeFileSync(join(extensionsDir, 'extensions.json'), JSON.stringify(manifest));
  return { id, displayName: pkg.displayName ?? id };
}

function writeWorkspace(info) {
  const ws = d('workspace');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(
    join(ws, '.vscode', 'settings.json'),
    `${JSON.stringify(
      {
        // the extension's own databases; the demo peers hold theirs (a database is open in one process at a time)
        'peersync.dataFolder': d('vscode'),
        // Saving writes a revision that replicates: half-typed JSON must never be saved behind the user's back.
        'files.autoSave': 'off',
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(ws, 'README.md'), workspaceReadme(info));
  return ws;
}

function workspaceReadme({ listenerUrl, fingerprint }) {
  return `# PeerSync demo

\`npm start\` runs three peers on this machine:

| peer | what it is | its data |
| --- | --- | --- |
| **inventory** | a listener (\`peersync serve\`) at \`${listenerUrl}\`, seeded with the tutorial's inventory list (document \`list\`) | \`.peersync/demo/inventory\` |
| **phone** | a replicator (\`peersync replicate --continuous\`) that keeps its copy in sync with *inventory*, both ways | \`.peersync/demo/phone\` |
| **laptop** | this VS Code: the PeerSync extension and its database \`laptop\` | \`.peersync/demo/vscode/laptop\` |

The listener uses TLS with an anonymous self-signed certificate${fingerprint ? ` (SHA-256 \`${fingerprint}\`)` : ''}.

## Try it

1. Open the **PeerSync** view (the icon in the activity bar on the left). *Databases* shows \`laptop\` (empty on the first run).
2. In *Replications*, click **Replicate with a peer** (or run **PeerSync: Start Replication** from the
   Command Palette) and answer:
   - peer URL: \`${listenerUrl}\` (once it is a known peer, pick it from the list)
   - local database: **laptop** (asked only when there are several)
   - direction: **Push and pull**, mode: **Continuous**, authentication: **None**
   - server certificate: **Accept the peer's self-signed certificate**
3. The replicator goes *busy*, then *idle*; under *Databases* → \`laptop\` → \`_default._default\` the document
   \`list\` has arrived. Click it: it opens as JSON.
4. Change something (say \`"value": 10\` → \`"value": 12\` for the apples) and **save**. The terminal
   running \`npm start\` shows \`[inventory] received "list"\` and then \`[inventory] sent "list"\`: the
   phone has the new revision too.
5. **PeerSync: Open Replication Dashboard** shows the replication live; **Show Revision History** on
   the document shows its revision tree.
6. Documents whose revisions conflict after replication appear under *Conflicts*; **Resolve Conflict**
   compares the revisions and saves the one you choose or a merge.

Inspect any peer's data with the CLI, while the demo runs (the command goes through the peer that holds
the database) or after stopping it with Ctrl+C:

\`\`\`sh
npx peersync db get list --db .peersync/demo/phone
npx peersync db history list --db .peersync/demo/inventory
\`\`\`

\`npm start -- --reset\` starts afresh; \`npm start -- --headless\` runs only the two peers.
`;
}

/** Waits (with a line every 10 s) for the install npm start began in the background, if it still runs. */
async function waitForBackgroundInstall(isInstalled) {
  const { backgroundPidFile, backgroundLog } = await import('./install-vscode-background.mjs');
  if (!existsSync(backgroundPidFile)) return;
  const pid = Number(readFileSync(backgroundPidFile, 'utf8').trim());
  const running = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const t0 = Date.now();
  let lastSaid = 0;
  while (!isInstalled() && running() && !stopping) {
    if (Date.now() - lastSaid >= 10_000) {
      say(`demo: VS Code (code-server) is still installing (${((Date.now() - t0) / 1000).toFixed(0)} s; log: ${rel(backgroundLog)})`);
      lastSaid = Date.now();
    }
    await sleep(1000);
  }
  rmSync(backgroundPidFile, { force: true });
  if (isInstalled()) say('demo: VS Code (code-server) is installed');
}

/** code-server's folder, installed on first use (synchronous: about a minute); throws if that fails. */
async function prepareVsCode() {
  const { ensureCodeServer, isInstalled, codeServerDir } = await import('../test/exthost/install-code-server.mjs');
  await waitForBackgroundInstall(isInstalled);
  if (!isInstalled()) {
    say('demo: first start: installing VS Code in the browser (code-server 4.100.3) into .cache/code-server; this takes about a minute, later starts skip it');
    const t0 = Date.now();
    ensureCodeServer(); // throws with a clear message (e.g. missing system packages, no registry)
    say(`demo: code-server installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return codeServerDir();
}

async function startVsCode(csDir, info) {
  const cs = (...p) => d('code-server', ...p);
  for (const p of ['config', 'data', 'cache', 'tmp', 'user-data/User', 'extensions']) mkdirSync(cs(p), { recursive: true });
  mkdirSync(cs('runtime'), { recursive: true, mode: 0o700 });
  const settingsFile = cs('user-data', 'User', 'settings.json');
  if (!existsSync(settingsFile)) writeFileSync(settingsFile, `${JSON.stringify(USER_SETTINGS, null, 2)}\n`);
  const ext = installExtensionLink(cs('extensions'));
  const workspace = writeWorkspace(info);

  const port = vscodePortWanted ?? ((await canListen(8080, '127.0.0.1')) ? 8080 : await freePort('127.0.0.1'));
  writeFileSync(cs('config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k.startsWith('npm_')) delete env[k];
  Object.assign(env, {
    XDG_CONFIG_HOME: cs('config'),
    XDG_DATA_HOME: cs('data'),
    XDG_CACHE_HOME: cs('cache'),
    XDG_RUNTIME_DIR: cs('runtime'),
    TMPDIR: cs('tmp'),
    EXTENSIONS_GALLERY: '{}', // no marketplace queries
  });
  const child = new Child(
    'VS Code (code-server)',
    process.execPath,
    [
      join(csDir, 'out', 'node', 'entry.js'),
      '--config',
      cs('config.yaml'),
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--user-data-dir',
      cs('user-data'),
      '--extensions-dir',
      cs('extensions'),
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--disable-proxy',
      '--ignore-last-opened',
      workspace,
    ],
    { env, logFile: d('logs', 'code-server.log'), cwd: demoDir },
  );
  const listening = new Promise((res, rej) => {
    const onData = (chunk) => {
      if (chunk.toString().includes('HTTP server listening')) res();
    };
    child.proc.stdout.on('data', onData);
    child.proc.stderr.on('data', onData);
    child.exited.then(({ code, signal, error }) => rej(new Error(`code-server exited (${error ? error.message : (signal ?? `exit code ${code}`)}) before listening\n${child.tail()}`)));
  });
  try {
    await withTimeout(listening, 60_000, 'code-server did not report "HTTP server listening" within 60 s');
  } catch (err) {
    await child.stop();
    throw err;
  }
  const folderParam = encodeURIComponent(workspace).replace(/%2F/g, '/');
  return { child, url: `http://127.0.0.1:${port}/?folder=${folderParam}`, ext };
}

// ---------------------------------------------------------------------------------------------------
// main

/** The gist of an install or start failure: its first line, the error lines, where the full log is. */
function shortProblem(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim());
  if (lines.length <= 8) return lines;
  const gist = lines.slice(1).filter((l) => /error|missing|install|failed|refused|denied|not found/i.test(l) && !/^\s*(npm error)?\s+at /.test(l) && !/npm warn/i.test(l));
  const log = lines.filter((l) => /full log|log:/i.test(l));
  return [lines[0], ...gist.slice(0, 6), ...log.filter((l) => !gist.slice(0, 6).includes(l))];
}

async function shutdown(code, why) {
  if (stopping) return;
  stopping = true;
  flushPeerLines();
  if (why) say(`\ndemo: ${why}`);
  // VS Code and the phone first (they replicate with the listener), then the listener
  const first = [...children].filter((c) => c.name !== 'inventory');
  const rest = [...children].filter((c) => c.name === 'inventory');
  const names = [...first, ...rest].filter((c) => c.running).map((c) => c.name);
  if (names.length > 0) say(`demo: stopping ${names.join(', ')}…`);
  await Promise.all(first.map((c) => c.stop()));
  await Promise.all(rest.map((c) => c.stop()));
  say('demo: stopped');
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // npm forwards the terminal's Ctrl+C too, so a second signal during the shutdown is ignored
  process.on(sig, () => void shutdown(0, `${sig}`));
}
// npm passes a SIGTERM on to its `sh -c`, which dies without passing it on: a parent that went away
// (this process re-parented) also stops the demo
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(0, 'the process that started the demo has exited');
}, 1000).unref();
// last resort if this process ends some other way: no peer or code-server left behind
process.on('exit', () => {
  for (const c of children) c.signal('SIGKILL');
});

async function main() {
  if (!existsSync(CLI) || !existsSync(join(repoRoot, 'dist', 'extension.js'))) {
    console.error('demo: dist/ is not built: run npm run build (npm start does it first)');
    process.exit(1);
  }
  if (opts.reset && existsSync(demoDir)) {
    say(`demo: --reset: deleting ${rel(demoDir)}`);
    rmSync(demoDir, { recursive: true, force: true });
  }
  mkdirSync(d('logs'), { recursive: true });

  const t0 = Date.now();
  let csDir;
  let vscodeProblem;

  // peer A: the listener with the inventory list
  const { child: inventory, ready } = await startInventory();
  const listenerUrl = ready.urls.find((u) => u.includes('//127.0.0.1:')) ?? `${ready.tls ? 'wss' : 'ws'}://127.0.0.1:${ready.port}/inventory`;
  followInventory(inventory);

  // peer B: the phone, replicating with it continuously
  const phone = startPhone(listenerUrl);

  // the extension's own database, opened by the extension at start
  ensureDatabase(d('vscode', 'laptop'));

  const info = { listenerUrl, fingerprint: ready.certificateFingerprint };
  say(`demo: the peers run (${((Date.now() - t0) / 1000).toFixed(1)} s): inventory at ${listenerUrl}, phone replicating with it`);
  // VS Code after the peers: a first start installs it (about a minute), with the peers already syncing.
  if (!headless) {
    try {
      csDir = await prepareVsCode();
    } catch (err) {
      vscodeProblem = err instanceof Error ? err.message : String(err);
    }
    await sleep(50); // a Ctrl+C during the (synchronous) install is handled now
    if (stopping) return;
  }
  let vscode;
  if (csDir) {
    try {
      vscode = await startVsCode(csDir, info);
    } catch (err) {
      vscodeProblem = err instanceof Error ? err.message : String(err);
    }
  }
  if (!vscode) writeWorkspace(info);
  if (stopping) return;

  const lines = ['', `PeerSync demo running (started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`, ''];
  if (vscode) {
    lines.push(
      'VS Code in the browser — open:',
      `  ${vscode.url}`,
      `  (${vscode.ext.displayName} extension installed; its database "laptop" is in ${rel(d('vscode'))};`,
      '   the workspace README shows what to click)',
      '',
    );
  } else if (vscodeProblem) {
    lines.push(
      'VS Code in the browser could not start, so the demo runs headless:',
      ...shortProblem(vscodeProblem).map((l) => `  ${l}`),
      '  (npm start -- --headless skips VS Code; npm start retries it)',
      '',
    );
  } else {
    lines.push('Headless: no VS Code (--headless).', '');
  }
  lines.push(
    `peer "inventory" — listener on ${rel(d('inventory'))} with the tutorial's inventory list (document "list"${ready.seeded ? ', seeded just now' : ''})`,
    ...ready.urls.map((u) => `  ${u}`),
    ready.tls ? `  TLS: anonymous self-signed certificate, SHA-256 ${ready.certificateFingerprint}` : '  TLS: off',
    `peer "phone" — ${rel(d('phone'))}, replicating with ${listenerUrl} (push and pull, continuous)`,
    '',
    vscode
      ? `In VS Code: PeerSync view → Replications → Replicate with a peer → ${listenerUrl}` + ' → Push and pull → Continuous → None → Accept the peer’s self-signed certificate.'
      : `A third peer: npx peersync replicate --db ${rel(d('vscode', 'laptop'))} --target ${listenerUrl} --self-signed-only`,
    'Changes that replicate through the listener are printed below.',
    `Data: ${rel(demoDir)}  (logs: ${rel(d('logs'))})`,
    '',
    'Ctrl+C to stop.',
    '',
  );
  say(lines.join('\n'));
  flushPeerLines();

  // any process ending on its own ends the demo
  const watched = [inventory, phone, ...(vscode ? [vscode.child] : [])];
  const first = await Promise.race(watched.map((c) => c.exited.then((r) => ({ c, r }))));
  if (stopping) return;
  const { c, r } = first;
  await shutdown(1, `${c.name} exited unexpectedly (${r.error ? r.error.message : (r.signal ?? `exit code ${r.code}`)})\n${c.tail()}`);
}

main().catch(async (err) => {
  console.error(`demo: ${err instanceof Error ? err.message : err}`);
  await shutdown(1);
});
