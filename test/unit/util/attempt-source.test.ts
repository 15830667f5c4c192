import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttemptLimiter } from '../../../server/listener/attempt-limiter';
import { attemptSourceOf } from '../../../server/listener/remote-address';

test('attempts are counted per IPv4 address and per IPv6 /64', () => {
  assert.equal(attemptSourceOf('192.168.1.20'), '192.168.1.20');
  assert.equal(attemptSourceOf('::ffff:10.0.0.7'), '10.0.0.7');
  assert.equal(attemptSourceOf('2001:db8:0:1::1'), '2001:db8:0:1::/64');
  assert.equal(attemptSourceOf('2001:0db8:0000:0001:a:b:c:d'), '2001:db8:0:1::/64');
  assert.equal(attemptSourceOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(attemptSourceOf('::1'), '0:0:0:0::/64');
});

test('an IPv6 client rotating through its /64 meets the same limit', () => {
  let t = 0;
  const limiter = new AttemptLimiter({ maxFailures: 3, maxFailuresPerAddress: 5 }, () => t);
  for (let i = 1; i <= 5; i++) {
    const a = limiter.admit(`2001:db8:0:1::${i.toString(16)}`, `user${i}`);
    assert.ok(a.ok, `attempt ${i} is checked`);
    a.finish(false);
    t += 10;
  }
  const sixth = limiter.admit('2001:db8:0:1:ffff::99', 'someone');
  assert.equal(sixth.ok, false, 'a sixth address of the same /64 is refused');
  assert.ok(limiter.admit('2001:db8:0:2::1', 'someone').ok, 'a neighbouring /64 is not');
});
