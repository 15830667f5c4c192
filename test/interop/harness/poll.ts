import { setTimeout as delay } from 'node:timers/promises';

/**
 * Re-checks `probe` until it returns a value `done` accepts, for at most `ms`. Used where the only
 * way to observe the other side is to ask it (cblite has no change feed a test can subscribe to).
 * Fails loudly with the last value seen.
 */
export async function pollUntil<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let lastError: unknown;
  for (let interval = 25; ; interval = Math.min(interval * 2, 250)) {
    try {
      last = await probe();
      lastError = undefined;
      if (done(last)) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const seen = lastError !== undefined ? `error: ${(lastError as Error).message}` : JSON.stringify(last);
      throw new Error(`timed out after ${ms} ms waiting for ${what}; last seen: ${seen}`);
    }
    await delay(interval);
  }
}
