import { builtInResolvers, type BuiltInResolverName } from '../store';
import { Replicator } from '../replication/replicator';
import type { ReplicatorStatus } from '../replication/replicator-types';
import { UsageError, type CommandSpec } from './command';
import { withDb } from './open-db';
import { readFileSync } from 'node:fs';
import { BasicAuthenticator, ClientCertificateAuthenticator, ReplicatorError } from '../replication/replicator-types';
import { splitPemCertificates } from '../tls';
import { readPassword } from './secrets';
import { requireIdentity } from './security-commands';
import { ProgressBar } from './progress';
import { hasUrlCredentials } from '../replication/target-url';

/** Failed documents listed at the end of a run (the rest are counted). */
const FAILURES_LISTED = 50;

export const replicateCommand: CommandSpec = {
  name: 'replicate',
  summary: 'Replicate a database with a peer (active peer): one-shot by default, or --continuous.',
  options: {
    target: { type: 'string', short: 't', description: 'the peer: ws://host:port/db (or wss://)', valueName: 'URL' },
    push: { type: 'boolean', description: 'push only' },
    pull: { type: 'boolean', description: 'pull only' },
    continuous: { type: 'boolean', description: 'keep replicating until interrupted' },
    collection: { type: 'string', short: 'c', multiple: true, description: 'collection to replicate (repeatable; default _default)', valueName: 'NAME' },
    'doc-id': { type: 'string', multiple: true, description: 'only these documents (repeatable)', valueName: 'ID' },
    resolver: { type: 'string', description: `conflict resolver: ${Object.keys(builtInResolvers).join(', ')} (default: default)`, valueName: 'NAME' },
    heartbeat: { type: 'string', description: 'WebSocket ping interval in seconds (default 300)', valueName: 'S' },
    'max-attempts': { type: 'string', description: 'connection attempts before giving up (default 10 one-shot, unlimited continuous)', valueName: 'N' },
    pin: { type: 'string', description: "wss: the listener's certificate must be exactly this one (PEM or DER file)", valueName: 'FILE' },
    'self-signed-only': { type: 'boolean', description: 'wss: accept only a self-signed listener certificate (e.g. an anonymous one)' },
    ca: { type: 'string', description: 'wss: also trust these root certificates (PEM file) besides the system CAs', valueName: 'FILE' },
    user: { type: 'string', short: 'u', description: 'HTTP Basic user name', valueName: 'USER' },
    'password-env': { type: 'string', description: 'environment variable holding the password (else prompted)', valueName: 'VAR' },
    'client-identity': { type: 'string', description: 'wss: present this client certificate (a label in the database keystore)', valueName: 'LABEL' },
  },
  async run(ctx) {
    const v = ctx.values;
    if (typeof v.target !== 'string') throw new UsageError('--target URL is required (e.g. ws://127.0.0.1:4984/inventory)');
    // Checked before anything else, so the credentials are neither sent nor printed.
    if (targetHasCredentials(v.target)) throw new UsageError('--target must not contain a user name or password (user:password@host); use --user USER with --password-env VAR, or answer the prompt');
    if (v.push && v.pull) throw new UsageError('choose --push or --pull, or neither for both directions');
    const resolverName = (v.resolver as string | undefined) ?? 'default';
    const resolver = builtInResolvers[resolverName as BuiltInResolverName];
    if (!resolver) throw new UsageError(`unknown resolver ${JSON.stringify(resolverName)}`);
    const num = (name: string): number | undefined => {
      if (v[name] === undefined) return undefined;
      const n = Number(v[name]);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
      return n;
    };
    const heartbeat = num('heartbeat');
    const maxAttempts = num('max-attempts');
    const authenticator =
      typeof v.user === 'string'
        ? new BasicAuthenticator(v.user, await readPassword(v['password-env'], `password for ${v.user}`))
        : typeof v['client-identity'] === 'string'
          ? new ClientCertificateAuthenticator(await requireIdentity(v, v['client-identity']))
          : undefined;
    return withDb(v, async (db) => {
      const replicator = new Replicator({
        ...(authenticator ? { authenticator } : {}),
        ...(typeof v.pin === 'string' ? { pinnedServerCertificate: readCertificateFile(v.pin) } : {}),
        ...(v['self-signed-only'] ? { acceptOnlySelfSignedServerCertificate: true } : {}),
        ...(typeof v.ca === 'string' ? { trustedRootCertificates: splitPemCertificates(readFileSync(v.ca, 'utf8')) } : {}),
        database: db,
        target: v.target as string,
        type: v.push ? 'push' : v.pull ? 'pull' : 'pushAndPull',
        continuous: v.continuous === true,
        ...(v.collection ? { collections: v.collection as string[] } : {}),
        ...(v['doc-id'] ? { documentIDs: v['doc-id'] as string[] } : {}),
        conflictResolver: resolver,
        ...(heartbeat !== undefined ? { heartbeat } : {}),
        ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      });
      for (const w of replicator.warnings) process.stderr.write(`peersync: warning: ${w}\n`);
      const bar = new ProgressBar('replicating', ctx.out.isTty && process.stderr.isTTY === true);
      let lastActivity = '';
      replicator.on('change', (s: ReplicatorStatus) => {
        if (ctx.out.json) {
          if (s.activity !== lastActivity || s.progress.completed === s.progress.total) ctx.out.result(statusJson(s));
        } else {
          bar.update(s.progress.completed, s.progress.total);
          if (s.activity !== lastActivity && !bar.enabled) process.stderr.write(`peersync: ${describe(s)}\n`);
        }
        lastActivity = s.activity;
      });
      replicator.on('documentEnded', (e) => {
        if (e.error && !ctx.out.json) process.stderr.write(`peersync: ${e.direction} ${e.docId}: ${e.error.message}\n`);
        if (e.error && ctx.out.json) ctx.out.result({ event: 'documentError', ...e });
      });
      const onSignal = (): void => void replicator.stop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const started = performance.now();
      replicator.start();
      const final = await replicator.whenStopped();
      const elapsedMs = Math.round(performance.now() - started);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      bar.done();
      if (final.error) throw final.error;
      const failed = replicator.failedDocuments();
      const replicated = final.progress.completed - failed.length;
      if (!ctx.out.json) {
        ctx.out.line(`replicated ${replicated}/${final.progress.total} documents with ${replicator.target} in ${(elapsedMs / 1000).toFixed(2)} s${failed.length > 0 ? `; ${failed.length} failed:` : ''}`);
        for (const f of failed.slice(0, FAILURES_LISTED)) ctx.out.line(`  ${f.direction} ${f.collection === '_default._default' ? '' : `${f.collection} `}${f.docId}: ${f.error?.message ?? 'failed'}`);
        if (failed.length > FAILURES_LISTED) ctx.out.line(`  … and ${failed.length - FAILURES_LISTED} more`);
      } else {
        ctx.out.result({ ...statusJson(final), event: 'done', elapsedMs, failedDocuments: failed.map((f) => ({ direction: f.direction, collection: f.collection, docId: f.docId, revId: f.revId, error: f.error })) });
      }
      if (failed.length > 0) throw new ReplicatorError(`${failed.length} document${failed.length === 1 ? '' : 's'} did not replicate; the next run retries ${failed.length === 1 ? 'it' : 'them'}`, false);
      return 0;
    }, { create: true }); // like a new app's first sync: the local database is created if missing
  },
};

function statusJson(s: ReplicatorStatus): Record<string, unknown> {
  return {
    event: 'status',
    activity: s.activity,
    completed: s.progress.completed,
    total: s.progress.total,
    failed: s.failed,
    ...(s.error ? { error: s.error.message, transient: s.error.transient } : {}),
    ...(s.nextAttemptAt ? { nextAttemptAt: new Date(s.nextAttemptAt).toISOString() } : {}),
  };
}

function describe(s: ReplicatorStatus): string {
  if (s.activity === 'offline' && s.nextAttemptAt) return `offline (${s.error?.message ?? 'unreachable'}); retrying in ${Math.max(0, Math.round((s.nextAttemptAt - Date.now()) / 1000))} s`;
  return `${s.activity}${s.error ? `: ${s.error.message}` : ''}`;
}

function targetHasCredentials(target: string): boolean {
  try {
    return hasUrlCredentials(new URL(target));
  } catch {
    // Not a URL at all: the replicator refuses it, without repeating anything before an "@".
    return false;
  }
}

/** A certificate file as PEM text or DER bytes, whichever it holds. */
function readCertificateFile(path: string): string | Buffer {
  const bytes = readFileSync(path);
  const head = bytes.subarray(0, 64).toString('latin1');
  return head.includes('-----BEGIN') ? bytes.toString('utf8') : bytes;
}
