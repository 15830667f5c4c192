import { isIPv4 } from 'node:net';

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
