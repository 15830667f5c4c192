// Mocha entry point for the extension-host tests. VS Code's extension host require()s this file
// (extensionTestsPath) and awaits run(). Used both by test/exthost/run.mjs (code-server + Chromium)
// and test/exthost/run-electron.mjs (@vscode/test-electron, desktop VS Code on a laptop).
//
// Each compiled *.test.js beside this file is added. Results go two ways:
//   - one plain line per test on the console (the extension host forwards console output to the runner;
//     mocha's own reporters come out mangled there, hence this reporter);
//   - one JSON line {title, state, error?} per test appended to $PEERSYNC_EXTHOST_RESULTS, if set.
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export const LOG_PREFIX = '[exthost-test]';

interface ResultLine {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  error?: string;
}

function record(line: ResultLine): void {
  const text = line.state === 'passed' ? `ok      ${line.title}` : line.state === 'pending' ? `skip    ${line.title}` : `FAILED  ${line.title}\n${(line.error ?? '').replace(/^/gm, '    ')}`;
  // one console line per line of text: the runner shows unindented ones live, the details at the end
  for (const l of text.split('\n')) console.log(`${LOG_PREFIX} ${l}`);
  const file = process.env['PEERSYNC_EXTHOST_RESULTS'];
  if (file) appendFileSync(file, JSON.stringify(line) + '\n');
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { actual?: unknown; expected?: unknown; showDiff?: boolean; generatedMessage?: boolean };
    let text = e.stack ?? `${e.name}: ${e.message}`;
    if (!text.includes(e.message)) text = `${e.name}: ${e.message}\n${text}`;
    // node:assert's generated messages already show the diff
    if (e.showDiff !== false && e.generatedMessage !== true && ('actual' in e || 'expected' in e)) {
      text += `\n  actual:   ${safeJson(e.actual)}\n  expected: ${safeJson(e.expected)}`;
    }
    return text;
  }
  return String(err);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** A reporter that logs one plain string per line and records each test's outcome. */
class LineReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const C = Mocha.Runner.constants;
    runner.on(C.EVENT_TEST_PASS, (test) => record({ title: test.fullTitle(), state: 'passed' }));
    runner.on(C.EVENT_TEST_PENDING, (test) => record({ title: test.fullTitle(), state: 'pending' }));
    // also fires for failing hooks (title "… \"before all\" hook …"), which then count as failures
    runner.on(C.EVENT_TEST_FAIL, (test, err) => record({ title: test.fullTitle(), state: 'failed', error: describeError(err) }));
    runner.once(C.EVENT_RUN_END, () => {
      const s = runner.stats;
      console.log(`${LOG_PREFIX} mocha: ${s?.passes ?? 0} passing, ${s?.failures ?? 0} failing, ${s?.pending ?? 0} pending`);
    });
  }
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: LineReporter });
  const grep = process.env['PEERSYNC_EXTHOST_GREP'];
  if (grep) mocha.grep(grep);

  return new Promise<void>((resolve, reject) => {
    try {
      const files = readdirSync(__dirname)
        .filter((f) => f.endsWith('.test.js'))
        .sort();
      if (files.length === 0) throw new Error(`no *.test.js files in ${__dirname}`);
      for (const f of files) mocha.addFile(join(__dirname, f));
      mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
        else resolve();
      });
    } catch (err) {
      // e.g. a test file that throws while loading
      record({ title: '(loading the test files)', state: 'failed', error: describeError(err) });
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
