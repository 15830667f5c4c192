/** Listeners, remote peers and replications. */
import { networkInterfaces } from 'node:os';
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { settings } from '../config';
import { errorMessage } from '../log';
import { explainReplicationError, shortReplicationError } from '../replication-reason';
import { normalizePeerUrl, validatePeerUrl } from '../remote-peers';
import type { Services } from '../services';
import { DatabaseNode } from '../views/databases-view';
import { ListenerNode, ListenerUrlNode, RemotePeerNode } from '../views/peers-view';
import { ReplicatorNode } from '../views/replications-view';
import type { Credential } from '../credentials';
import { plural } from '../views/databases-view';
import { pick, pickDatabase, pickFile, pickListener, pickReplicator, type Picked } from './pickers';
import { pickResolver } from './resolver-picker';
import { pickIdentity } from './security-commands';
import { answered, inputStep, pickStep, runWizard, type WizardStep } from './wizard';

const CERTIFICATE_FILES = { Certificates: ['pem', 'crt', 'cer', 'der'], 'All files': ['*'] };

function interfaceItems(): Picked<string | undefined>[] {
  const items: Picked<string | undefined>[] = [
    { label: 'All interfaces', description: 'reachable from other devices on the network', value: undefined },
    { label: '127.0.0.1', description: 'loopback: this machine only', value: '127.0.0.1' },
  ];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal || a.family !== 'IPv4') continue;
      items.push({ label: a.address, description: name, value: a.address });
    }
  }
  return items;
}

/**
 * Security warnings (credentials that would travel unencrypted, say) are shown, not only logged:
 * the person who chose the setting is the one who can change it.
 */
function warnAbout(s: Services, what: string, warnings: readonly string[] | undefined): void {
  for (const w of warnings ?? []) {
    s.ctx.log.warn(`${what}: ${w}`);
    void s.ctx.ui.showWarningMessage(`PeerSync: ${w}`, {});
  }
}

/** A whole number from an input box; '' keeps the server's default. */
async function askCount(s: Services, title: string, prompt: string, placeHolder: string, min: number): Promise<number | null | undefined> {
  const text = await s.ctx.ui.showInputBox({
    title,
    prompt: `${prompt} (empty: ${placeHolder})`,
    placeHolder,
    validateInput: (v) => (v.trim() === '' || (/^\d+$/.test(v.trim()) && Number(v) >= min) ? undefined : `A whole number, at least ${min}`),
  });
  if (text === undefined) return undefined;
  return text.trim() === '' ? null : Number(text.trim());
}

/** Start Listener (Advanced): connection limits and the idle timeout, as the command line's flags. */
async function listenerLimits(s: Services): Promise<Partial<P.StartListenerParams> | undefined> {
  const max = await askCount(s, 'Start Listener: maximum connections', 'Connections allowed at once', '100', 1);
  if (max === undefined) return undefined;
  const perAddress = await askCount(s, 'Start Listener: maximum connections per address', 'Connections allowed at once from one IP address', '25', 1);
  if (perAddress === undefined) return undefined;
  const idle = await askCount(s, 'Start Listener: idle timeout (seconds)', 'Close a client silent this long, not even answering pings', '60', 2);
  if (idle === undefined) return undefined;
  return {
    ...(max !== null ? { maxConnections: max } : {}),
    ...(perAddress !== null ? { maxConnectionsPerAddress: perAddress } : {}),
    ...(idle !== null ? { idleTimeoutSeconds: idle } : {}),
  };
}

/** A free port near `preferred` (0 stays 0: the system picks one). */
async function proposePort(s: Services, preferred: number, networkInterface?: string): Promise<number> {
  if (preferred === 0) return 0;
  try {
    return (await s.ctx.request(P.FindFreePort, { preferred, ...(networkInterface ? { networkInterface } : {}) })).port;
  } catch (e) {
    s.ctx.log.warn(`finding a free port: ${errorMessage(e)}`);
    return preferred;
  }
}

function askPort(s: Services, proposed: number, taken?: number): Thenable<string | undefined> {
  return s.ctx.ui.showInputBox({
    title: 'Start Listener: port',
    prompt: taken === undefined ? 'TCP port to listen on (0 = any free port)' : `Port ${taken} is already in use: choose another (0 = any free port)`,
    value: String(proposed),
    ignoreFocusOut: true,
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) <= 65535 ? undefined : 'A port number from 0 to 65535'),
  });
}

/** Starts the listener; when its port was taken meanwhile, asks for another port only (the other answers stand). */
async function startOnFreePort(s: Services, params: P.StartListenerParams): Promise<P.ListenerInfo | undefined> {
  for (;;) {
    try {
      return await s.ctx.request(P.StartListener, params);
    } catch (e) {
      const port = params.port ?? 0;
      if (port === 0 || !/already in use/i.test(errorMessage(e))) throw e;
      const again = await askPort(s, await proposePort(s, port + 1, params.networkInterface), port);
      if (again === undefined) return undefined;
      params = { ...params, port: Number(again.trim()) };
    }
  }
}

export async function startListener(s: Services, arg?: unknown, advanced = false): Promise<P.ListenerInfo | undefined> {
  const ui = s.ctx.ui;
  const db = arg instanceof DatabaseNode ? arg.summary.name : typeof arg === 'string' ? arg : await pickDatabase(s, 'Start Listener: database');
  if (!db) return undefined;
  const portText = await askPort(s, await proposePort(s, settings.defaultPort()));
  if (portText === undefined) return undefined;
  const iface = await ui.showQuickPick(interfaceItems(), { title: 'Start Listener: network interface', ignoreFocusOut: true });
  if (!iface) return undefined;
  const access = await pick(s, 'Start Listener: access', [
    { label: 'Read-write', description: 'peers can push and pull', value: false },
    { label: 'Read-only', description: 'peers can only pull', value: true },
  ]);
  if (access === undefined) return undefined;
  const tlsMode = await pick(s, 'Start Listener: TLS', [
    { label: 'TLS (wss://)', description: 'encrypted, with an anonymous self-signed certificate', value: 'anonymous' as const },
    { label: 'TLS (wss://) with an identity from the keystore…', description: `a certificate from Create TLS Identity (the keystore of ${db})`, value: 'identity' as const },
    { label: 'No TLS (ws://)', description: 'plain WebSocket, for trusted networks and testing', value: 'none' as const },
  ]);
  if (tlsMode === undefined) return undefined;
  const tls = tlsMode !== 'none';
  let identityLabel: string | undefined;
  if (tlsMode === 'identity') {
    identityLabel = await pickIdentity(s, db, 'Start Listener: identity');
    if (identityLabel === undefined) return undefined;
  }
  const auth = await pick(s, 'Start Listener: authentication', [
    { label: 'None', description: 'anyone who reaches the port may replicate', value: 'none' as const },
    { label: 'Users file…', description: `user names and passwords (HTTP Basic) from a PeerSync users file${tls ? '' : ' — sent in clear without TLS'}`, value: 'users' as const },
    ...(tls ? [{ label: 'Client certificates…', description: 'certificates signed by a CA (a PEM file of root certificates)', value: 'clientCa' as const }] : []),
  ]);
  if (auth === undefined) return undefined;
  let usersFile: string | undefined;
  let clientCaFile: string | undefined;
  if (auth === 'users') {
    usersFile = await pickFile(s, 'Start Listener: users file', 'Use Users File', { 'Users file': ['json'], 'All files': ['*'] });
    if (usersFile === undefined) return undefined;
  } else if (auth === 'clientCa') {
    clientCaFile = await pickFile(s, 'Start Listener: client CA certificates', 'Trust These Roots', CERTIFICATE_FILES);
    if (clientCaFile === undefined) return undefined;
  }
  const limits = advanced ? await listenerLimits(s) : {};
  if (limits === undefined) return undefined;
  const params: P.StartListenerParams = {
    ...limits,
    db,
    port: Number(portText.trim()),
    ...(iface.value ? { networkInterface: iface.value } : {}),
    readOnly: access,
    tls,
    ...(identityLabel !== undefined ? { identityLabel } : {}),
    ...(usersFile !== undefined ? { usersFile } : {}),
    ...(clientCaFile !== undefined ? { clientCaFile } : {}),
  };
  const info = await startOnFreePort(s, params);
  if (!info) return undefined;
  warnAbout(s, `listener ${info.id}`, info.warnings);
  s.ctx.log.info(
    `listener ${info.id} on ${info.urls.join(', ')}${info.certificateFingerprint ? ` (certificate SHA-256 ${info.certificateFingerprint})` : ''}${info.authentication && info.authentication !== 'none' ? ` (authentication: ${info.authentication})` : ''}`,
  );
  const url = info.urls[0];
  void ui.showInformationMessage(`PeerSync is listening on ${url ?? `port ${info.port}`}`, ...(url ? ['Copy URL'] : [])).then((c) => {
    if (c === 'Copy URL' && url) void ui.writeClipboard(url);
  });
  return info;
}

export async function stopListener(s: Services, arg?: unknown): Promise<boolean> {
  const listener = arg instanceof ListenerNode ? arg.info : await pickListener(s, 'Stop Listener');
  if (!listener) return false;
  await s.ctx.request(P.StopListener, { id: listener.id });
  return true;
}

export async function copyListenerUrl(s: Services, arg?: unknown): Promise<string | undefined> {
  let url: string | undefined;
  if (arg instanceof ListenerUrlNode) url = arg.url;
  else {
    const listener = arg instanceof ListenerNode ? arg.info : await pickListener(s, 'Copy Listener URL: listener');
    if (!listener) return undefined;
    url =
      listener.urls.length <= 1
        ? listener.urls[0]
        : await pick(
            s,
            'Copy Listener URL: URL',
            listener.urls.map((u) => ({ label: u, value: u })),
          );
  }
  if (!url) return undefined;
  await s.ctx.ui.writeClipboard(url);
  vscode.window.setStatusBarMessage(`Copied ${url}`, 3000);
  return url;
}

export async function addPeer(s: Services, url?: unknown): Promise<string | undefined> {
  const value =
    typeof url === 'string'
      ? url
      : await s.ctx.ui.showInputBox({ title: 'Add Peer: URL', prompt: 'The remote peer’s database URL', placeHolder: 'ws://192.168.1.20:4984/inventory', validateInput: validatePeerUrl });
  if (!value) return undefined;
  const problem = validatePeerUrl(value);
  if (problem) throw new Error(problem);
  await s.peers.add(value);
  return normalizePeerUrl(value);
}

export async function removePeer(s: Services, arg?: unknown): Promise<void> {
  const url =
    arg instanceof RemotePeerNode
      ? arg.url
      : await pick(
          s,
          'Remove Peer',
          s.peers.urls().map((u) => ({ label: u, value: u })),
        );
  if (!url) return;
  await s.peers.remove(url);
  await s.credentials.delete(url);
}

/** The target's quick pick: saved peers (not this peer's own listeners), a typed or pasted URL, or "Enter a URL…". */
async function targetItems(s: Services): Promise<{ items: Picked<string | null>[]; own: Set<string> }> {
  const own = new Set((await s.ctx.request(P.ListListeners)).flatMap((l) => l.urls));
  const items: Picked<string | null>[] = [
    ...s.peers
      .list()
      .filter((p) => !own.has(p.url))
      .map((p) => ({ label: p.url, description: p.pinnedFingerprint ? 'remote peer · certificate pinned' : 'remote peer', value: p.url })),
    { label: '$(add) Enter a URL…', value: null },
  ];
  return { items, own };
}

/** A pasted or typed ws:// / wss:// URL becomes the first item, so Enter accepts it. */
export function typedUrlItem(value: string): Picked<string | null> | undefined {
  const url = normalizePeerUrl(value);
  if (!/^wss?:\/\//i.test(url) || validatePeerUrl(url) !== undefined) return undefined;
  return { label: `Use ${url}`, description: 'the URL typed', value: url, alwaysShow: true };
}

/** Start Replication (Advanced): only some documents, and how often to try. */
async function replicationLimits(s: Services): Promise<Partial<P.StartReplicationParams> | undefined> {
  const ids = await s.ctx.ui.showInputBox({ title: 'Start Replication: document IDs', prompt: 'Only these documents, comma-separated (empty: every document)', placeHolder: 'order-1, order-2' });
  if (ids === undefined) return undefined;
  const documentIds = ids
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  const attempts = await askCount(s, 'Start Replication: maximum attempts', 'Connection attempts before giving up (0: unlimited)', 'the default', 0);
  if (attempts === undefined) return undefined;
  return { ...(documentIds.length > 0 ? { documentIds } : {}), ...(attempts !== null ? { maxAttempts: attempts } : {}) };
}

interface ReplicationAnswers {
  target?: string;
  db?: string;
  type?: P.StartReplicationParams['type'];
  continuous?: boolean;
  auth?: 'saved' | 'none' | 'enter' | 'certificate';
  credential?: Credential | undefined;
  clientIdentityLabel?: string | undefined;
  trust?: 'pinned' | 'selfSigned' | 'pin' | 'ca' | 'roots';
  pinnedFile?: string | undefined;
  rootsFile?: string | undefined;
}

function replicationSteps(s: Services, presetTarget: boolean, presetDb: boolean): WizardStep<ReplicationAnswers>[] {
  return [
    {
      applies: () => !presetTarget,
      run: async (a, at) => {
        const { items } = await targetItems(s);
        for (;;) {
          const chosen = await pickStep(s, at, 'Start Replication: peer', items, { placeHolder: 'Replicate with… (or paste a ws:// or wss:// URL)', previous: a.target, itemForValue: typedUrlItem });
          if (chosen === undefined || chosen === 'back' || chosen.value !== null) return answered(chosen, (v) => (a.target = normalizePeerUrl(v!)));
          const typed = await inputStep(s, at, {
            title: 'Start Replication: peer URL',
            prompt: 'The remote peer’s database URL',
            placeHolder: 'ws://192.168.1.20:4984/inventory',
            value: a.target ?? '',
            validateInput: validatePeerUrl,
          });
          if (typed === 'back') continue;
          return answered(typed, (v) => (a.target = normalizePeerUrl(v)));
        }
      },
    },
    {
      applies: () => !presetDb,
      run: async (a, at) => {
        const dbs = await s.ctx.request(P.ListDatabases);
        const items = dbs.map((d) => ({
          label: d.name,
          description: plural(
            d.collections.reduce((n, c) => n + c.documents, 0),
            'doc',
          ),
          detail: d.path,
          value: d.name,
        }));
        return answered(await pickStep(s, at, 'Start Replication: local database', items, { placeHolder: 'Choose a database', previous: a.db }), (v) => (a.db = v));
      },
    },
    {
      run: async (a, at) =>
        answered(
          await pickStep(
            s,
            at,
            'Start Replication: direction',
            [
              { label: 'Push and pull', description: 'both ways', value: 'pushAndPull' as const },
              { label: 'Push', description: 'send local changes to the peer', value: 'push' as const },
              { label: 'Pull', description: 'fetch the peer’s changes', value: 'pull' as const },
            ],
            { previous: a.type },
          ),
          (v) => (a.type = v),
        ),
    },
    {
      run: async (a, at) =>
        answered(
          await pickStep(
            s,
            at,
            'Start Replication: mode',
            [
              { label: 'Continuous', description: 'keep in sync until stopped', value: true },
              { label: 'One-shot', description: 'catch up once, then stop', value: false },
            ],
            { previous: a.continuous },
          ),
          (v) => (a.continuous = v),
        ),
    },
    {
      run: async (a, at) => {
        const target = a.target!;
        const saved = await s.credentials.get(target);
        for (;;) {
          const auth = await pickStep(
            s,
            at,
            'Start Replication: authentication',
            [
              ...(saved ? [{ label: `Saved credentials (${saved.username})`, value: 'saved' as const }] : []),
              { label: 'None', description: 'the peer accepts anyone', value: 'none' as const },
              { label: 'Username and password…', description: 'kept in VS Code’s secret storage', value: 'enter' as const },
              ...(target.startsWith('wss:') ? [{ label: 'Client certificate…', description: `a TLS identity from the keystore of ${a.db!}`, value: 'certificate' as const }] : []),
            ],
            { previous: a.auth },
          );
          if (auth === undefined || auth === 'back') return answered(auth, () => undefined);
          a.auth = auth.value;
          a.clientIdentityLabel = undefined;
          a.credential = auth.value === 'saved' ? saved : undefined;
          if (auth.value === 'certificate') {
            a.clientIdentityLabel = await pickIdentity(s, a.db!, 'Start Replication: client identity');
            if (a.clientIdentityLabel === undefined) continue;
          }
          if (auth.value === 'enter') {
            const username = await inputStep(s, at, { title: 'Start Replication: username', prompt: `Username for ${target}`, value: a.credential?.username ?? saved?.username ?? '' });
            if (username === 'back') continue;
            if (username === undefined) return 'cancel';
            const password = await inputStep(s, at, { title: 'Start Replication: password', prompt: `Password for ${username.value}`, password: true });
            if (password === 'back') continue;
            if (password === undefined) return 'cancel';
            a.credential = { username: username.value, password: password.value };
          }
          return 'next';
        }
      },
    },
    {
      applies: (a) => a.target?.startsWith('wss:') === true,
      run: async (a, at) => {
        const peer = s.peers.find(a.target!);
        for (;;) {
          const trust = await pickStep(
            s,
            at,
            'Start Replication: server certificate',
            [
              ...(peer?.pinnedCertificate ? [{ label: 'The certificate pinned for this peer', description: `SHA-256 ${peer.pinnedFingerprint ?? '?'}`, value: 'pinned' as const }] : []),
              { label: 'Accept the peer’s self-signed certificate', description: 'PeerSync and Couchbase Lite listeners use one by default', value: 'selfSigned' as const },
              { label: 'Pin a certificate file…', description: 'only the peer presenting this certificate (PEM or DER, e.g. from Show Listener Certificate)', value: 'pin' as const },
              { label: 'Verify with the system’s certificate authorities', value: 'ca' as const },
              { label: 'Verify with root certificates from a file…', description: 'a PEM file of CA certificates, trusted besides the system’s', value: 'roots' as const },
            ],
            { previous: a.trust },
          );
          if (trust === undefined || trust === 'back') return answered(trust, () => undefined);
          a.trust = trust.value;
          a.rootsFile = trust.value === 'roots' ? await pickFile(s, 'Start Replication: trusted root certificates', 'Trust These Roots', CERTIFICATE_FILES) : undefined;
          a.pinnedFile = trust.value === 'pin' ? await pickFile(s, 'Start Replication: pinned certificate', 'Pin', CERTIFICATE_FILES) : undefined;
          if ((trust.value === 'roots' && a.rootsFile === undefined) || (trust.value === 'pin' && a.pinnedFile === undefined)) continue;
          return 'next';
        }
      },
    },
  ];
}

export async function startReplication(s: Services, arg?: unknown, advanced = false): Promise<P.ReplicatorInfo | undefined> {
  const a: ReplicationAnswers = {};
  const given = arg instanceof RemotePeerNode || arg instanceof ListenerUrlNode ? arg.url : typeof arg === 'string' ? arg : undefined;
  if (given !== undefined) {
    a.target = normalizePeerUrl(given);
    const problem = validatePeerUrl(a.target);
    if (problem) {
      void s.ctx.ui.showErrorMessage(problem);
      return undefined;
    }
  }
  if (arg instanceof DatabaseNode) a.db = arg.summary.name;
  else if ((await s.ctx.request(P.ListDatabases)).length <= 1) {
    // No database yet (offers to create one) or only one: nothing to ask.
    const db = await pickDatabase(s, 'Start Replication: local database');
    if (db === undefined) return undefined;
    a.db = db;
  }
  if (!(await runWizard(a, replicationSteps(s, given !== undefined, a.db !== undefined)))) return undefined;
  const target = a.target!;
  const db = a.db!;
  const type = a.type!;
  const continuous = a.continuous!;
  const credential = a.credential;
  if (a.auth === 'enter' && credential) await s.credentials.store(target, credential);
  const clientIdentityLabel = a.clientIdentityLabel;
  const selfSigned = a.trust === 'selfSigned';
  const pinnedFile = a.pinnedFile;
  const pinned = a.trust === 'pinned' ? s.peers.find(target)?.pinnedCertificate : undefined;
  const rootsFile = a.rootsFile;
  // How conflicts end for this replication (manual keeps them for the Conflicts view).
  const resolver = await pickResolver(s);
  if (resolver === undefined) return undefined;
  const limits = advanced ? await replicationLimits(s) : {};
  if (limits === undefined) return undefined;
  const heartbeat = settings.heartbeat();
  const params: P.StartReplicationParams = {
    ...limits,
    db,
    target,
    type,
    continuous,
    // Saved by the server (back after a restart) only when continuous: a one-shot run is done once it ends.
    persist: continuous,
    resolver,
    ...(credential ? { username: credential.username, password: credential.password } : {}),
    ...(heartbeat !== undefined ? { heartbeat } : {}),
    ...(selfSigned ? { acceptOnlySelfSignedServerCertificate: true } : {}),
    ...(pinnedFile !== undefined ? { pinnedServerCertificateFile: pinnedFile } : {}),
    ...(pinned !== undefined ? { pinnedServerCertificate: pinned } : {}),
    ...(rootsFile !== undefined ? { trustedRootCertificatesFile: rootsFile } : {}),
    ...(clientIdentityLabel !== undefined ? { clientIdentityLabel } : {}),
  };
  const own = (await s.ctx.request(P.ListListeners)).some((l) => l.urls.includes(target));
  if (!own) await s.peers.add(target);
  // The server read the pinned file into the replication's settings: keep that certificate with the peer.
  const rememberPin = async (info: P.ReplicatorInfo): Promise<void> => {
    const pem = info.params?.pinnedServerCertificate;
    if (!own && pinnedFile !== undefined && pem !== undefined) await s.peers.add(target, pem);
  };

  if (continuous) {
    const info = await s.ctx.request(P.StartReplication, params);
    await rememberPin(info);
    s.ctx.log.info(`replicator ${info.id}: ${db} ⇄ ${target} (${type}, continuous)`);
    warnAbout(s, `replicator ${info.id}`, info.warnings);
    return info;
  }
  return runOneShot(s, params, rememberPin);
}

/** A one-shot replication under a cancellable progress notification, until it stops. */
async function runOneShot(s: Services, params: P.StartReplicationParams, onStarted: (info: P.ReplicatorInfo) => Promise<void>): Promise<P.ReplicatorInfo> {
  const seen = new Map<string, P.ReplicatorInfo>();
  let onStatus: ((r: P.ReplicatorInfo) => void) | undefined;
  const sub = s.ctx.onReplicatorStatus((r) => {
    seen.set(r.id, r);
    onStatus?.(r);
  });
  try {
    const started = await s.ctx.request(P.StartReplication, params);
    await onStarted(started);
    s.ctx.log.info(`replicator ${started.id}: ${params.db} ⇄ ${params.target} (${params.type}, one-shot)`);
    warnAbout(s, `replicator ${started.id}`, started.warnings);
    let cancelled = false;
    const final = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Replicating ${params.db} with ${params.target}`, cancellable: true },
      (progress, token) =>
        new Promise<P.ReplicatorInfo>((resolve, reject) => {
          let reported = 0;
          const update = (r: P.ReplicatorInfo): void => {
            if (r.id !== started.id) return;
            const pct = r.total > 0 ? (100 * r.completed) / r.total : 0;
            const why = r.error && r.activity === 'offline' ? ` (${shortReplicationError(r.error.message)})` : '';
            progress.report({ increment: Math.max(0, pct - reported), message: `${r.activity}${why} · ${r.completed}/${r.total}` });
            reported = Math.max(reported, pct);
            if (r.activity === 'stopped') finish(r);
          };
          const stateSub = s.ctx.onDidChangeServerState((st) => st === 'stopped' && (cleanup(), reject(new Error('the PeerSync server stopped during the replication'))));
          const cancelSub = token.onCancellationRequested(() => {
            cancelled = true;
            void s.ctx.request(P.StopReplication, { id: started.id }).then(finish, (e: unknown) => (cleanup(), reject(e)));
          });
          const cleanup = (): void => {
            onStatus = undefined;
            stateSub.dispose();
            cancelSub.dispose();
          };
          const finish = (r: P.ReplicatorInfo): void => {
            cleanup();
            resolve(r);
          };
          onStatus = update;
          update(seen.get(started.id) ?? started);
        }),
    );
    if (cancelled) {
      const why = final.error ? ` (${shortReplicationError(final.error.message)})` : '';
      void s.ctx.ui.showInformationMessage(`Replication with ${params.target} cancelled${final.total > 0 ? ` after ${final.completed} of ${plural(final.total, 'document')}` : ''}${why}.`);
    } else if (final.error) {
      void s.ctx.ui.showErrorMessage(`Replication with ${params.target} failed: ${explainReplicationError(final.error.message)}`);
    } else if (final.failed > 0) {
      const list = (final.failedDocuments ?? []).map((f) => `${f.direction} ${f.docId}: ${f.message}`).join('; ');
      void s.ctx.ui.showWarningMessage(`Replication with ${params.target} finished, but ${plural(final.failed, 'document')} did not replicate (retried next time): ${list}`, {});
    } else {
      void s.ctx.ui.showInformationMessage(`Replication with ${params.target} finished: ${final.completed} of ${plural(final.total, 'document')}.`);
    }
    return final;
  } finally {
    sub.dispose();
  }
}

export async function replicatorFrom(s: Services, arg: unknown, title: string, filter?: (r: P.ReplicatorInfo) => boolean): Promise<P.ReplicatorInfo | undefined> {
  if (arg instanceof ReplicatorNode) return arg.info;
  if (typeof arg === 'string') return (await s.ctx.request(P.ListReplications)).find((r) => r.id === arg);
  return pickReplicator(s, title, filter);
}

export async function stopReplication(s: Services, arg?: unknown): Promise<P.ReplicatorInfo | undefined> {
  const r = await replicatorFrom(s, arg, 'Stop Replication', (x) => x.activity !== 'stopped');
  return r && s.ctx.request(P.StopReplication, { id: r.id });
}

/**
 * Start (a stopped replicator) and Restart are the same request: the server starts it afresh with
 * its saved settings. One that signs in needs its password, which only secret storage holds.
 */
export async function restartReplication(s: Services, arg?: unknown): Promise<P.ReplicatorInfo | undefined> {
  const r = await replicatorFrom(s, arg, 'Restart Replication');
  if (!r) return undefined;
  if (r.username === undefined) return s.ctx.request(P.RestartReplication, { id: r.id });
  const saved = await s.credentials.get(r.target);
  let password = saved?.username === r.username ? saved.password : undefined;
  if (password === undefined) {
    password = await s.ctx.ui.showInputBox({ title: 'Start Replication: password', prompt: `Password for ${r.username} at ${r.target}`, password: true, ignoreFocusOut: true });
    if (password === undefined) return undefined;
    await s.credentials.store(r.target, { username: r.username, password });
  }
  return s.ctx.request(P.RestartReplication, { id: r.id, password });
}

export async function removeReplication(s: Services, arg?: unknown): Promise<boolean> {
  const r = await replicatorFrom(s, arg, 'Remove Replication');
  if (!r) return false;
  await s.ctx.request(P.RemoveReplication, { id: r.id });
  return true;
}
