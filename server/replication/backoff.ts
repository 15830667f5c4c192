/**
 * Retry delays for a replicator that lost (or could not make) its connection: 2, 4, 8 … seconds,
 * capped at maxWaitSeconds. `attempt` counts failed attempts since the last successful connection.
 */
export function retryDelayMs(attempt: number, maxWaitSeconds: number): number {
  const seconds = Math.min(2 ** Math.max(1, attempt), maxWaitSeconds);
  return Math.max(0, seconds) * 1000;
}

/** Sleeps unless aborted; resolves false when aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
