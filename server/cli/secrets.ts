import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from './command';

/**
 * A password from the environment variable named by `--password-env`, or typed at a prompt (not
 * echoed) when stdin is a terminal. Never from a plain command-line argument: those end up in
 * shell history and `ps`.
 */
export async function readPassword(envVar: unknown, what: string): Promise<string> {
  if (typeof envVar === 'string') {
    const v = process.env[envVar];
    if (v === undefined) throw new UsageError(`environment variable ${envVar} (from --password-env) is not set`);
    return v;
  }
  if (!process.stdin.isTTY) throw new UsageError(`${what}: give --password-env VAR (no terminal to prompt on)`);
  return promptHidden(`${what}: `);
}

function promptHidden(question: string): Promise<string> {
  let muted = false;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
