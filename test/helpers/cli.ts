import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
/**
 * How long a CLI child may run before a test kills it: a guard against a hang, never a measure
 * (a busy machine can take far longer than usual, and that must not fail a test).
 */
export const CHILD_HANG_GUARD_MS = 15 * 60_000;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `peersync` CLI synchronously (the real bundle, as users run it). */
export function cli(args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    timeout: CHILD_HANG_GUARD_MS,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export { spawn };
