/** Import, export and delete the TLS identities in a database's keystore (Create is in security-commands). */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Services } from '../services';
import { DatabaseNode } from '../views/databases-view';
import { pick, pickDatabase, pickFile } from './pickers';

async function databaseFrom(s: Services, arg: unknown, title: string): Promise<string | undefined> {
  return arg instanceof DatabaseNode ? arg.summary.name : typeof arg === 'string' ? arg : pickDatabase(s, `${title}: database`);
}

/** An existing identity (anonymous ones included: a listener's certificate may be worth exporting). */
async function pickStoredIdentity(s: Services, db: string, title: string, withAnonymous: boolean): Promise<string | undefined> {
  const identities = (await s.ctx.request(P.ListIdentities, { db })).filter((i) => withAnonymous || !i.anonymous);
  if (identities.length === 0) {
    void s.ctx.ui.showInformationMessage(`The keystore of ${db} has no TLS identity.`);
    return undefined;
  }
  return pick(
    s,
    `${title}: identity`,
    identities.map((i) => ({ label: i.label, description: `CN ${i.commonName ?? '?'} · until ${i.notAfter.slice(0, 10)}`, detail: `SHA-256 ${i.fingerprintSha256}`, value: i.label })),
  );
}

export async function importIdentity(s: Services, arg?: unknown): Promise<string | undefined> {
  const ui = s.ctx.ui;
  const db = await databaseFrom(s, arg, 'Import TLS Identity');
  if (!db) return undefined;
  const file = await pickFile(s, 'Import TLS Identity: PKCS#12 file', 'Import', { 'PKCS#12': ['p12', 'pfx'], 'All files': ['*'] });
  if (file === undefined) return undefined;
  const password = await ui.showInputBox({ title: 'Import TLS Identity: password', prompt: 'The password of the PKCS#12 file', password: true, ignoreFocusOut: true });
  if (password === undefined) return undefined;
  const existing = new Set((await s.ctx.request(P.ListIdentities, { db })).map((i) => i.label));
  const label = await ui.showInputBox({
    title: 'Import TLS Identity: label',
    prompt: `Name to store the identity under in the keystore of ${db}`,
    validateInput: (v) => (v.trim().length === 0 ? 'A label is required' : existing.has(v.trim()) ? `${db} already has an identity labelled “${v.trim()}”` : undefined),
  });
  if (label === undefined) return undefined;
  const imported = await s.ctx.request(P.ImportIdentity, { db, file, password, label: label.trim() });
  s.ctx.log.info(`imported identity ${imported.label} into ${db}: SHA-256 ${imported.fingerprintSha256}`);
  void ui.showInformationMessage(`Imported TLS identity “${imported.label}” into ${db} (CN ${imported.subject.commonName ?? '?'}).`);
  return imported.label;
}

export async function exportIdentity(s: Services, arg?: unknown): Promise<string | undefined> {
  const ui = s.ctx.ui;
  const db = await databaseFrom(s, arg, 'Export TLS Identity');
  if (!db) return undefined;
  const label = await pickStoredIdentity(s, db, 'Export TLS Identity', true);
  if (!label) return undefined;
  const format = await pick(s, 'Export TLS Identity: format', [
    { label: 'PEM certificate', description: '.pem — the certificate only', value: 'pem' as const },
    { label: 'DER certificate', description: '.cer — the certificate only', value: 'der' as const },
    { label: 'PKCS#12', description: '.p12 — certificate and private key, protected by a password', value: 'pkcs12' as const },
  ]);
  if (!format) return undefined;
  let password: string | undefined;
  if (format === 'pkcs12') {
    password = await ui.showInputBox({
      title: 'Export TLS Identity: password',
      prompt: 'A password to protect the private key',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.length === 0 ? 'A password is required' : undefined),
    });
    if (password === undefined) return undefined;
  }
  const ext = format === 'pem' ? 'pem' : format === 'der' ? 'cer' : 'p12';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await ui.showSaveDialog({
    title: 'Export TLS Identity: file',
    saveLabel: 'Export',
    filters: { [format.toUpperCase()]: [ext] },
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${label}.${ext}`) } : {}),
  });
  if (!uri) return undefined;
  if (uri.scheme !== 'file') throw new Error('Choose a file on this machine (the PeerSync server writes it directly)');
  const written = await s.ctx.request(P.ExportIdentity, { db, label, file: uri.fsPath, format, ...(password !== undefined ? { password } : {}) });
  void ui.showInformationMessage(`Exported “${label}” to ${written.file}.`);
  return written.file;
}

export async function deleteIdentity(s: Services, arg?: unknown): Promise<boolean> {
  const db = await databaseFrom(s, arg, 'Delete TLS Identity');
  if (!db) return false;
  const label = await pickStoredIdentity(s, db, 'Delete TLS Identity', false);
  if (!label) return false;
  const ok = await s.ctx.ui.showWarningMessage(
    `Delete the TLS identity “${label}” from the keystore of ${db}?`,
    { modal: true, detail: 'Its private key is gone for good; listeners and replications that use it will fail to start.' },
    'Delete',
  );
  if (ok !== 'Delete') return false;
  await s.ctx.request(P.DeleteIdentity, { db, label });
  s.ctx.log.info(`deleted identity ${label} from ${db}`);
  return true;
}
