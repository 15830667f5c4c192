/**
 * The bench works: `bench/run.ts --smoke` (the --quick cases at their smallest sizes) prints one
 * well-formed `BENCH {json}` line per case. Structure only: the bench reports its own goals, and
 * nothing here depends on how fast the machine is.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cases } from '../../bench/cases';
import { BenchContext, readmeSummary, runCases, selectCases, type BenchCase, type Goal } from '../../bench/harness';
import { benchConfig, type BenchMode } from '../../bench/modes';

const root = join(__dirname, '..', '..');
/** Catches a genuine hang only: the smoke run takes seconds, CI allows far more for everything. */
const HANG_GUARD_MS = 25 * 60_000;
/** After SIGTERM on a hang, how long the bench gets to stop its children before SIGKILL. */
const TERM_GRACE_MS = 60_000;
const SMOKE = benchConfig('smoke', root);
const MODES: readonly BenchMode[] = ['full', 'quick', 'smoke'];

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
  hung: boolean;
}

function runBench(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    let kill: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // SIGTERM lets the bench kill its own children and remove its temp dir.
    const guard = setTimeout(() => {
      hung = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), TERM_GRACE_MS);
    }, HANG_GUARD_MS);
    const done = (): void => {
      clearTimeout(guard);
      clearTimeout(kill);
    };
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('close', (code, signal) => {
      done();
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

test('the case registry: unique names, comparisons in the same run, sizes for every mode', () => {
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  for (const quick of [true, false]) {
    const selection = selectCases(cases, quick).map((c) => c.name);
    assert.ok(selection.length > 0);
    for (const name of selection) {
      const c = cases.find((x) => x.name === name)!;
      for (const other of [c.comparator, ...(c.comparisons ?? []).map((x) => x.against)]) {
        if (other === undefined) continue;
        assert.ok(
          cases.some((x) => x.name === other),
          `${name} compares with ${other}, which is not a case`,
        );
        // A comparator missing from this mode leaves the comparison n/a; present, it must run first.
        if (selection.includes(other)) assert.ok(selection.indexOf(other) < selection.indexOf(name), `${other} should run before ${name}, which compares with it`);
      }
    }
  }
  // Every comparison a goal depends on is made in a full run.
  const full = selectCases(cases, false).map((c) => c.name);
  for (const c of selectCases(cases, false)) {
    for (const x of c.comparisons ?? []) assert.ok(full.includes(x.against), `${x.against} should be part of a full run, as ${c.name} compares with it`);
  }
  for (const c of cases) {
    const sizes = MODES.map((mode) => c.n?.(benchConfig(mode, root)) ?? benchConfig(mode, root).n);
    for (const n of sizes) assert.ok(Number.isInteger(n) && n >= 0, `${c.name}: size ${n}`);
    // The smoke run is the cheapest.
    assert.ok(sizes[2]! <= sizes[1]! && sizes[1]! <= sizes[0]!, `${c.name}: sizes full ${sizes[0]}, quick ${sizes[1]}, smoke ${sizes[2]} should not grow`);
  }
});

test('the harness: comparisons, optional goals, derived rows, unavailable cases and the README summary', async () => {
  const ctx = new BenchContext({ ...SMOKE, n: 10 });
  try {
    const fake: BenchCase[] = [
      { name: 'slow', description: '', run: async () => ({ n: 100, docBytes: 1, seconds: 1, extra: { p50Ms: 8 } }) },
      { name: 'absent', description: '', unavailable: () => 'no such program', run: async () => assert.fail('an unavailable case must not run') },
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
    const { results, failures, skipped } = await runCases(ctx, fake);
    assert.deepEqual(failures, []);
    assert.deepEqual(skipped, [{ name: 'absent', skipped: 'no such program' }]);
    const fast = results.find((r) => r.name === 'fast')!;
    assert.equal(fast.extra['vsSlow'], 4);
    assert.equal(fast.extra['vsSlowP50'], 4);
    assert.match(String(fast.extra['vsMissing']), /^not measured/);
    assert.deepEqual(
      fast.goals.map((g) => g.pass),
      [false, true, null],
    );
    const derived = results.find((r) => r.name === 'derived')!;
    assert.equal(derived.derived, true);
    assert.equal(derived.opsPerSec, 0);
    assert.deepEqual(
      derived.goals.map((g) => g.pass),
      [true, null],
    );
    const md = readmeSummary(fake, results, skipped).split('\n');
    assert.deepEqual(
      md.slice(2).map((l) => l.split(' | ')[0]),
      ['| slow', '| absent', '| fast', '| derived'],
      'rows in case order',
    );
    assert.match(
      md.find((l) => l.startsWith('| fast '))!,
      /vsSlow 4×.*FAIL/,
    );
    assert.match(
      md.find((l) => l.startsWith('| derived '))!,
      /PASS \(1 n\/a\)/,
    );
    assert.match(
      md.find((l) => l.startsWith('| absent '))!,
      /n\/a \(no such program\)/,
    );
  } finally {
    await ctx.dispose();
  }
});

test('bench --smoke prints a well-formed result line for every case', { timeout: HANG_GUARD_MS + 2 * TERM_GRACE_MS }, async () => {
  const run = await runBench(['--smoke']);
  const output = `--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
  assert.ok(!run.hung, `bench --smoke still ran after ${HANG_GUARD_MS / 60_000} min (a hang) and was stopped; what it printed:\n${output}`);
  assert.equal(run.code, 0, `bench --smoke exited with code ${run.code} (signal ${run.signal})\n${output}`);

  const lines = run.stdout.split('\n');
  const rows = lines.filter((l) => l.startsWith('BENCH {')).map((l) => JSON.parse(l.slice('BENCH '.length)) as Record<string, unknown>);
  const selected = selectCases(cases, SMOKE.quick);
  assert.deepEqual(
    rows.map((r) => r['name']),
    selected.map((c) => c.name),
    `one BENCH line per case, in order\n${output}`,
  );
  for (const c of selected) {
    const r = rows.find((x) => x['name'] === c.name)!;
    assert.equal(r['error'], undefined, `case ${c.name} failed: ${String(r['error'])}`);
    if ('skipped' in r) {
      // Unavailable here (e.g. an external program is not installed): it says why.
      assert.ok(c.unavailable, `${c.name} was skipped but declares no way to be unavailable`);
      assert.ok(typeof r['skipped'] === 'string' && r['skipped'].length > 0, `${c.name}: a skipped case gives its reason`);
      continue;
    }
    const derived = r['derived'] === true;
    for (const field of derived ? (['peakRssMB'] as const) : (['opsPerSec', 'seconds', 'n', 'peakRssMB'] as const)) {
      const v = r[field];
      assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${c.name}.${field} should be a positive number, got ${JSON.stringify(v)}`);
    }
    assert.ok(typeof r['docBytes'] === 'number' && Number.isFinite(r['docBytes']) && r['docBytes'] >= 0, `${c.name}.docBytes should be a non-negative number`);
    assert.equal(r['n'], c.n?.(SMOKE) ?? SMOKE.n, `${c.name} should run with its smoke size`);
    if (c.comparator) assert.ok(typeof r['ratio'] === 'number' || r['ratio'] === null, `${c.name} should report its ratio to ${c.comparator}`);
    const defs = goalsOf(c);
    const goals = r['goals'] as { description?: unknown; pass?: unknown; actual?: unknown }[] | undefined;
    assert.ok(Array.isArray(goals) && goals.length === defs.length, `${c.name} should report each of its ${defs.length} goals`);
    for (const [i, g] of goals.entries()) {
      assert.equal(typeof g.description, 'string');
      if (g.pass === null && mayBeUnavailable(c, defs[i]!)) {
        assert.equal(g.actual, null, `${c.name}: an n/a goal has no actual figure`);
        continue;
      }
      assert.equal(typeof g.pass, 'boolean', `${c.name}: goal ${String(g.description)} should have a verdict`);
      assert.equal(typeof g.actual, 'number', `${c.name}: goal ${String(g.description)} should have its actual figure`);
    }
    const extra = r['extra'];
    assert.ok(extra !== null && typeof extra === 'object' && !Array.isArray(extra), `${c.name}.extra should be an object`);
    for (const [key, v] of Object.entries(extra as Record<string, unknown>)) {
      const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      assert.ok(ok, `${c.name}.extra.${key} should be a finite number, a string or a boolean, got ${JSON.stringify(v)}`);
    }
  }

  // The Markdown summary for the README: a header and one row per case, in order.
  const mdStart = lines.findIndex((l) => l.startsWith('Summary for the README'));
  assert.ok(mdStart >= 0, `no README summary\n${output}`);
  assert.match(lines[mdStart + 1]!, /^\| case \| result \|/);
  const mdRows = lines.slice(mdStart + 3).filter((l) => l.startsWith('| '));
  assert.deepEqual(
    mdRows.map((l) => l.split(' | ')[0]!.slice(2)),
    selected.map((c) => c.name),
    'one README row per case, in order',
  );

  // The temp directory is gone and nothing was saved (no --save).
  const machineLine = lines.find((l) => l.startsWith('BENCH-MACHINE {'));
  assert.ok(machineLine, `no BENCH-MACHINE line\n${output}`);
  const machine = JSON.parse(machineLine.slice('BENCH-MACHINE '.length)) as { tmpRoot?: unknown; cores?: unknown; mode?: unknown };
  assert.equal(machine.mode, 'smoke');
  assert.equal(typeof machine.tmpRoot, 'string');
  assert.ok(!existsSync(machine.tmpRoot as string), `temp dir ${String(machine.tmpRoot)} was not removed`);
  assert.equal(typeof machine.cores, 'number');
  assert.doesNotMatch(run.stdout, /^saved /m, 'results must only be written with --save');
});
