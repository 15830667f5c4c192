import { existsSync } from 'node:fs';
import { UsersFile, userNameProblem } from '../listener/users-file';
import { AppError } from './app-error';
import { invalid, notFound } from './app-error';
import { requireAbsolute } from './paths';

/** Users files: HTTP Basic accounts a listener checks (scrypt hashes only). */
export class UserService {
  async add(file: string, user: string, password: string): Promise<void> {
    const problem = userNameProblem(user);
    if (problem) throw invalid(problem);
    if (password.length === 0) throw invalid('the password must not be empty');
    await open(file, { create: true }).add(user, password);
  }

  remove(file: string, user: string): void {
    if (!open(file).remove(user)) throw notFound(`no user ${JSON.stringify(user)} in ${file}`);
  }

  list(file: string): string[] {
    return open(file).list();
  }
}

function open(file: string, options: { create?: boolean } = {}): UsersFile {
  const path = requireAbsolute(file, 'the users file');
  if (options.create !== true && !existsSync(path)) throw notFound(`no users file at ${path}`);
  try {
    return new UsersFile(path);
  } catch (e) {
    // A file that is not a users file: the caller chose the wrong one.
    throw e instanceof AppError ? e : invalid(e instanceof Error ? e.message : String(e));
  }
}
