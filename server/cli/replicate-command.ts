import { resolve } from 'node:path';
import * as P from '../rpc/protocol';
import { builtInResolvers } from '../store';
import { ReplicatorError } from '../replication/replicator-types';
import { hasUrlCredentials } from '../replication/target-url';
import { withAppClient, type AppClient } from './app-client';
import { UsageError, type CommandContext, type CommandSpec } from './command';
import { plural } from './plural';
import { ProgressBar } from './progress';
import { readPassword } from './secrets';

/** Failed documents listed at the end of a run (the rest are counted). */
const FAILURES_LISTED = 50;

export const replicateCommand: CommandSpec = {
  name: 'replicate',
  summary: 'Replicate a database with a peer (active peer): one-shot by default, or --continuous.',
  details: 'While a PeerSync server holds the database, the replication runs inside that server and this command follows it.',
  options: {
    target: { type: 'string', short: 't', description: 'the peer: ws://host:port/db (or wss://)', valueName: 'URL' },
    push: { type: 'boolean', description: 'push only' },
    pull: { type: 'boolean', description: 'pull only' },
    continuous: { type: 'boolean', description: 'keep replicating until interrupted' },
    collection: { type: 'string', short: 'c', multiple: true, description: 'collection to replicate (repeatable; default _default)', valueName: 'NAME' },
    'doc-id': { type: 'string', multiple: true, description: 'only these documents (repeatable)', valueName: 'ID' },
    'filter-field': { type: 'string', description: 'only documents whose FIELD (a dotted path) holds one of the --filter-value values, like channels (both directions)', valueName: 'FIELD' },
    'filter-value': { type: 'string', multiple: true, description: 'a value of --filter-field to replicate (repeatable)', valueName: 'VALUE' },
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
    if (typeof v.user === 'string' && typeof v['client-identity'] === 'string') throw new UsageError('choose one way to sign in: --user or --client-identity');
    if ((v['filter-field'] === undefined) !== (v['filter-value'] === undefined)) throw new UsageError('--filter-field and --filter-value go together');
    const resolverName = (v.resolver as string | undefined) ?? 'default';
    if (!(resolverName in builtInResolvers)) throw new UsageError(`unknown resolver ${JSON.stringify(resolverName)} (one of ${Object.keys(builtInResolvers).join(', ')})`);
    const num = (name: string): number | undefined => {
      if (v[name] === undefined) return undefined;
      const n = Number(v[name]);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
      return n;
    };
    const heartbeat = num('heartbeat');
    const maxAttempts = num('max-attempts');
    const password = typeof v.user === 'string' ? await readPassword(v['password-env'], `password for ${v.user}`) : undefined;
    return withAppClient(
      v,
      async (c) => {
        const params: P.StartReplicationParams = {
          db: c.db,
          target: v.target as string,
          type: v.push ? 'push' : v.pull ? 'pull' : 'pushAndPull',
          continuous: v.continuous === true,
          resolver: resolverName as P.BuiltInResolverName,
          persist: false,
          ...(v.collection ? { collections: v.collection as string[] } : {}),
          ...(v['doc-id'] ? { documentIds: v['doc-id'] as string[] } : {}),
          ...(typeof v['filter-field'] === 'string' ? { filterField: v['filter-field'], filterValues: (v['filter-value'] as string[] | undefined) ?? [] } : {}),
          ...(typeof v.user === 'string' ? { username: v.user, password: password ?? '' } : {}),
          ...(typeof v['client-identity'] === 'string' ? { clientIdentityLabel: v['client-identity'] } : {}),
          ...(typeof v.pin === 'string' ? { pinnedServerCertificateFile: resolve(v.pin) } : {}),
          ...(v['self-signed-only'] ? { acceptOnlySelfSignedServerCertificate: true } : {}),
          ...(typeof v.ca === 'string' ? { trustedRootCertificatesFile: resolve(v.ca) } : {}),
          ...(heartbeat !== undefined ? { heartbeat } : {}),
          ...(maxAttempts !== undefined ? { maxAttempts } : {}),
        };
        return follow(c, ctx, params);
      },
      { create: true }, // like a new app's first sync: the local database is created if missing
    );
  },
};

/** Starts the replication, shows its progress until it stops, reports what failed and removes it. */
async function follow(c: AppClient, ctx: CommandContext, params: P.StartReplicationParams): Promise<number> {
  const bar = new ProgressBar('replicating', ctx.out.isTty && process.stderr.isTTY === true);
  let id: string | undefined;
  let lastActivity = '';
  let settle: (info: P.ReplicatorInfo) => void = () => undefined;
  const stopped = new Promise<P.ReplicatorInfo>((r) => (settle = r));
  const onStatus = (s: P.ReplicatorInfo): void => {
    if (s.id !== id) return;
    if (ctx.out.json) {
      if (s.activity !== lastActivity || s.completed === s.total) ctx.out.result(statusJson(s));
    } else {
      bar.update(s.completed, s.total);
      // The end (a summary, or the error) is printed once, after the run.
      if (s.activity !== lastActivity && s.activity !== 'stopped' && !bar.enabled) process.stderr.write(`peersync: ${describe(s)}\n`);
    }
    lastActivity = s.activity;
    if (s.activity === 'stopped') settle(s);
  };
  const subscriptions = [
    c.onNotification(P.ReplicatorStatusChanged, onStatus),
    c.onNotification(P.ReplicationLog, ({ entries }) => {
      for (const e of entries) {
        if (e.source !== id || e.error === undefined) continue;
        if (ctx.out.json) ctx.out.result({ event: 'documentError', ...e });
        else process.stderr.write(`peersync: ${e.direction} ${e.docId}: ${e.error}\n`);
      }
    }),
  ];
  const onSignal = (): void => {
    if (id !== undefined) void c.sendRequest(P.StopReplication, { id }).catch(() => undefined);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = performance.now();
  try {
    const first = await c.sendRequest(P.StartReplication, params);
    id = first.id;
    for (const w of first.warnings ?? []) process.stderr.write(`peersync: warning: ${w}\n`);
    // It may have stopped before its first notification reached us.
    const current = await c.sendRequest(P.GetReplication, { id });
    if (current.activity === 'stopped') settle(current);
    await stopped;
    const final = await c.sendRequest(P.GetReplication, { id });
    const elapsedMs = Math.round(performance.now() - started);
    bar.done();
    if (final.error) throw new ReplicatorError(final.error.message, final.error.transient);
    const failed = await c.sendRequest(P.ListFailedDocuments, { id });
    const replicated = final.completed - failed.total;
    if (!ctx.out.json) {
      ctx.out.line(`replicated ${replicated}/${plural(final.total, 'document')} with ${final.target} in ${(elapsedMs / 1000).toFixed(2)} s${failed.total > 0 ? `; ${failed.total} failed:` : ''}`);
      for (const f of failed.documents.slice(0, FAILURES_LISTED)) ctx.out.line(`  ${f.direction} ${f.collection === '_default._default' ? '' : `${f.collection} `}${f.docId}: ${f.message}`);
      if (failed.total > FAILURES_LISTED) ctx.out.line(`  … and ${failed.total - FAILURES_LISTED} more`);
    } else {
      ctx.out.result({
        ...statusJson(final),
        event: 'done',
        elapsedMs,
        failedDocuments: failed.documents.map((f) => ({ direction: f.direction, collection: f.collection, docId: f.docId, revId: f.revId, error: { message: f.message } })),
      });
    }
    if (failed.total > 0) throw new ReplicatorError(`${plural(failed.total, 'document')} did not replicate; the next run retries ${failed.total === 1 ? 'it' : 'them'}`, false);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const s of subscriptions) s.dispose();
    bar.done();
    if (id !== undefined) await c.sendRequest(P.RemoveReplication, { id }).catch(() => undefined);
  }
}

function statusJson(s: P.ReplicatorInfo): Record<string, unknown> {
  return {
    event: 'status',
    activity: s.activity,
    completed: s.completed,
    total: s.total,
    failed: s.failed,
    ...(s.error ? { error: s.error.message, transient: s.error.transient } : {}),
    ...(s.nextAttemptAt ? { nextAttemptAt: new Date(s.nextAttemptAt).toISOString() } : {}),
  };
}

function describe(s: P.ReplicatorInfo): string {
  if (s.activity === 'offline' && s.nextAttemptAt) return `offline (${s.error?.message ?? 'unreachable'}); retrying in ${Math.max(0, Math.round((s.nextAttemptAt - Date.now()) / 1000))} s`;
  return `${s.activity}${s.error ? `: ${s.error.message}` : ''}`;
}

function targetHasCredentials(target: string): boolean {
  try {
    return hasUrlCredentials(new URL(target));
  } catch {
    // Not a URL at all: the application refuses it, without repeating anything before an "@".
    return false;
  }
}
