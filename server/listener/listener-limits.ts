import type { BlipConnectionOptions } from '../blip/connection';
import type { ConnectionLimits } from '../transport/connection-limits';

/**
 * Every bound on what one client can make a listener hold, in one place. Anything left out takes
 * its default (see README, Security).
 */
export interface ListenerLimits extends Partial<ConnectionLimits> {
  /** Incoming BLIP messages held at once per connection (unfinished, or waiting for the outgoing queue). */
  readonly maxPendingIncomingMessages?: number | undefined;
  /** Bytes those messages may hold together per connection. */
  readonly maxPendingIncomingBytes?: number | undefined;
  /** A message making no progress (no frame, no ACK) for this long closes its connection. */
  readonly stalledMessageTimeoutMs?: number | undefined;
  /** Outgoing bytes queued per connection at which its requests wait until the client catches up. */
  readonly maxOutgoingBytes?: number | undefined;
  /** Largest checkpoint a client may store (bytes). */
  readonly maxCheckpointBytes?: number | undefined;
}

const BLIP_LIMIT_NAMES = ['maxPendingIncomingMessages', 'maxPendingIncomingBytes', 'stalledMessageTimeoutMs', 'maxOutgoingBytes'] as const;

export function blipLimits(limits: ListenerLimits | undefined): BlipConnectionOptions {
  const out: Record<string, number> = {};
  for (const name of BLIP_LIMIT_NAMES) {
    const value = limits?.[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (got ${value})`);
    out[name] = value;
  }
  return out;
}

export function connectionLimits(limits: ListenerLimits | undefined): Partial<ConnectionLimits> {
  if (!limits) return {};
  const { maxPendingIncomingMessages: _m, maxPendingIncomingBytes: _b, stalledMessageTimeoutMs: _s, maxOutgoingBytes: _o, maxCheckpointBytes: _c, ...rest } = limits;
  return rest;
}
