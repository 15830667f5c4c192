/**
 * PeerSync benchmark: storage and replication.
 *
 *   npm run bench                      full run, N = 100,000 docs per storage case
 *   npm run bench -- --quick           N = 2,000 (a few seconds)
 *   npm run bench -- --smoke           the --quick cases at their smallest sizes: checks that every
 *                                      case runs and reports well-formed results, not its speed
 *                                      (test/integration/bench-smoke.test.ts runs it)
 *   npm run bench -- --only NAME[,NAME] run only these cases (whatever their mode)
 *   npm run bench -- --n 50000         override N of the storage cases
 *   npm run bench -- --save            also write bench/results/<YYYY-MM-DD>.json (git-ignored)
 *
 * The replication cases (bench/repl-cases.ts) have their own sizes, which --n does not change:
 * throughput repl-{push,pull}-{ws,wss}-{10k,100k} in full runs and -1k with --quick; latency 1,000
 * changes (100 with --quick); fan-out repl-fanout-20 (20 pullers x 100 changes; --quick 5 x 20);
 * server-cold-start (median of 5; --quick 2); repl-scaling, a row derived from the wss rows. They
 * run `node dist/cli.js` processes: build first (`npm run bench` does).
 *
 * PouchDB comparators (bench/pouch-cases.ts), in the same run: pouchdb-{push,pull}-{10k,100k} and
 * pouchdb-latency-hub in full runs, pouchdb-push-1k with --quick. They need the devDependencies
 * pouchdb-node and pouchdb-server (`npm ci`); see that file for the LevelDB binding setup.
 *
 * A real Couchbase Lite client (bench/cblite-cases.ts), full runs: cblite-{push,pull}-{ws,wss}-20k,
 * n/a when the cblite binary is absent.
 *
 * Output: machine info, then per case a table row and a `BENCH {json}` line, then the summary
 * table, every case's extra figures, the goals, and a Markdown summary for the README.
 * Goals are reported (PASS/FAIL), never enforced: the exit code is non-zero only if a case crashed.
 * The figures depend on the machine and on its load at the time: quote them with both.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cases } from './cases';
import { killChildren } from './child';
import { BATCH_SIZE, benchConfig, type BenchMode } from './modes';
import { BenchContext, JSON_PREFIX, MACHINE_PREFIX, readmeSummary, runCases, selectCases, tableHeader, tableRow, type BenchCase, type CaseResult } from './harness';

const USAGE = 'usage: node --import tsx bench/run.ts [--quick | --smoke] [--save] [--only NAME[,NAME...]] [--n COUNT]';

interface Args {
  quick: boolean;
  smoke: boolean;
  save: boolean;
  only: string[];
  n: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, smoke: false, save: false, only: [], n: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--smoke':
        args.smoke = true;
        break;
      case '--save':
        args.save = true;
        break;
      case '--only':
        args.only.push(...value().split(',').filter(Boolean));
        break;
      case '--n': {
        const n = Number(value());
        if (!Number.isInteger(n) || n <= 0) throw new Error('--n must be a positive integer');
        args.n = n;
        break;
      }
      case '--help':
      case '-h':
        console.log(USAGE);
        console.log(`cases: ${cases.map((c) => (c.mode ? `${c.name} (${c.mode} only)` : c.name)).join(', ')}`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return args;
}

function machineInfo(n: number, mode: BenchMode, tmpRoot: string): Record<string, string | number | boolean | null> {
  const cpu = cpus();
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  let sqljs: string | null = null;
  try {
    // sql.js's package.json is not in its "exports"; find it beside its main file (dist/…).
    sqljs = (JSON.parse(readFileSync(join(dirname(require.resolve('sql.js')), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* unknown */
  }
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    availableParallelism: availableParallelism(),
    memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    sqljs,
    platform: `${platform()} ${release()} ${arch()}`,
    commit,
    date: new Date().toISOString(),
    n,
    quick: mode !== 'full',
    mode,
    tmpRoot,
  };
}

const repoRoot = resolve(__dirname, '..');

function localDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function summary(results: CaseResult[]): string {
  return [tableHeader(), ...results.map(tableRow)].join('\n');
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const unknown = args.only.filter((name) => !cases.some((c) => c.name === name));
  if (unknown.length > 0) {
    console.error(`bench: unknown case ${unknown.join(', ')}; cases: ${cases.map((c) => c.name).join(', ')}`);
    return 2;
  }
  const mode: BenchMode = args.smoke ? 'smoke' : args.quick ? 'quick' : 'full';
  const config = benchConfig(mode, repoRoot, args.n);
  const selected: BenchCase[] = selectCases(cases, config.quick, args.only);
  const n = config.n;
  const ctx = new BenchContext(config);

  // Child processes and the temp root go whatever happens: normal end (dispose), crash (exit
  // handler), Ctrl-C / kill. A CLI child left running would otherwise outlive the bench.
  process.on('exit', () => {
    killChildren();
    ctx.removeTmpRoot();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killChildren();
      ctx.removeTmpRoot();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }

  try {
    const machine = machineInfo(n, mode, ctx.tmpRoot);
    console.log('PeerSync benchmark (storage, replication)');
    console.log(`  cpu:    ${machine['cpuModel']} (${machine['cores']} cores)`);
    console.log(`  memory: ${machine['memoryGB']} GB`);
    console.log(`  node:   ${machine['node']} (v8 ${machine['v8']}), sql.js ${machine['sqljs'] ?? '?'}, ${machine['platform']}`);
    console.log(`  run:    N = ${n.toLocaleString('en-US')} docs per storage case${mode === 'full' ? '' : ` (--${mode})`}, batches of ${BATCH_SIZE}, commit ${machine['commit'] ?? '?'}`);
    console.log(`${MACHINE_PREFIX}${JSON.stringify(machine)}`);
    console.log('');
    console.log(tableHeader());

    const { results, failures, skipped } = await runCases(ctx, selected, {
      onResult(r) {
        console.log(tableRow(r));
        console.log(`${JSON_PREFIX}${JSON.stringify(r)}`);
      },
      onFailure(f) {
        console.log(`${f.name.padEnd(20)} | FAILED (see stderr)`);
        console.log(`${JSON_PREFIX}${JSON.stringify(f)}`);
        console.error(`bench: case ${f.name} failed:\n${f.error}`);
      },
      onSkip(s) {
        console.log(`${s.name.padEnd(20)} | n/a: ${s.skipped}`);
        console.log(`${JSON_PREFIX}${JSON.stringify(s)}`);
      },
    });

    console.log('');
    console.log('Summary');
    console.log(summary(results));
    for (const r of results) {
      if (Object.keys(r.extra).length > 0)
        console.log(
          `  ${r.name}: ${Object.entries(r.extra)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
    }
    const goals = results.filter((r) => r.goal);
    if (goals.length > 0) {
      console.log('Goals (reported, not enforced):');
      for (const r of goals) {
        for (const g of r.goals) {
          const verdict = g.pass === null ? 'n/a (comparator not run)' : g.pass ? 'PASS' : 'FAIL';
          console.log(`  ${r.name}: ${g.description}, actual ${g.actual ?? '-'} -> ${verdict}${g.note ? ` (${g.note})` : ''}`);
        }
      }
    }
    console.log('');
    console.log(
      `Summary for the README (${args.only.length > 0 ? 'selected cases' : mode === 'full' ? 'full run' : `--${mode} run: small sizes, not representative`}; ${machine['cpuModel']}, ${machine['cores']} cores, node ${machine['node']}; the machine's load at the time affects every figure)`,
    );
    console.log(readmeSummary(cases, results, skipped));
    if (failures.length > 0) console.log(`${failures.length} case(s) failed: ${failures.map((f) => f.name).join(', ')}`);

    if (args.save) {
      const dir = join(repoRoot, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${localDate(new Date())}.json`);
      const { tmpRoot: _tmp, ...machineSaved } = machine;
      writeFileSync(file, `${JSON.stringify({ machine: machineSaved, results, failures, skipped }, null, 2)}\n`);
      console.log(`saved ${file}`);
    }
    return failures.length > 0 ? 1 : 0;
  } finally {
    await ctx.dispose();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
