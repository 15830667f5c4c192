import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Database } from '../../../server/store';
import { CHILD_HANG_GUARD_MS } from '../../helpers/cli';
import { tempDir } from '../../helpers/temp-dir';

const RUNS = Number(process.env.PEERSYNC_CRASH_RUNS ?? 24);
const WRITER = join(__dirname, '..', '..', 'fixtures', 'crash-writer.ts');

/**
 * Runs the writer until it has acknowledged `killAfter` writes, then SIGKILLs it. Returns the last
 * acknowledged revision of every document.
 */
async function runAndKill(path: string, seed: number, killAfter: number, acked: Map<string, string>): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  let count = 0;
  const timeout = setTimeout(() => child.kill('SIGKILL'), CHILD_HANG_GUARD_MS);
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const [tag, id, rev] = line.split(' ');
      if (tag !== 'ACK') continue;
      acked.set(id!, rev!);
      if (++count === killAfter) child.kill('SIGKILL');
    }
  } finally {
    clearTimeout(timeout);
  }
  const how = await exited;
  assert.equal(how, 'SIGKILL', `writer should have been killed, it ended with ${String(how)}: ${stderr}`);
  assert.ok(count >= killAfter, `writer acknowledged only ${count} writes before ending (timeout?): ${stderr}`);
  return count;
}

test(`every acknowledged write survives SIGKILL at random points (${RUNS} runs)`, { timeout: 2 * CHILD_HANG_GUARD_MS }, async (t) => {
  const path = join(tempDir(t), 'db');
  const acked = new Map<string, string>();
  let seed = Number(process.env.PEERSYNC_CRASH_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (rerun with PEERSYNC_CRASH_SEED=${seed})`);
  let total = 0;
  let frozenAtOpen = 0; // kills that landed while a background snapshot was being written
  for (let run = 0; run < RUNS; run++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const killAfter = 1 + (seed % 400);
    total += await runAndKill(path, seed, killAfter, acked);
    if (existsSync(join(path, 'journal.prev'))) frozenAtOpen++;

    const db = await Database.open(path, { snapshotIntervalMs: 0 });
    try {
      assert.deepEqual(db.check(), [], `run ${run}: database is consistent`);
      const c = db.defaultCollection;
      for (const [id, rev] of acked) {
        const ancestry = c.getAncestry(id);
        assert.ok(ancestry, `run ${run}: acknowledged document ${id} is missing`);
        assert.ok(ancestry.includes(rev as never), `run ${run}: ${id} lost acknowledged revision ${rev} (has ${ancestry[0]})`);
      }
      const seqs = c.changesSince(0).map((ch) => ch.sequence);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'sequences ascend',
      );
      assert.equal(new Set(seqs).size, seqs.length, 'sequences are unique');
      assert.ok(c.lastSequence >= (seqs.at(-1) ?? 0));
    } finally {
      // Alternate between folding the journal into a snapshot and leaving it for the next opener to replay.
      db.close({ snapshot: run % 2 === 0 });
    }
  }
  t.diagnostic(`${total} acknowledged writes over ${RUNS} kills, ${acked.size} documents checked, ${frozenAtOpen} reopened with a frozen journal`);
});
