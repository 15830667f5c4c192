import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCountdown, RateWindow, sparklinePath } from '../../../webview/dashboard/rate';

test('the rate window counts per second and forgets what is older than the window', () => {
  const w = new RateWindow(5);
  const t0 = 1_000_000;
  w.add(t0, 3);
  w.add(t0 + 200, 2);
  w.add(t0 + 1500, 4);
  assert.deepEqual(w.series(t0 + 1500), [0, 0, 0, 5, 4]);
  assert.deepEqual(w.series(t0 + 6500), [0, 0, 0, 0, 0]);
  w.add(t0 + 6500);
  assert.deepEqual(w.series(t0 + 6500), [0, 0, 0, 0, 1]);
});

test('docs per second averages the finished seconds', () => {
  const w = new RateWindow(60);
  const t0 = 2_000_000;
  for (let s = 0; s < 10; s++) w.add(t0 + s * 1000, 20);
  assert.equal(w.perSecond(t0 + 10_000, 10), 20);
  assert.equal(w.perSecond(t0 + 10_000, 20), (20 * 10) / 20);
});

test('the sparkline spans the width, peaks at the top and rests on the baseline', () => {
  const p = sparklinePath([0, 5, 10], 100, 20);
  assert.equal(p, 'M0.0 19.0 L50.0 10.0 L100.0 1.0');
  assert.equal(sparklinePath([0, 0], 10, 10), 'M0.0 9.0 L10.0 9.0');
  assert.equal(sparklinePath([], 10, 10), '');
});

test('countdowns', () => {
  assert.equal(formatCountdown(10_000, 10_000), 'now');
  assert.equal(formatCountdown(22_400, 10_000), 'in 12 s');
  assert.equal(formatCountdown(10_000 + 185_000, 10_000), 'in 3 min 5 s');
  assert.equal(formatCountdown(10_000 + 120_000, 10_000), 'in 2 min');
});
