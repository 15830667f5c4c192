import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IdentityService } from '../app/identities';
import { UserService } from '../app/users';
import { userNameProblem } from '../listener/users-file';
import type * as P from '../rpc/protocol';
import { UsageError, type CommandContext, type CommandSpec } from './command';
import { dbPathFrom } from './open-db';
import { readPassword } from './secrets';

const identities = new IdentityService();
const users = new UserService();

function arg(ctx: CommandContext, i: number, what: string, usage: string): string {
  const v = ctx.positionals[i];
  if (v === undefined) throw new UsageError(`missing ${what} (usage: peersync ${usage})`);
  return v;
}

function describeIdentity(id: P.CertificateInfo & { label: string }): Record<string, unknown> {
  return { label: id.label, commonName: id.subject.commonName, notAfter: id.notAfter, fingerprintSha256: id.fingerprintSha256, selfSigned: id.selfSigned };
}

const usersFileOption = { file: { type: 'string' as const, short: 'f', description: 'the users file (JSON with scrypt hashes)', valueName: 'FILE' } };

function usersFile(ctx: CommandContext): string {
  if (typeof ctx.values.file !== 'string') throw new UsageError('--file FILE is required');
  return resolve(ctx.values.file);
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
      const identity = await identities.create(dbPathFrom(ctx.values), {
        label,
        isServer: ctx.values.client !== true,
        commonName: ctx.values.cn as string | undefined,
        organization: ctx.values.org as string | undefined,
        validityDays: days,
        replace: true,
      });
      ctx.out.result(describeIdentity(identity), () => `created identity ${identity.label} (CN ${identity.subject.commonName}, SHA-256 ${identity.fingerprintSha256})`);
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
      const identity = await identities.importPkcs12(dbPathFrom(ctx.values), readFileSync(file), password, label);
      ctx.out.result(describeIdentity(identity), () => `imported ${identity.label} (CN ${identity.subject.commonName}, SHA-256 ${identity.fingerprintSha256})`);
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
      const dbPath = dbPathFrom(ctx.values);
      if (ctx.values.p12) {
        await identities.require(dbPath, label); // before asking for a password
        writeFileSync(out, await identities.export(dbPath, label, { pkcs12Password: await readPassword(ctx.values['password-env'], 'PKCS#12 password') }), { mode: 0o600 });
      } else writeFileSync(out, await identities.export(dbPath, label, ctx.values.der ? 'der' : 'pem'));
      ctx.out.result({ label, file: out }, () => `wrote ${out}`);
    },
  },
  {
    name: 'identity ls',
    summary: 'List the identities in the database keystore.',
    async run(ctx) {
      const list = await identities.list(dbPathFrom(ctx.values));
      if (ctx.out.json) ctx.out.result(list);
      else
        ctx.out.line(
          list.length === 0
            ? '(no identities)'
            : list.map((e) => `${e.label}  CN=${e.commonName}  expires ${e.notAfter.slice(0, 10)}  ${e.fingerprintSha256}${e.encrypted ? '  (key encrypted)' : ''}`).join('\n'),
        );
    },
  },
  {
    name: 'identity rm',
    summary: 'Delete an identity from the database keystore.',
    args: 'LABEL',
    async run(ctx) {
      const label = arg(ctx, 0, 'label', 'identity rm LABEL');
      await identities.remove(dbPathFrom(ctx.values), label);
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
      // Checked before the password prompt, as a bad argument.
      const problem = userNameProblem(user);
      if (problem) throw new UsageError(problem);
      const file = usersFile(ctx);
      await users.add(file, user, await readPassword(ctx.values['password-env'], `password for ${user}`));
      ctx.out.result({ user, file }, () => `added ${user} to ${file}`);
    },
  },
  {
    name: 'users rm',
    summary: 'Remove a user from a users file.',
    args: 'USER',
    options: usersFileOption,
    async run(ctx) {
      const user = arg(ctx, 0, 'user name', 'users rm USER --file FILE');
      users.remove(usersFile(ctx), user);
      ctx.out.result({ user, removed: true }, () => `removed ${user}`);
    },
  },
  {
    name: 'users ls',
    summary: 'List the users in a users file.',
    options: usersFileOption,
    async run(ctx) {
      const list = users.list(usersFile(ctx));
      if (ctx.out.json) ctx.out.result(list);
      else ctx.out.line(list.length === 0 ? '(no users)' : list.join('\n'));
    },
  },
];
