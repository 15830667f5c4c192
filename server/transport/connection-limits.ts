/**
 * How long and how much a peer may hold of the listener before it has proved useful, and once
 * it has gone quiet. Every value is in milliseconds unless its name says otherwise.
 */
export interface ConnectionLimits {
  /**
   * Open WebSockets (and upgrades in progress) from one IP address. Kept below the listener's
   * total so one host cannot take every slot.
   */
  readonly maxConnectionsPerAddress: number;
  /** A peer that has sent nothing (frames, pings, pongs) for this long is sent a WebSocket ping. */
  readonly pingIntervalMs: number;
  /**
   * A peer that has sent nothing at all for this long is closed with 1001. A live peer answers
   * the pings above, so an idle continuous replication is never closed; a vanished one is.
   */
  readonly idleTimeoutMs: number;
  /**
   * A connection that sends no BLIP message this long after its upgrade is closed with 1008: a
   * real replicator asks for its checkpoint at once.
   */
  readonly firstMessageTimeoutMs: number;
  /** From the upgrade request's headers to the WebSocket being open (authentication included); else 408. */
  readonly upgradeTimeoutMs: number;
  /** Time a client has to send complete request headers; else 408. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a complete plain HTTP request; else 408. */
  readonly requestTimeoutMs: number;
  /** Time a client has to complete the TLS handshake (wss:// only); else the socket is dropped. */
  readonly tlsHandshakeTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnectionsPerAddress: 25,
  pingIntervalMs: 30_000,
  idleTimeoutMs: 60_000,
  firstMessageTimeoutMs: 30_000,
  upgradeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  tlsHandshakeTimeoutMs: 10_000,
};

/** Options every HTTP(S) server the listener builds is created with. */
export interface ServerTimeoutOptions {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  /** How often Node checks the two timeouts above (its default, 30 s, would stretch them). */
  readonly connectionsCheckingInterval: number;
  /** For TLS servers. */
  readonly handshakeTimeout: number;
}

/** Fills in defaults and rejects values that would disable a limit by accident. */
export function resolveConnectionLimits(given: Partial<ConnectionLimits> | undefined): ConnectionLimits {
  const limits = { ...DEFAULT_CONNECTION_LIMITS };
  for (const [name, value] of Object.entries(given ?? {}) as [keyof ConnectionLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_CONNECTION_LIMITS)) throw new TypeError(`unknown connection limit ${name}`);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (got ${value})`);
    limits[name] = value;
  }
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new RangeError(`requestTimeoutMs (${limits.requestTimeoutMs}) must not be shorter than headersTimeoutMs (${limits.headersTimeoutMs})`);
  }
  return limits;
}

export function serverTimeoutOptions(limits: ConnectionLimits): ServerTimeoutOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
    handshakeTimeout: limits.tlsHandshakeTimeoutMs,
  };
}
