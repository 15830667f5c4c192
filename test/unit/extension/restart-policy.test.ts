import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartPolicy } from '../../../extension/restart-policy';

test('three crashes within three minutes are restarted, the fourth is not', () => {
  let now = 0;
  const p = new RestartPolicy(3, 180_000, () => now);
  assert.equal(p.onCrash(), true);
  now += 10_000;
  assert.equal(p.onCrash(), true);
  now += 10_000;
  assert.equal(p.onCrash(), true);
  now += 10_000;
  assert.equal(p.onCrash(), false);
  assert.equal(p.recentCrashes, 4);
});

test('crashes older than the window no longer count', () => {
  let now = 0;
  const p = new RestartPolicy(3, 180_000, () => now);
  for (let i = 0; i < 3; i++) assert.equal(p.onCrash(), true);
  now += 180_001;
  assert.equal(p.onCrash(), true);
  assert.equal(p.recentCrashes, 1);
});

test('a deliberate restart resets the count', () => {
  const p = new RestartPolicy(3, 180_000, () => 5);
  for (let i = 0; i < 4; i++) p.onCrash();
  p.reset();
  assert.equal(p.onCrash(), true);
});
