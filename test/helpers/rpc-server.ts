import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { InitializationOptions } from '../../server/rpc/protocol';
import { ROOT } from './cli';

/**
 * Starts dist/server.js as the extension does (here over stdio) and initializes it; shut down and
 * killed after the test. `beforeListen` registers handlers that must see the very first messages.
 */
export async function startRpcServer(t: TestContext, options: Partial<InitializationOptions> & { dataFolder: string }, beforeListen?: (conn: MessageConnection) => void): Promise<MessageConnection> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  beforeListen?.(conn);
  conn.listen();
  t.after(async () => {
    try {
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit').catch(() => undefined);
    } catch {
      /* already gone */
    }
    conn.dispose();
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: options });
  await conn.sendNotification('initialized', {});
  return conn;
}
