/**
 * A conflict is never resolved silently: replication with the manual resolver keeps it for a
 * person, an automatic resolution is listed with the body it discarded, and that body can be
 * brought back.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as P from '../../server/rpc/protocol';
import { cli } from '../helpers/cli';
import { startServe } from '../helpers/serve';
import { tempDir } from '../helpers/temp-dir';

function ok(args: string[]): string {
  const r = cli(args);
  assert.equal(r.status, 0, `peersync ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('manual keeps the conflict; an automatic resolution is recorded and what it discarded can be restored', async (t) => {
  const dir = tempDir(t);
  const hub = join(dir, 'hub');
  const edge = join(dir, 'edge');
  ok(['db', 'create', '--db', hub]);
  ok(['db', 'put', 'x', '{"v":"base"}', '--db', hub]);
  const server = await startServe(t, hub);
  ok(['replicate', '--db', edge, '--target', server.url, '--pull']);

  // Both sides edit the same revision; the hub's edit goes through the running server.
  ok(['db', 'put', 'x', '{"v":"hub"}', '--db', hub]);
  ok(['db', 'put', 'x', '{"v":"edge","mine":true}', '--db', edge]);
  ok(['replicate', '--db', edge, '--target', server.url, '--pull', '--resolver', 'manual']);
  assert.match(ok(['db', 'conflicts', '--db', edge]), /^x /m, 'the manual resolver left the conflict in place');
  assert.match(ok(['db', 'resolved', '--db', edge]), /no resolved conflicts/);

  // The default resolver settles it in the next run, and says what it did.
  ok(['replicate', '--db', edge, '--target', server.url, '--pull']);
  assert.match(ok(['db', 'conflicts', '--db', edge]), /no conflicts/);
  const records = ok(['db', 'resolved', '--db', edge, '--json'])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as P.ResolvedConflict);
  assert.equal(records.length, 1);
  const [r] = records;
  assert.equal(r!.resolver, 'default');
  assert.equal(r!.docId, 'x');
  assert.equal(r!.competing.length, 2);
  const lost = r!.discarded.find((d) => d.body?.mine === true);
  const kept = r!.competing.find((c) => !r!.discarded.includes(c));
  assert.ok(lost || kept, 'one side was kept and the other recorded');

  // Whatever lost comes back as a new revision on request.
  const loser = r!.discarded[0]!;
  ok(['db', 'restore', String(r!.id), loser.revId, '--db', edge]);
  const now = JSON.parse(ok(['db', 'get', 'x', '--db', edge, '--json'])) as { body: unknown };
  assert.deepEqual(now.body, loser.body);
  await server.stop();
});
