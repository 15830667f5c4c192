/**
 * `bench/run.ts --quick` runs to completion and prints one well-formed `BENCH {json}` line per case.
 * Structure only: no timing thresholds (machines differ; goals are reported by the bench itself).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cases } from '../../bench/cases';
import { BenchContext, readmeSummary, runCases, selectCases, type BenchCase, type BenchConfig, type Goal } from '../../bench/harness';

const root = join(__dirname, '..', '..');
const TIMEOUT_MS = 120_000;
/** What bench/run.ts --quick runs with (QUICK_N, BATCH_SIZE). */
const QUICK_CONFIG: BenchConfig = { n: 2000, batchSize: 1000, quick: true, repoRoot: root };
/** The replication cases that must be part of a --quick run (the 10k/100k throughput ones are full-run only). */
const QUICK_REPLICATION_CASES = ['repl-push-ws-1k', 'repl-pull-ws-1k', 'repl-push-wss-1k', 'pouchdb-push-1k', 'tls-identity-create', 'repl-latency-direct', 'repl-latency-hub', 'repl-fanout-20', 'server-cold-start'];
const FULL_REPLICATION_CASES = [
  'repl-push-ws-10k', 'repl-pull-ws-10k', 'repl-push-ws-100k', 'repl-pull-ws-100k', 'repl-push-wss-10k', 'repl-pull-wss-10k', 'repl-push-wss-100k', 'repl-pull-wss-100k',
  'pouchdb-push-10k', 'pouchdb-pull-10k', 'pouchdb-push-100k', 'pouchdb-pull-100k', 'repl-scaling',
  'tls-identity-create', 'repl-latency-direct', 'pouchdb-latency-hub', 'repl-latency-hub', 'repl-fanout-20', 'server-cold-start',
];
/** Full-run only (too slow for CI, or comparing full-run figures). */
const NOT_QUICK = ['repl-push-ws-10k', 'repl-pull-ws-100k', 'pouchdb-push-10k', 'pouchdb-pull-100k', 'pouchdb-latency-hub', 'repl-scaling'];
/** Quick-run only. */
const NOT_FULL = ['repl-push-ws-1k', 'repl-pull-ws-1k', 'pouchdb-push-1k'];
const THROUGHPUT_EXTRA = ['wallSeconds', 'startupAndCloseSeconds', 'replicateMaxRssMB', 'listenerMaxRssMB', 'listenerDbMB', 'replicateDbMB', 'rssToDbMax'];
/** Figures every replication case reports in `extra` (structure only). */
const REPLICATION_EXTRA: Record<string, readonly string[]> = {
  'repl-push-ws-1k': THROUGHPUT_EXTRA,
  'repl-pull-ws-1k': THROUGHPUT_EXTRA,
  'repl-push-wss-1k': THROUGHPUT_EXTRA,
  'pouchdb-push-1k': ['serverMaxRssMB', 'fillSeconds', 'batchSize'],
  'tls-identity-create': ['p50Ms', 'maxMs'],
  'repl-latency-direct': ['p50Ms', 'p99Ms', 'maxMs'],
  'repl-latency-hub': ['p50Ms', 'p99Ms', 'maxMs'],
  'repl-fanout-20': ['p50Ms', 'p99Ms', 'maxMs', 'pullers', 'firstPullerP50Ms'],
  'server-cold-start': ['p50Ms', 'minMs', 'maxMs', 'runs'],
};

function goalsOf(c: BenchCase): readonly Goal[] {
  return c.goal === undefined ? [] : Array.isArray(c.goal) ? (c.goal as readonly Goal[]) : [c.goal as Goal];
}

/** A goal whose figure may legitimately be missing (its comparator is not part of the run): n/a is allowed. */
function mayBeUnavailable(c: BenchCase, g: Goal): boolean {
  return g.optional === true || (c.comparisons ?? []).some((x) => x.key === g.metric);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runBench(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // SIGTERM lets the bench kill its fixture children and remove its temp dir.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

test('the case registry has the replication cases, each in the right mode', () => {
  const quick = selectCases(cases, true).map((c) => c.name);
  const full = selectCases(cases, false).map((c) => c.name);
  for (const name of QUICK_REPLICATION_CASES) assert.ok(quick.includes(name), `--quick should run ${name} (runs: ${quick.join(', ')})`);
  for (const name of FULL_REPLICATION_CASES) assert.ok(full.includes(name), `a full run should run ${name} (runs: ${full.join(', ')})`);
  for (const name of NOT_QUICK) assert.ok(!quick.includes(name), `--quick should not run ${name}`);
  for (const name of NOT_FULL) assert.ok(!full.includes(name), `a full run should not run ${name}`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  // Whatever a case compares with runs before it, so the comparison is made in the same run.
  for (const selection of [quick, full]) {
    for (const name of selection) {
      const c = cases.find((x) => x.name === name)!;
      for (const other of [c.comparator, ...(c.comparisons ?? []).map((x) => x.against)]) {
        if (other === undefined || !selection.includes(other)) continue;
        assert.ok(selection.indexOf(other) < selection.indexOf(name), `${other} should run before ${name}, which compares with it`);
      }
    }
  }
  // In a full run every comparison is made: no PeerSync-vs-PouchDB goal is left without its comparator.
  for (const name of ['repl-push-wss-100k', 'repl-pull-wss-100k', 'repl-latency-hub']) {
    const c = cases.find((x) => x.name === name)!;
    assert.ok((c.comparisons ?? []).length > 0, `${name} should compare with PouchDB`);
    for (const x of c.comparisons ?? []) assert.ok(full.indexOf(x.against) >= 0 && full.indexOf(x.against) < full.indexOf(name), `${x.against} should run before ${name} in a full run`);
  }
  assert.ok(cases.find((c) => c.name === 'repl-scaling')?.derived, 'repl-scaling is a derived row');
  assert.ok(full.indexOf('repl-scaling') > full.indexOf('repl-pull-wss-100k'), 'repl-scaling comes after the rows it is derived from');
  // Fixed sizes: 1,000 docs quick, 10k/100k full; latency 100 changes quick, 1,000 full.
  const nOf = (name: string, quickRun: boolean): number | undefined => cases.find((c) => c.name === name)?.n?.({ ...QUICK_CONFIG, quick: quickRun });
  assert.equal(nOf('repl-push-ws-1k', true), 1000);
  assert.equal(nOf('repl-pull-ws-100k', false), 100_000);
  assert.equal(nOf('repl-push-ws-10k', false), 10_000);
  assert.equal(nOf('repl-latency-direct', true), 100);
  assert.equal(nOf('repl-latency-hub', false), 1000);
  assert.equal(nOf('pouchdb-push-1k', true), 1000);
  assert.equal(nOf('pouchdb-pull-100k', false), 100_000);
  assert.equal(nOf('pouchdb-latency-hub', false), 1000);
  assert.equal(nOf('repl-fanout-20', true), 20);
  assert.equal(nOf('repl-fanout-20', false), 100);
  assert.equal(nOf('server-cold-start', true), 2);
  assert.equal(nOf('server-cold-start', false), 5);
});

test('the harness: comparisons, optional goals, derived rows and the README summary', async () => {
  const ctx = new BenchContext({ ...QUICK_CONFIG, n: 10 });
  try {
    const fake: BenchCase[] = [
      { name: 'slow', description: '', run: async () => ({ n: 100, docBytes: 1, seconds: 1, extra: { p50Ms: 8 } }) },
      {
        name: 'fast',
        description: '',
        comparisons: [
          { key: 'vsSlow', against: 'slow' },
          { key: 'vsSlowP50', against: 'slow', metric: 'p50Ms', better: 'lower' },
          { key: 'vsMissing', against: 'not-run' },
        ],
        goal: [
          { metric: 'vsSlow', op: '>=', target: 5 },
          { metric: 'vsSlowP50', op: '>=', target: 2 },
          { metric: 'vsMissing', op: '>=', target: 1 },
        ],
        run: async () => ({ n: 100, docBytes: 1, seconds: 0.25, extra: { p50Ms: 2 } }),
      },
      {
        name: 'derived',
        description: '',
        derived: true,
        goal: [
          { metric: 'scaling', op: '<=', target: 4 },
          { metric: 'absent', op: '<=', target: 1, optional: true },
        ],
        run: async (c) => ({ n: 0, docBytes: 0, seconds: 0, extra: { scaling: c.result('slow')!.seconds / c.result('fast')!.seconds, absent: 'not measured' } }),
      },
    ];
    const { results, failures } = await runCases(ctx, fake);
    assert.deepEqual(failures, []);
    const fast = results.find((r) => r.name === 'fast')!;
    assert.equal(fast.extra['vsSlow'], 4);
    assert.equal(fast.extra['vsSlowP50'], 4);
    assert.match(String(fast.extra['vsMissing']), /^not measured/);
    assert.deepEqual(fast.goals.map((g) => g.pass), [false, true, null]);
    const derived = results.find((r) => r.name === 'derived')!;
    assert.equal(derived.derived, true);
    assert.equal(derived.opsPerSec, 0);
    assert.deepEqual(derived.goals.map((g) => g.pass), [true, null]);
    const md = readmeSummary(fake, results).split('\n');
    assert.equal(md.length, 2 + results.length);
    assert.match(md.find((l) => l.startsWith('| fast '))!, /vsSlow 4×.*FAIL/);
    assert.match(md.find((l) => l.startsWith('| derived '))!, /PASS \(1 n\/a\)/);
  } finally {
    await ctx.dispose();
  }
});

test('npm run bench -- --quick prints a result line for every case', { timeout: TIMEOUT_MS + 10_000 }, async () => {
  const run = await runBench(['--quick']);
  const output = `--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
  assert.ok(!run.timedOut, `bench --quick did not finish within ${TIMEOUT_MS / 1000} s and was killed\n${output}`);
  assert.equal(run.code, 0, `bench --quick exited with code ${run.code} (signal ${run.signal})\n${output}`);

  const lines = run.stdout.split('\n');
  const results = lines.filter((l) => l.startsWith('BENCH {')).map((l) => JSON.parse(l.slice('BENCH '.length)) as Record<string, unknown>);
  const quickCases = selectCases(cases, true);
  for (const c of quickCases) {
    const r = results.find((x) => x['name'] === c.name);
    assert.ok(r, `no BENCH line for case ${c.name}\n${output}`);
    assert.equal(r['error'], undefined, `case ${c.name} failed: ${String(r['error'])}`);
    for (const field of ['opsPerSec', 'seconds', 'n', 'peakRssMB'] as const) {
      const v = r[field];
      assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${c.name}.${field} should be a positive number, got ${JSON.stringify(v)}`);
    }
    // Documents' size: 0 where the case moves none (server-cold-start).
    assert.ok(typeof r['docBytes'] === 'number' && Number.isFinite(r['docBytes']) && r['docBytes'] >= 0, `${c.name}.docBytes should be a non-negative number`);
    assert.equal(r['n'], c.n?.(QUICK_CONFIG) ?? QUICK_CONFIG.n, `${c.name} should run with its --quick N`);
    if (c.comparator) assert.equal(typeof r['ratio'], 'number', `${c.name} should report a ratio to ${c.comparator}`);
    if (c.goal) {
      const goal = r['goal'] as { description?: unknown; pass?: unknown } | null;
      assert.equal(typeof goal?.description, 'string', `${c.name} should report its goal`);
      assert.ok(typeof goal?.pass === 'boolean' || goal?.pass === null, `${c.name} should report pass/fail (or n/a) for its goal`);
      const goals = r['goals'] as { description?: unknown; pass?: unknown; actual?: unknown }[] | undefined;
      const defs = goalsOf(c);
      assert.ok(Array.isArray(goals) && goals.length === defs.length, `${c.name} should report each goal in goals`);
      for (const [i, g] of goals.entries()) {
        if (g.pass === null && mayBeUnavailable(c, defs[i]!)) {
          // n/a: its comparator is not part of a --quick run (e.g. repl-latency-hub vs pouchdb-latency-hub).
          assert.equal(g.actual, null, `${c.name}: an n/a goal has no actual figure`);
          continue;
        }
        assert.equal(typeof g.pass, 'boolean', `${c.name}: goal ${String(g.description)} should have a verdict`);
        assert.equal(typeof g.actual, 'number', `${c.name}: goal ${String(g.description)} should have its actual figure`);
      }
    }
    const extra = r['extra'] as Record<string, unknown>;
    for (const key of REPLICATION_EXTRA[c.name] ?? []) {
      const v = extra[key];
      assert.ok(typeof v === 'number' && Number.isFinite(v) && v >= 0, `${c.name}.extra.${key} should be a non-negative number, got ${JSON.stringify(v)}`);
    }
  }
  for (const name of QUICK_REPLICATION_CASES) assert.ok(results.some((x) => x['name'] === name), `no BENCH line for ${name}`);
  assert.equal(results.length, quickCases.length, `expected exactly one BENCH line per --quick case\n${output}`);

  // The PouchDB comparator ran for real (LevelDB client, or the documented in-memory fallback).
  const pouch = results.find((x) => x['name'] === 'pouchdb-push-1k')!['extra'] as Record<string, unknown>;
  assert.ok(pouch['clientAdapter'] === 'leveldb' || pouch['clientAdapter'] === 'memory', `pouchdb-push-1k.extra.clientAdapter: ${JSON.stringify(pouch['clientAdapter'])}`);
  assert.equal(typeof pouch['pouchdbVersion'], 'string');
  // Fan-out in --quick: 5 pullers; cold start: the extension's activation time is a number or says why not.
  assert.equal((results.find((x) => x['name'] === 'repl-fanout-20')!['extra'] as Record<string, unknown>)['pullers'], 5);
  const activation = (results.find((x) => x['name'] === 'server-cold-start')!['extra'] as Record<string, unknown>)['extensionActivationMs'];
  assert.ok(typeof activation === 'number' || (typeof activation === 'string' && activation.startsWith('not measured')), `extensionActivationMs: ${JSON.stringify(activation)}`);

  // The Markdown summary for the README: a header and one row per case.
  const mdStart = lines.findIndex((l) => l.startsWith('Summary for the README'));
  assert.ok(mdStart >= 0, `no README summary\n${output}`);
  assert.equal(lines[mdStart + 1], '| case | result | comparison | goals (actual) | verdict |');
  const rows = lines.slice(mdStart + 3).filter((l) => l.startsWith('| '));
  assert.deepEqual(rows.map((l) => l.split(' | ')[0]!.slice(2)), quickCases.map((c) => c.name), 'one README row per case, in order');

  // The temp directory is gone and nothing was saved (no --save).
  const machineLine = lines.find((l) => l.startsWith('BENCH-MACHINE {'));
  assert.ok(machineLine, `no BENCH-MACHINE line\n${output}`);
  const machine = JSON.parse(machineLine.slice('BENCH-MACHINE '.length)) as { tmpRoot?: unknown; cores?: unknown };
  assert.equal(typeof machine.tmpRoot, 'string');
  assert.ok(!existsSync(machine.tmpRoot as string), `temp dir ${String(machine.tmpRoot)} was not removed`);
  assert.equal(typeof machine.cores, 'number');
  assert.doesNotMatch(run.stdout, /^saved /m, 'results must only be written with --save');
});
