/** Resolves when `cond` holds, re-checking whenever `subscribe` signals a change; fails loudly after `ms`. */
export function waitForCondition(cond: () => boolean, subscribe: (notify: () => void) => () => void, ms: number, what: string): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const off = subscribe(() => {
      if (cond()) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}
