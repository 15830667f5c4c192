/** Replication credentials, kept in SecretStorage keyed by target URL (never in settings). */
import type * as vscode from 'vscode';

export interface Credential {
  readonly username: string;
  readonly password: string;
}

export class Credentials {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  private key(target: string): string {
    return `peersync.credentials:${target.trim().replace(/\/+$/, '')}`;
  }

  async get(target: string): Promise<Credential | undefined> {
    const raw = await this.secrets.get(this.key(target));
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as Partial<Credential>;
      return typeof v.username === 'string' && typeof v.password === 'string' ? { username: v.username, password: v.password } : undefined;
    } catch {
      return undefined;
    }
  }

  store(target: string, credential: Credential): Thenable<void> {
    return this.secrets.store(this.key(target), JSON.stringify(credential));
  }

  delete(target: string): Thenable<void> {
    return this.secrets.delete(this.key(target));
  }
}
