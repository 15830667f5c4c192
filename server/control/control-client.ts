import { lstatSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createMessageConnection, ErrorCodes, ResponseError, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { controlSocketPath } from './control-path';
import { ControlHelloRequest, type ControlHello } from './control-protocol';

/** Errors vscode-jsonrpc reports for a request that never got an answer. */
const LOCAL_FAILURES: ReadonlySet<number> = new Set([ErrorCodes.MessageWriteError, ErrorCodes.MessageReadError, ErrorCodes.PendingResponseRejected, ErrorCodes.ConnectionInactive]);

export interface ControlConnectOptions {
  /** Bound on connecting and the hello exchange together; 5 s by default. */
  readonly timeoutMs?: number;
}

/** A connection to the server holding a database, after it said who it is. */
export interface ControlClient {
  readonly conn: MessageConnection;
  readonly hello: ControlHello;
  /** Ends the connection; pending requests are rejected. */
  close(): void;
}

/**
 * Connects to the server holding `dbDir`, if there is one. Undefined means no server listens (no
 * socket file, or one left by a dead process): the caller may then open the database itself. A
 * server that accepts but does not answer in time is an error, never a silent undefined, because
 * the database is then held by a process that cannot be reached.
 */
export async function connectControlSocket(dbDir: string, options: ControlConnectOptions = {}): Promise<ControlClient | undefined> {
  const path = controlSocketPath(dbDir);
  if (!trustedSocket(path)) return undefined;
  const timeoutMs = options.timeoutMs ?? 5000;
  const socket = connect(path);
  let conn: MessageConnection | undefined;
  const close = (): void => {
    conn?.dispose();
    socket.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the PeerSync server's control socket ${path} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    if (!(await Promise.race([connected(socket, path), deadline]))) {
      close();
      return undefined;
    }
    const c = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    conn = c;
    // A server at its client limit accepts and drops at once: the hello then fails to be written,
    // or the connection closes, whichever is noticed first.
    const refused = (reason: string): Error => new Error(`the PeerSync server at ${path} ended the control connection before saying hello (it may have too many clients): ${reason}`);
    const closed = new Promise<never>((_, reject) => {
      c.onClose(() => reject(refused('connection closed')));
    });
    c.listen();
    const hello = c.sendRequest(ControlHelloRequest).catch((e: unknown) => {
      // Failing to write or read is the transport's doing; any other error is an answer, from
      // something that speaks JSON-RPC but not this protocol.
      if (e instanceof ResponseError && !LOCAL_FAILURES.has(e.code)) throw new Error(`the process at ${path} is not a PeerSync control server: ${e.message}`, { cause: e });
      throw refused(e instanceof Error ? e.message : String(e));
    });
    // Whichever loses the race settles later with nobody listening.
    closed.catch(() => {});
    hello.catch(() => {});
    const answer: unknown = await Promise.race([hello, closed, deadline]);
    if (!isHello(answer)) throw new Error(`the process at ${path} is not a PeerSync control server: its hello was ${JSON.stringify(answer)}`);
    return { conn: c, hello: answer, close };
  } catch (e) {
    close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * False when there is no socket file. A socket owned by someone else is refused outright: whoever
 * put it there would receive our requests, document bodies included.
 */
function trustedSocket(path: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  if (!st.isSocket() || st.uid !== process.getuid!()) {
    throw new Error(`refusing control socket ${path}: it is not a socket owned by uid ${process.getuid!()}`);
  }
  return true;
}

/** True once connected; false when nobody listens there (any more). */
function connected(socket: Socket, path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot connect to the control socket ${path}: ${e.message}`, { cause: e }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(true);
    });
  });
}

/** The socket is ours, but any of our processes could be listening on it. */
function isHello(value: unknown): value is ControlHello {
  if (typeof value !== 'object' || value === null) return false;
  const { pid, database, version } = value as Record<string, unknown>;
  return Number.isInteger(pid) && typeof database === 'string' && typeof version === 'string';
}
