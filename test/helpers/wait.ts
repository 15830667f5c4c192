/**
 * The only ways a test waits. Every wait is bounded so a hang fails loudly, naming what it waited
 * for; the bounds are generous hang guards, never assertions about how long something took.
 */

function timeoutError(ms: number, what: string): Error {
  return new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Settles like `promise`, or rejects after `ms` naming `what`. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(ms, what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Resolves when `cond` holds, re-checking whenever `subscribe` signals a change (it returns its
 * unsubscribe); fails loudly after `ms`. For state that announces its changes.
 */
export function waitForCondition(cond: () => boolean, subscribe: (notify: () => void) => () => void, ms: number, what: string): Promise<void> {
  if (cond()) return Promise.resolve();
  let off: (() => void) | undefined;
  const met = new Promise<void>((resolve) => {
    off = subscribe(() => {
      if (cond()) resolve();
    });
  });
  return withTimeout(met, what, ms).finally(() => off?.());
}

/**
 * Re-runs `check` every `intervalMs` until it returns something other than undefined or false,
 * and resolves with that; fails after `ms`. Only for state nothing announces (another process's
 * files or output). `check` may throw to mean "not yet, because …": the last reason is reported.
 */
export async function poll<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms: number, what: string, intervalMs = 25): Promise<T> {
  let stopped = false;
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;
  const attempts = async (): Promise<T> => {
    while (!stopped) {
      try {
        const value = await check();
        lastError = undefined;
        if (value !== undefined && value !== false) return value;
      } catch (e) {
        lastError = e;
      }
      await new Promise<void>((resolve) => (timer = setTimeout(resolve, intervalMs)));
    }
    return new Promise<never>(() => {});
  };
  try {
    return await withTimeout(attempts(), what, ms);
  } catch (e) {
    if (lastError === undefined) throw e;
    throw new Error(`${(e as Error).message}; last seen: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  } finally {
    stopped = true;
    clearTimeout(timer);
  }
}
