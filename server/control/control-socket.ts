import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { logger } from '../util/log';
import { controlSocketPath } from './control-path';
import { ControlHelloRequest, MAX_CONTROL_CLIENTS, type ControlHello } from './control-protocol';

export { controlSocketPath } from './control-path';
export { connectControlSocket, type ControlClient, type ControlConnectOptions } from './control-client';
export { ControlHelloRequest, MAX_CONTROL_CLIENTS, type ControlHello } from './control-protocol';

const log = logger('app');

/**
 * The local endpoint through which other processes of the same user (the CLI) reach the server
 * that holds a database, instead of being refused by its LOCK. Each client gets its own JSON-RPC
 * connection; the application registers its handlers on it in `onConnection`.
 *
 * Only the owner may connect. The socket file is created by bind() with the process umask, so for
 * a moment it may be connectable by others; it lives in a 0700 directory (the database directory,
 * or the private per-user fallback folder), which closes that window, and is chmod'ed to 0600 before
 * any connection is accepted, which protects it should the directory ever be opened up. The umask
 * itself is left alone: it is process-wide and other code may be creating files meanwhile.
 */
export class ControlSocketServer {
  private readonly clients = new Map<Socket, MessageConnection>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly hello: ControlHello,
    private readonly onConnection: (conn: MessageConnection) => void,
  ) {}

  /**
   * Listens on the control socket of `dbDir`. Call only while holding the database's LOCK: a socket
   * file nobody answers on is then known to be a dead process's and is replaced.
   */
  static async listen(dbDir: string, onConnection: (conn: MessageConnection) => void, hello: ControlHello): Promise<ControlSocketServer> {
    const path = controlSocketPath(dbDir);
    // Connections are turned away until the socket's mode is set and the server object exists.
    let accept = (socket: Socket): void => void socket.destroy();
    const server = await bindReplacingStale(path, (socket) => accept(socket));
    try {
      chmodSync(path, 0o600);
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw e;
    }
    const control = new ControlSocketServer(path, server, hello, onConnection);
    accept = (socket) => control.accept(socket);
    return control;
  }

  /**
   * Stops accepting, ends every client connection, and removes the socket file. Close before
   * releasing the database's LOCK, so the file removed is certainly still this server's.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const [socket, conn] of this.clients) {
        conn.dispose();
        socket.destroy();
      }
    }).then(() => removeSocketFile(this.path));
    return this.closing;
  }

  private accept(socket: Socket): void {
    if (this.closing !== undefined || this.clients.size >= MAX_CONTROL_CLIENTS) {
      log.warn('control connection refused', { socket: this.path, reason: this.closing ? 'closing' : `${MAX_CONTROL_CLIENTS} clients already connected` });
      socket.destroy();
      return;
    }
    // A client that vanishes mid-exchange is its own problem; it must not take the server down.
    socket.on('error', (e) => log.debug('control connection error', { socket: this.path, error: e.message }));
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    this.clients.set(socket, conn);
    socket.once('close', () => {
      this.clients.delete(socket);
      conn.dispose();
    });
    // Unparseable framing leaves nothing to talk about; dropping the client frees its slot.
    conn.onError(() => socket.destroy());
    conn.onRequest(ControlHelloRequest, () => this.hello);
    try {
      this.onConnection(conn);
      conn.listen();
    } catch (e) {
      log.error('control connection setup failed', { socket: this.path, error: e instanceof Error ? e.message : String(e) });
      socket.destroy();
    }
  }
}

async function bindReplacingStale(path: string, onSocket: (socket: Socket) => void): Promise<Server> {
  try {
    return await bind(path, onSocket);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  }
  if (await somebodyListens(path)) throw new Error(`another process already serves the control socket ${path}`);
  // Only a socket is replaced: any other kind of file at this path was not left by a server.
  if (!lstatSync(path).isSocket()) throw new Error(`cannot create the control socket ${path}: a file that is not a socket is in the way`);
  unlinkSync(path);
  return bind(path, onSocket);
}

function bind(path: string, onSocket: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onSocket);
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function somebodyListens(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(false);
      else reject(e);
    });
  });
}

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    // Closing the server normally removes it already.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
