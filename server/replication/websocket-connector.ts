import { connectBlipWebSocket, type ClientTlsOptions } from '../transport';
import { identityTlsOptions, serverTrustTlsOptions } from '../tls';
import type { ReplicatorConfig, ReplicatorConnector } from './replicator-types';
import { ReplicatorError } from './replicator-types';
import { CREDENTIALS_IN_URL, hasUrlCredentials, plaintextCredentialsWarning, withoutCredentials } from './target-url';

/** Connects to `ws[s]://host:port/db` (its `/_blipsync` endpoint) over a real WebSocket. */
export function createWebSocketConnector(
  url: string,
  config: Pick<ReplicatorConfig, 'headers' | 'authenticator' | 'pinnedServerCertificate' | 'acceptOnlySelfSignedServerCertificate' | 'trustedRootCertificates'>,
): ReplicatorConnector {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReplicatorError(`invalid target URL ${JSON.stringify(withoutCredentials(url))} (expected ws://host:port/db or wss://…)`, false, 'bad-url');
  }
  if (hasUrlCredentials(parsed)) throw new ReplicatorError(CREDENTIALS_IN_URL, false, 'bad-url');
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new ReplicatorError(`target URL must start with ws:// or wss:// (got ${parsed.protocol})`, false, 'bad-url');
  if (parsed.pathname.replace(/\/+$/, '').split('/').filter(Boolean).length !== 1) {
    throw new ReplicatorError(`target URL must name one database, like ws://host:port/db (got ${url})`, false, 'bad-url');
  }
  const address = url.replace(/\/+$/, '');
  const secure = parsed.protocol === 'wss:';
  if (!secure && (config.pinnedServerCertificate || config.acceptOnlySelfSignedServerCertificate || config.trustedRootCertificates)) {
    throw new ReplicatorError('server-certificate options need a wss:// target', false, 'bad-config');
  }
  if (!secure && config.authenticator?.kind === 'clientCertificate') throw new ReplicatorError('a client certificate needs a wss:// target', false, 'bad-config');
  const tls = secure
    ? {
        ...serverTrustTlsOptions({
          ...(config.pinnedServerCertificate !== undefined ? { pinnedServerCertificate: config.pinnedServerCertificate } : {}),
          ...(config.acceptOnlySelfSignedServerCertificate ? { acceptOnlySelfSignedServerCertificate: true } : {}),
          ...(config.trustedRootCertificates ? { trustedRootCertificates: config.trustedRootCertificates } : {}),
        }),
        ...(config.authenticator?.kind === 'clientCertificate' ? identityTlsOptions(config.authenticator.identity) : {}),
        minVersion: 'TLSv1.2' as const,
      }
    : undefined;
  const warning = plaintextCredentialsWarning(secure, config.authenticator?.kind === 'basic' || Object.keys(config.headers ?? {}).some((h) => h.toLowerCase() === 'authorization'));
  return {
    address,
    warnings: warning ? [warning] : [],
    async connect(signal, heartbeatSeconds) {
      const headers: Record<string, string> = { ...config.headers };
      if (config.authenticator?.kind === 'basic') headers['Authorization'] = config.authenticator.header();
      const link = await connectBlipWebSocket(address, {
        heartbeatSeconds,
        signal,
        headers,
        // Uncompressed, as the listener's (see Listener): compressed frames from peers are still read.
        blipOptions: { compressionLevel: 0 },
        ...(tls ? { tls: tls as ClientTlsOptions } : {}),
      });
      return { connection: link.connection, close: (code?: number, reason?: string) => void link.close(code, reason) };
    },
  };
}
