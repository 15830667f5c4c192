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

const root = join(__dirname, '..', '..');
const TIMEOUT_MS = 120_000;

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

test('npm run bench -- --quick prints a result line for every case', { timeout: TIMEOUT_MS + 10_000 }, async () => {
  const run = await runBench(['--quick']);
  const output = `--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
  assert.ok(!run.timedOut, `bench --quick did not finish within ${TIMEOUT_MS / 1000} s and was killed\n${output}`);
  assert.equal(run.code, 0, `bench --quick exited with code ${run.code} (signal ${run.signal})\n${output}`);

  const lines = run.stdout.split('\n');
  const results = lines.filter((l) => l.startsWith('BENCH {')).map((l) => JSON.parse(l.slice('BENCH '.length)) as Record<string, unknown>);
  for (const c of cases) {
    const r = results.find((x) => x['name'] === c.name);
    assert.ok(r, `no BENCH line for case ${c.name}\n${output}`);
    assert.equal(r['error'], undefined, `case ${c.name} failed: ${String(r['error'])}`);
    for (const field of ['opsPerSec', 'seconds', 'n', 'docBytes', 'peakRssMB'] as const) {
      const v = r[field];
      assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${c.name}.${field} should be a positive number, got ${JSON.stringify(v)}`);
    }
    assert.equal(r['n'], 2000, `${c.name} should run with the --quick N`);
    if (c.comparator) assert.equal(typeof r['ratio'], 'number', `${c.name} should report a ratio to ${c.comparator}`);
    if (c.goal) {
      const goal = r['goal'] as { description?: unknown; pass?: unknown } | null;
      assert.equal(typeof goal?.description, 'string', `${c.name} should report its goal`);
      assert.equal(typeof goal?.pass, 'boolean', `${c.name} should report pass/fail for its goal`);
    }
  }
  assert.equal(results.length, cases.length, `expected exactly one BENCH line per case\n${output}`);

  // The temp directory is gone and nothing was saved (no --save).
  const machineLine = lines.find((l) => l.startsWith('BENCH-MACHINE {'));
  assert.ok(machineLine, `no BENCH-MACHINE line\n${output}`);
  const machine = JSON.parse(machineLine.slice('BENCH-MACHINE '.length)) as { tmpRoot?: unknown; cores?: unknown };
  assert.equal(typeof machine.tmpRoot, 'string');
  assert.ok(!existsSync(machine.tmpRoot as string), `temp dir ${String(machine.tmpRoot)} was not removed`);
  assert.equal(typeof machine.cores, 'number');
  assert.doesNotMatch(run.stdout, /^saved /m, 'results must only be written with --save');
});
