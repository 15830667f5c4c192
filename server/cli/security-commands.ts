import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsersFile, userNameProblem } from '../listener/users-file';
import { FileKeystore, createIdentity, exportCertificateDer, exportCertificatePem, exportIdentityPkcs12, importIdentity, type TLSIdentity } from '../tls';
import { StoreError } from '../store';
import { UsageError, type CommandContext, type CommandSpec } from './command';
import { dbPathFrom } from './open-db';
import { readPassword } from './secrets';

/** The keystore of a database directory (identities for its listener and its replicators). */
export function keystoreFor(values: Record<string, unknown>): FileKeystore {
  return new FileKeystore(join(dbPathFrom(values), 'keystore'));
}

export async function requireIdentity(values: Record<string, unknown>, label: string): Promise<TLSIdentity> {
  const id = await keystoreFor(values).get(label);
  if (!id) throw new StoreError('NOT_FOUND', `no identity labelled ${JSON.stringify(label)} in ${join(dbPathFrom(values), 'keystore')} (see peersync identity ls)`);
  return id;
}

function arg(ctx: CommandContext, i: number, what: string, usage: string): string {
  const v = ctx.positionals[i];
  if (v === undefined) throw new UsageError(`missing ${what} (usage: peersync ${usage})`);
  return v;
}

function describeIdentity(id: TLSIdentity): Record<string, unknown> {
  return { label: id.label, commonName: id.subject.commonName, notAfter: id.notAfter.toISOString(), fingerprintSha256: id.fingerprintSha256, selfSigned: id.isSelfSigned };
}

const usersFileOption = { file: { type: 'string' as const, short: 'f', description: 'the users file (JSON with scrypt hashes)', valueName: 'FILE' } };

function usersFile(ctx: CommandContext): UsersFile {
  if (typeof ctx.values.file !== 'string') throw new UsageError('--file FILE is required');
  return new UsersFile(ctx.values.file);
}

export const securityCommands: CommandSpec[] = [
  {
    name: 'identity create',
    summary: 'Create a TLS identity (RSA-2048 key + self-signed certificate) in the database keystore.',
    args: 'LABEL',
    options: {
      cn: { type: 'string', description: 'certificate common name (default: the label)', valueName: 'NAME' },
      org: { type: 'string', description: 'organization', valueName: 'ORG' },
      client: { type: 'boolean', description: 'a client identity (for client-certificate authentication); default is a server identity' },
      days: { type: 'string', description: 'validity in days (default 365)', valueName: 'N' },
    },
    async run(ctx) {
      const label = arg(ctx, 0, 'label', 'identity create LABEL');
      const days = Number(ctx.values.days ?? 365);
      if (!Number.isFinite(days) || days <= 0) throw new UsageError('--days must be a positive number');
      const identity = await createIdentity({
        isServer: ctx.values.client !== true,
        label,
        attributes: { commonName: (ctx.values.cn as string | undefined) ?? label, ...(typeof ctx.values.org === 'string' ? { organization: ctx.values.org } : {}) },
        expiration: new Date(Date.now() + days * 86_400_000),
      });
      await keystoreFor(ctx.values).save(identity);
      ctx.out.result(describeIdentity(identity), () => `created identity ${label} (CN ${identity.subject.commonName}, SHA-256 ${identity.fingerprintSha256})`);
    },
  },
  {
    name: 'identity import',
    summary: 'Import a PKCS#12 file (key + certificate chain) into the database keystore.',
    args: 'FILE LABEL',
    options: { 'password-env': { type: 'string', description: 'environment variable holding the PKCS#12 password (else prompted)', valueName: 'VAR' } },
    async run(ctx) {
      const file = arg(ctx, 0, 'PKCS#12 file', 'identity import FILE LABEL');
      const label = arg(ctx, 1, 'label', 'identity import FILE LABEL');
      const password = await readPassword(ctx.values['password-env'], 'PKCS#12 password');
      const identity = importIdentity(readFileSync(file), password, label);
      await keystoreFor(ctx.values).save(identity);
      ctx.out.result(describeIdentity(identity), () => `imported ${label} (CN ${identity.subject.commonName}, SHA-256 ${identity.fingerprintSha256})`);
    },
  },
  {
    name: 'identity export',
    summary: "Write an identity's certificate (PEM, or DER with --der: e.g. to pin it) or the whole identity as PKCS#12 (--p12).",
    args: 'LABEL OUTFILE',
    options: {
      der: { type: 'boolean', description: 'DER instead of PEM' },
      p12: { type: 'boolean', description: 'PKCS#12 with the private key (asks for a password)' },
      'password-env': { type: 'string', description: 'environment variable holding the PKCS#12 password (with --p12)', valueName: 'VAR' },
    },
    async run(ctx) {
      const label = arg(ctx, 0, 'label', 'identity export LABEL OUTFILE');
      const out = arg(ctx, 1, 'output file', 'identity export LABEL OUTFILE');
      const identity = await requireIdentity(ctx.values, label);
      if (ctx.values.p12) writeFileSync(out, exportIdentityPkcs12(identity, await readPassword(ctx.values['password-env'], 'PKCS#12 password')), { mode: 0o600 });
      else writeFileSync(out, ctx.values.der ? exportCertificateDer(identity) : exportCertificatePem(identity));
      ctx.out.result({ label, file: out }, () => `wrote ${out}`);
    },
  },
  {
    name: 'identity ls',
    summary: 'List the identities in the database keystore.',
    async run(ctx) {
      const list = await keystoreFor(ctx.values).list();
      if (ctx.out.json) ctx.out.result(list);
      else ctx.out.line(list.length === 0 ? '(no identities)' : list.map((e) => `${e.label}  CN=${e.commonName}  expires ${e.notAfter.toISOString().slice(0, 10)}  ${e.fingerprintSha256}${e.encrypted ? '  (key encrypted)' : ''}`).join('\n'));
    },
  },
  {
    name: 'identity rm',
    summary: 'Delete an identity from the database keystore.',
    args: 'LABEL',
    async run(ctx) {
      const label = arg(ctx, 0, 'label', 'identity rm LABEL');
      if (!(await keystoreFor(ctx.values).delete(label))) throw new StoreError('NOT_FOUND', `no identity labelled ${JSON.stringify(label)}`);
      ctx.out.result({ label, deleted: true }, () => `deleted ${label}`);
    },
  },
  {
    name: 'users add',
    summary: 'Add (or change the password of) a user in a users file; the file stores only scrypt hashes.',
    args: 'USER',
    options: { ...usersFileOption, 'password-env': { type: 'string', description: 'environment variable holding the password (else prompted)', valueName: 'VAR' } },
    async run(ctx) {
      const user = arg(ctx, 0, 'user name', 'users add USER --file FILE');
      const problem = userNameProblem(user);
      if (problem) throw new UsageError(problem);
      const file = usersFile(ctx);
      await file.add(user, await readPassword(ctx.values['password-env'], `password for ${user}`));
      ctx.out.result({ user, file: file.path }, () => `added ${user} to ${file.path}`);
    },
  },
  {
    name: 'users rm',
    summary: 'Remove a user from a users file.',
    args: 'USER',
    options: usersFileOption,
    async run(ctx) {
      const user = arg(ctx, 0, 'user name', 'users rm USER --file FILE');
      if (!usersFile(ctx).remove(user)) throw new StoreError('NOT_FOUND', `no user ${JSON.stringify(user)}`);
      ctx.out.result({ user, removed: true }, () => `removed ${user}`);
    },
  },
  {
    name: 'users ls',
    summary: 'List the users in a users file.',
    options: usersFileOption,
    async run(ctx) {
      const users = usersFile(ctx).list();
      if (ctx.out.json) ctx.out.result(users);
      else ctx.out.line(users.length === 0 ? '(no users)' : users.join('\n'));
    },
  },
];
