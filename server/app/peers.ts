import { X509Certificate } from 'node:crypto';
import { hasUrlCredentials } from '../replication/target-url';
import type * as P from '../rpc/protocol';
import { invalid } from './app-error';
import type { AppEventBus } from './app-events';
import type { ConfigStore } from './app-config';

/** Remote peers the user added by URL, with the certificate they chose to trust for each (saved in the configuration). */
export class PeerService {
  private memory: readonly P.RemotePeer[] = [];

  constructor(
    private readonly events: AppEventBus,
    private readonly config: ConfigStore | undefined,
  ) {}

  list(): P.RemotePeer[] {
    return [...(this.config?.config.peers ?? this.memory)];
  }

  add(p: P.RemotePeer): P.RemotePeer[] {
    const peer = checkPeer(p);
    return this.write((peers) => [...peers.filter((x) => x.url !== peer.url), peer]);
  }

  remove(url: string): P.RemotePeer[] {
    return this.write((peers) => peers.filter((x) => x.url !== normaliseUrl(url)));
  }

  private write(change: (peers: readonly P.RemotePeer[]) => P.RemotePeer[]): P.RemotePeer[] {
    if (this.config) this.config.update((c) => ({ ...c, peers: change(c.peers) }));
    else this.memory = change(this.memory);
    const peers = this.list();
    this.events.publish('serverEvent', { kind: 'peersChanged', peers });
    return peers;
  }
}

function normaliseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

function checkPeer(p: P.RemotePeer): P.RemotePeer {
  const url = normaliseUrl(typeof p.url === 'string' ? p.url : '');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('a peer URL looks like ws://192.168.1.20:4984/inventory');
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw invalid('a peer URL starts with ws:// or wss://');
  if (hasUrlCredentials(u)) throw invalid('leave the user name and password out of a peer URL');
  if (u.pathname === '/' || u.pathname === '') throw invalid('a peer URL names the remote database, e.g. ws://host:4984/inventory');
  if (p.pinnedCertificate === undefined) return { url, ...(p.pinnedFingerprint !== undefined ? { pinnedFingerprint: p.pinnedFingerprint } : {}) };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(p.pinnedCertificate);
  } catch (e) {
    throw invalid(`the pinned certificate is not a PEM certificate: ${(e as Error).message}`);
  }
  if (p.pinnedFingerprint !== undefined && p.pinnedFingerprint !== cert.fingerprint256) throw invalid('the pinned fingerprint does not match the pinned certificate');
  return { url, pinnedFingerprint: cert.fingerprint256, pinnedCertificate: p.pinnedCertificate };
}
