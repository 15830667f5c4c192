import { test, type TestContext } from 'node:test';
import { interopSkipReason } from './cblite';

/**
 * A test that drives the real cblite: reported as skipped (not passed) with the reason when the
 * binary is not beside the project, e.g. in a fresh clone.
 */
export function interopTest(name: string, fn: (t: TestContext) => Promise<void>, options: { timeout?: number } = {}): void {
  const skip = interopSkipReason();
  test(name, { timeout: options.timeout ?? 180_000, ...(skip ? { skip } : {}) }, fn);
}
