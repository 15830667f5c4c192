import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** A full collection before measuring, so garbage from earlier work does not hide or inflate the figures. */
const collectGarbage = runInNewContext('gc') as () => void;

/** Peak growth of memory while `work` runs, sampled every few milliseconds. */
export async function measurePeak(work: () => Promise<unknown>): Promise<{ external: number; heap: number; rss: number }> {
  collectGarbage();
  const base = process.memoryUsage();
  const peak = { external: 0, heap: 0, rss: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.external = Math.max(peak.external, m.external - base.external);
    peak.heap = Math.max(peak.heap, m.heapUsed - base.heapUsed);
    peak.rss = Math.max(peak.rss, m.rss - base.rss);
  };
  const timer = setInterval(sample, 2);
  try {
    await work();
  } finally {
    clearInterval(timer);
    sample();
  }
  return peak;
}

export function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}
