/** TLS identities (in a database's keystore) and the certificates listeners present. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { pemToDer } from '../documents/certificate-text';
import type { Services } from '../services';
import { DatabaseNode } from '../views/databases-view';
import { ListenerNode, ListenerUrlNode } from '../views/peers-view';
import { pick, pickDatabase, pickListener } from './pickers';

/** The keystore label prefix of listeners' anonymous identities (the server makes those itself). */
const RESERVED_PREFIX = 'anonymous-';
const MAX_DAYS = 36_500;

export type CreatedIdentity = P.CertificateInfo & { readonly label: string };

/** Create TLS Identity: a new key and self-signed certificate, saved in a database's keystore. */
export async function createIdentity(s: Services, arg?: unknown): Promise<CreatedIdentity | undefined> {
  const ui = s.ctx.ui;
  const db = arg instanceof DatabaseNode ? arg.summary.name : typeof arg === 'string' ? arg : await pickDatabase(s, 'Create TLS Identity: database');
  if (!db) return undefined;
  const existing = new Set((await s.ctx.request(P.ListIdentities, { db })).map((i) => i.label));
  const label = await ui.showInputBox({
    title: 'Create TLS Identity: label',
    prompt: `Name to store the identity under in the keystore of ${db}`,
    placeHolder: 'my-listener',
    validateInput: (v) => {
      const t = v.trim();
      if (t.length === 0) return 'A label is required';
      if (t.startsWith(RESERVED_PREFIX)) return `Labels starting with “${RESERVED_PREFIX}” are reserved for listeners’ anonymous certificates`;
      if (existing.has(t)) return `${db} already has an identity labelled “${t}”`;
      return undefined;
    },
  });
  if (label === undefined) return undefined;
  const commonName = await ui.showInputBox({
    title: 'Create TLS Identity: common name',
    prompt: 'Common name (CN) of the certificate, e.g. this machine’s host name',
    value: label.trim(),
    validateInput: (v) => (v.trim().length === 0 ? 'A common name is required' : undefined),
  });
  if (commonName === undefined) return undefined;
  const isServer = await pick(s, 'Create TLS Identity: kind', [
    { label: 'Server', description: 'for this peer’s listeners (wss://)', value: true },
    { label: 'Client', description: 'to authenticate to listeners that require client certificates', value: false },
  ]);
  if (isServer === undefined) return undefined;
  const daysText = await ui.showInputBox({
    title: 'Create TLS Identity: validity (days)',
    prompt: 'How many days the certificate is valid from now',
    value: '365',
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= MAX_DAYS ? undefined : `A whole number of days from 1 to ${MAX_DAYS}`),
  });
  if (daysText === undefined) return undefined;
  const created = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Creating TLS identity ${label.trim()}` }, () =>
    s.ctx.request(P.CreateIdentity, { db, label: label.trim(), commonName: commonName.trim(), isServer, validityDays: Number(daysText.trim()) }),
  );
  s.ctx.log.info(`created ${isServer ? 'server' : 'client'} identity ${created.label} in ${db}: CN ${created.subject.commonName ?? ''}, SHA-256 ${created.fingerprintSha256}`);
  void ui
    .showInformationMessage(`Created TLS identity “${created.label}” in ${db} (CN ${created.subject.commonName ?? ''}). SHA-256 fingerprint: ${created.fingerprintSha256}`, 'Copy Fingerprint')
    .then((c) => {
      if (c === 'Copy Fingerprint') void ui.writeClipboard(created.fingerprintSha256);
    });
  return created;
}

/**
 * A label from the database's keystore (its anonymous identities left out), or one created on the
 * spot; undefined when cancelled.
 */
export async function pickIdentity(s: Services, db: string, title: string): Promise<string | undefined> {
  const identities = (await s.ctx.request(P.ListIdentities, { db })).filter((i) => !i.anonymous);
  if (identities.length === 0) {
    const choice = await s.ctx.ui.showInformationMessage(`The keystore of ${db} has no TLS identity yet.`, 'Create TLS Identity…');
    if (choice !== 'Create TLS Identity…') return undefined;
    return (await createIdentity(s, db))?.label;
  }
  const now = Date.now();
  const chosen = await pick<string | null>(s, title, [
    ...identities.map((i) => ({
      label: i.label,
      description: `CN ${i.commonName ?? '?'} · ${Date.parse(i.notAfter) < now ? 'expired' : 'until'} ${i.notAfter.slice(0, 10)}${i.encrypted ? ' · encrypted key' : ''}`,
      detail: `SHA-256 ${i.fingerprintSha256}`,
      value: i.label,
    })),
    { label: '$(add) Create TLS Identity…', value: null },
  ]);
  if (chosen === undefined) return undefined;
  if (chosen !== null) return chosen;
  return (await createIdentity(s, db))?.label;
}

async function listenerFrom(s: Services, arg: unknown): Promise<P.ListenerInfo | undefined> {
  const id = arg instanceof ListenerNode ? arg.info.id : arg instanceof ListenerUrlNode ? arg.listener.id : typeof arg === 'string' ? arg : undefined;
  if (id !== undefined) {
    const found = (await s.ctx.request(P.ListListeners)).find((l) => l.id === id);
    if (!found) throw new Error(`listener ${id} is not running`);
    return found;
  }
  return pickListener(s, 'Show Listener Certificate: listener', (l) => l.tls, 'No listener with TLS (wss://) is running.');
}

/**
 * Show Listener Certificate: a read-only document with the certificate's subject, validity,
 * SHA-256 fingerprint and PEM, and the actions Copy Fingerprint / Save Certificate….
 */
export async function showListenerCertificate(s: Services, arg?: unknown): Promise<P.CertificateInfo | undefined> {
  const ui = s.ctx.ui;
  const listener = await listenerFrom(s, arg);
  if (!listener) return undefined;
  if (!listener.tls) {
    void ui.showInformationMessage(`The listener on ${listener.db} :${listener.port} serves plain ws:// and has no certificate.`);
    return undefined;
  }
  const cert = await s.ctx.request(P.GetListenerCertificate, { id: listener.id });
  const doc = await vscode.workspace.openTextDocument(s.certificates.put(listener, cert));
  await vscode.window.showTextDocument(doc, { preview: true });
  const action = await ui.showInformationMessage(
    `Certificate of the listener on ${listener.db} :${listener.port} (CN ${cert.subject.commonName ?? '?'}). SHA-256: ${cert.fingerprintSha256}`,
    'Copy Fingerprint',
    'Save Certificate…',
  );
  if (action === 'Copy Fingerprint') {
    await ui.writeClipboard(cert.fingerprintSha256);
    vscode.window.setStatusBarMessage('Copied the certificate fingerprint', 3000);
  } else if (action === 'Save Certificate…') {
    await saveCertificate(s, cert, `${listener.db}-listener`);
  }
  return cert;
}

/** Writes the certificate as PEM or DER (e.g. for pinning on another peer); resolves to where. */
export async function saveCertificate(s: Services, cert: P.CertificateInfo, baseName: string): Promise<vscode.Uri | undefined> {
  const format = await pick(s, 'Save Certificate: format', [
    { label: 'PEM', description: '.pem — text, “BEGIN CERTIFICATE”', value: 'pem' as const },
    { label: 'DER', description: '.cer — binary, as Couchbase Lite apps usually pin it', value: 'der' as const },
  ]);
  if (!format) return undefined;
  const ext = format === 'pem' ? 'pem' : 'cer';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await s.ctx.ui.showSaveDialog({
    title: 'Save Certificate',
    saveLabel: 'Save',
    filters: format === 'pem' ? { 'PEM certificate': ['pem', 'crt'] } : { 'DER certificate': ['cer', 'der'] },
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${baseName}.${ext}`) } : {}),
  });
  if (!uri) return undefined;
  const bytes = format === 'pem' ? new TextEncoder().encode(cert.pem) : pemToDer(cert.pem);
  await vscode.workspace.fs.writeFile(uri, bytes);
  s.ctx.log.info(`saved certificate ${cert.fingerprintSha256} to ${uri.toString(true)}`);
  void s.ctx.ui.showInformationMessage(`Saved the certificate (${format.toUpperCase()}) to ${uri.scheme === 'file' ? uri.fsPath : uri.toString(true)}.`);
  return uri;
}
