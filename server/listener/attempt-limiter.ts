import { attemptSourceOf } from './remote-address';

/** Limits on authentication attempts (see README, Security). */
export interface AttemptLimits {
  /** Failed attempts one address may make at one user name within `windowMs` before that pair gets 429. */
  readonly maxFailures: number;
  /** Failed attempts one address may make across all user names within `windowMs` before it gets 429. */
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  /** How long a pair or an address that reached its limit gets 429. */
  readonly cooldownMs: number;
  /** Credential checks (each an scrypt hash for a users file) one address may have running at once. */
  readonly maxConcurrentPerAddress: number;
}

export const DEFAULT_ATTEMPT_LIMITS: AttemptLimits = {
  maxFailures: 10,
  maxFailuresPerAddress: 50,
  windowMs: 60_000,
  cooldownMs: 60_000,
  maxConcurrentPerAddress: 2,
};

/** Keys remembered at most; beyond it the oldest idle ones are forgotten (a spray of addresses cannot exhaust memory). */
const MAX_TRACKED = 10_000;

export type Admission = { readonly ok: true; finish(succeeded: boolean): void } | { readonly ok: false; readonly retryAfterMs: number; readonly reason: string };

interface Tally {
  failures: number[];
  pending: number;
  blockedUntil: number;
}

/**
 * Counts an attempt before its credentials are checked, so concurrent guesses cannot all slip in
 * while the slow check runs: an attempt in progress counts as a failure until it succeeds. A
 * success takes back only its own attempt; failures expire with the window, so interleaving right
 * passwords does not hide wrong ones. Failures are kept per (address, user name) — guessing at
 * one account does not lock out another user behind the same address — and per address, so
 * trying many names from one address is limited too.
 */
export class AttemptLimiter {
  readonly limits: AttemptLimits;
  private readonly pairs = new Map<string, Tally>();
  private readonly addresses = new Map<string, Tally>();
  private readonly running = new Map<string, number>();

  constructor(
    limits: Partial<AttemptLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_ATTEMPT_LIMITS, ...limits };
  }

  /**
   * Whether an attempt by `from` at `user` may be checked now; when it may, call `finish` with the
   * outcome. IPv6 clients are counted per /64 (see attemptSourceOf).
   */
  admit(from: string, user: string): Admission {
    const address = attemptSourceOf(from);
    const t = this.now();
    const l = this.limits;
    const pair = this.tally(this.pairs, `${address}\u0000${user}`, t);
    const whole = this.tally(this.addresses, address, t);
    const blockedUntil = Math.max(pair.blockedUntil, whole.blockedUntil);
    if (blockedUntil > t) return { ok: false, retryAfterMs: blockedUntil - t, reason: 'too many failed attempts' };
    if (pair.failures.length + pair.pending >= l.maxFailures || whole.failures.length + whole.pending >= l.maxFailuresPerAddress) {
      return { ok: false, retryAfterMs: l.windowMs, reason: 'too many failed attempts' };
    }
    const running = this.running.get(address) ?? 0;
    if (running >= l.maxConcurrentPerAddress) return { ok: false, retryAfterMs: 1000, reason: 'too many attempts at once' };
    this.running.set(address, running + 1);
    pair.pending++;
    whole.pending++;
    let finished = false;
    return {
      ok: true,
      finish: (succeeded) => {
        if (finished) return;
        finished = true;
        const left = (this.running.get(address) ?? 1) - 1;
        if (left > 0) this.running.set(address, left);
        else this.running.delete(address);
        pair.pending--;
        whole.pending--;
        if (succeeded) return;
        const end = this.now();
        this.fail(pair, l.maxFailures, end);
        this.fail(whole, l.maxFailuresPerAddress, end);
      },
    };
  }

  private fail(tally: Tally, max: number, t: number): void {
    tally.failures.push(t);
    if (tally.failures.length >= max) {
      tally.blockedUntil = t + this.limits.cooldownMs;
      tally.failures = [];
    }
  }

  private tally(map: Map<string, Tally>, key: string, t: number): Tally {
    let tally = map.get(key);
    if (!tally) {
      if (map.size >= MAX_TRACKED) this.forget(map, t);
      tally = { failures: [], pending: 0, blockedUntil: 0 };
      map.set(key, tally);
    }
    tally.failures = tally.failures.filter((x) => t - x < this.limits.windowMs);
    return tally;
  }

  private forget(map: Map<string, Tally>, t: number): void {
    for (const [key, tally] of map) {
      if (tally.pending === 0 && tally.blockedUntil <= t && tally.failures.every((x) => t - x >= this.limits.windowMs)) map.delete(key);
    }
    for (const [key, tally] of map) {
      if (map.size < MAX_TRACKED) break;
      if (tally.pending === 0) map.delete(key);
    }
  }
}
