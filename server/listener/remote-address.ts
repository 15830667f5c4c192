import { isIPv4, isIPv6 } from 'node:net';

/** The peer's address as people read it: IPv4-mapped IPv6 addresses shown as plain IPv4. */
export function remoteAddressOf(socket: { readonly remoteAddress?: string | undefined }): string {
  const address = socket.remoteAddress;
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** One line for a failed TLS handshake: OpenSSL's reason and code rather than its full error stack. */
export function describeTlsError(err: Error & { reason?: unknown; code?: unknown }): string {
  const reason = typeof err.reason === 'string' ? err.reason : (err.message.split('\n')[0] ?? 'handshake failed');
  return typeof err.code === 'string' ? `${reason} (${err.code})` : reason;
}

/** Errors raised by OpenSSL carry the library they came from. */
export function isOpenSslError(err: Error): boolean {
  return typeof (err as { library?: unknown }).library === 'string';
}

/**
 * Who an address stands for when counting attempts: an IPv4 address itself, but an IPv6 client's
 * whole /64 (one subscriber's network), since a host can rotate through its /64 at will and would
 * otherwise escape every per-address limit.
 */
export function attemptSourceOf(address: string): string {
  if (!isIPv6(address)) return address;
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : undefined;
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
