/** Users files: the HTTP Basic accounts a listener checks (the server stores scrypt hashes only). */
import * as P from '../../server/rpc/protocol';
import type { Services } from '../services';
import { pick, pickFile } from './pickers';

const USERS_FILES = { 'Users file': ['json'], 'All files': ['*'] };

/** An existing users file, or (`allowNew`) a new one to create. */
async function usersFile(s: Services, title: string, arg: unknown, allowNew: boolean): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  if (allowNew) {
    const choice = await pick(s, `${title}: users file`, [
      { label: 'Choose a users file…', value: 'open' as const },
      { label: 'New users file…', value: 'new' as const },
    ]);
    if (choice === undefined) return undefined;
    if (choice === 'new') {
      const uri = await s.ctx.ui.showSaveDialog({ title: `${title}: new users file`, saveLabel: 'Create', filters: USERS_FILES });
      if (!uri) return undefined;
      if (uri.scheme !== 'file') throw new Error('Choose a file on this machine (the PeerSync server writes it directly)');
      return uri.fsPath;
    }
  }
  return pickFile(s, `${title}: users file`, 'Use Users File', USERS_FILES);
}

export async function addUser(s: Services, file?: unknown): Promise<string[] | undefined> {
  const ui = s.ctx.ui;
  const path = await usersFile(s, 'Add User', file, true);
  if (!path) return undefined;
  const user = await ui.showInputBox({
    title: 'Add User: name',
    prompt: 'User name (an existing one gets the new password)',
    validateInput: (v) => (v.trim().length === 0 || v.includes(':') ? 'A user name, without “:”' : undefined),
  });
  if (user === undefined) return undefined;
  const password = await ui.showInputBox({
    title: 'Add User: password',
    prompt: `Password for ${user.trim()}`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.length === 0 ? 'A password is required' : undefined),
  });
  if (password === undefined) return undefined;
  const { users } = await s.ctx.request(P.AddUser, { file: path, user: user.trim(), password });
  void ui.showInformationMessage(`${path} has ${users.length} user${users.length === 1 ? '' : 's'}: ${users.join(', ')}`);
  return users;
}

export async function removeUser(s: Services, file?: unknown, name?: unknown): Promise<string[] | undefined> {
  const path = await usersFile(s, 'Remove User', file, false);
  if (!path) return undefined;
  const { users: present } = await s.ctx.request(P.ListUsers, { file: path });
  if (present.length === 0) {
    void s.ctx.ui.showInformationMessage(`${path} has no users.`);
    return present;
  }
  const user =
    typeof name === 'string'
      ? name
      : await pick(
          s,
          'Remove User: user',
          present.map((u) => ({ label: u, value: u })),
        );
  if (user === undefined) return undefined;
  const { users } = await s.ctx.request(P.RemoveUser, { file: path, user });
  void s.ctx.ui.showInformationMessage(`Removed ${user} from ${path}.`);
  return users;
}

export async function listUsers(s: Services, file?: unknown): Promise<string[] | undefined> {
  const path = await usersFile(s, 'List Users', file, false);
  if (!path) return undefined;
  const { users } = await s.ctx.request(P.ListUsers, { file: path });
  void s.ctx.ui.showInformationMessage(users.length === 0 ? `${path} has no users.` : `${path}: ${users.join(', ')}`);
  return users;
}
