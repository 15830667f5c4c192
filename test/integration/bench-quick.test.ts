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
import { selectCases, type BenchConfig } from '../../bench/harness';

const root = join(__dirname, '..', '..');
const TIMEOUT_MS = 120_000;
/** What bench/run.ts --quick runs with (QUICK_N, BATCH_SIZE). */
const QUICK_CONFIG: BenchConfig = { n: 2000, batchSize: 1000, quick: true, repoRoot: root };
/** The replication cases that must be part of a --quick run (the 10k/100k throughput ones are full-run only). */
const QUICK_REPLICATION_CASES = ['repl-push-ws-1k', 'repl-pull-ws-1k', 'repl-push-wss-1k', 'tls-identity-create', 'repl-latency-direct', 'repl-latency-hub'];
const FULL_REPLICATION_CASES = ['repl-push-ws-10k', 'repl-pull-ws-10k', 'repl-push-ws-100k', 'repl-pull-ws-100k', 'repl-push-wss-10k', 'repl-pull-wss-10k', 'repl-push-wss-100k', 'repl-pull-wss-100k', 'tls-identity-create', 'repl-latency-direct', 'repl-latency-hub'];
/** Figures every replication case reports in `extra` (structure only). */
const REPLICATION_EXTRA: Record<string, readonly string[]> = {
  'repl-push-ws-1k': ['wallSeconds', 'startupAndCloseSeconds', 'replicateMaxRssMB', 'listenerMaxRssMB'],
  'repl-pull-ws-1k': ['wallSeconds', 'startupAndCloseSeconds', 'replicateMaxRssMB', 'listenerMaxRssMB'],
  'repl-push-wss-1k': ['wallSeconds', 'startupAndCloseSeconds', 'replicateMaxRssMB', 'listenerMaxRssMB'],
  'tls-identity-create': ['p50Ms', 'maxMs'],
  'repl-latency-direct': ['p50Ms', 'p99Ms', 'maxMs'],
  'repl-latency-hub': ['p50Ms', 'p99Ms', 'maxMs'],
};

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
  for (const name of ['repl-push-ws-10k', 'repl-pull-ws-100k']) assert.ok(!quick.includes(name), `--quick should not run ${name}`);
  for (const name of ['repl-push-ws-1k', 'repl-pull-ws-1k']) assert.ok(!full.includes(name), `a full run should not run ${name}`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  // Fixed sizes: 1,000 docs quick, 10k/100k full; latency 100 changes quick, 1,000 full.
  const nOf = (name: string, quickRun: boolean): number | undefined => cases.find((c) => c.name === name)?.n?.({ ...QUICK_CONFIG, quick: quickRun });
  assert.equal(nOf('repl-push-ws-1k', true), 1000);
  assert.equal(nOf('repl-pull-ws-100k', false), 100_000);
  assert.equal(nOf('repl-push-ws-10k', false), 10_000);
  assert.equal(nOf('repl-latency-direct', true), 100);
  assert.equal(nOf('repl-latency-hub', false), 1000);
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
    for (const field of ['opsPerSec', 'seconds', 'n', 'docBytes', 'peakRssMB'] as const) {
      const v = r[field];
      assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${c.name}.${field} should be a positive number, got ${JSON.stringify(v)}`);
    }
    assert.equal(r['n'], c.n?.(QUICK_CONFIG) ?? QUICK_CONFIG.n, `${c.name} should run with its --quick N`);
    if (c.comparator) assert.equal(typeof r['ratio'], 'number', `${c.name} should report a ratio to ${c.comparator}`);
    if (c.goal) {
      const goal = r['goal'] as { description?: unknown; pass?: unknown } | null;
      assert.equal(typeof goal?.description, 'string', `${c.name} should report its goal`);
      assert.equal(typeof goal?.pass, 'boolean', `${c.name} should report pass/fail for its goal`);
      const goals = r['goals'] as { description?: unknown; pass?: unknown; actual?: unknown }[] | undefined;
      assert.ok(Array.isArray(goals) && goals.length === (Array.isArray(c.goal) ? c.goal.length : 1), `${c.name} should report each goal in goals`);
      for (const g of goals) {
        assert.equal(typeof g.pass, 'boolean', `${c.name}: every goal should have a verdict`);
        assert.equal(typeof g.actual, 'number', `${c.name}: every goal should have its actual figure`);
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

  // The temp directory is gone and nothing was saved (no --save).
  const machineLine = lines.find((l) => l.startsWith('BENCH-MACHINE {'));
  assert.ok(machineLine, `no BENCH-MACHINE line\n${output}`);
  const machine = JSON.parse(machineLine.slice('BENCH-MACHINE '.length)) as { tmpRoot?: unknown; cores?: unknown };
  assert.equal(typeof machine.tmpRoot, 'string');
  assert.ok(!existsSync(machine.tmpRoot as string), `temp dir ${String(machine.tmpRoot)} was not removed`);
  assert.equal(typeof machine.cores, 'number');
  assert.doesNotMatch(run.stdout, /^saved /m, 'results must only be written with --save');
});
