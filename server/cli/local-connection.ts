import type { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { RpcConnection } from '../rpc/server-api';

type Handler = (params?: unknown) => unknown;

/**
 * The server's request handlers called in this process: the command line uses the very requests
 * the extension and a control-socket client send, so one set of handlers serves all three.
 */
export class LocalConnection implements RpcConnection {
  private readonly handlers = new Map<string, Handler>();
  private readonly subscribers = new Map<string, Set<(params: unknown) => void>>();

  onRequest<R, E>(type: RequestType0<R, E>, handler: () => R | Promise<R>): void;
  onRequest<Params, R, E>(type: RequestType<Params, R, E>, handler: (params: Params) => R | Promise<R>): void;
  onRequest(type: { method: string }, handler: Handler): void {
    this.handlers.set(type.method, handler);
  }

  sendNotification<Params>(type: NotificationType<Params>, params: Params): void {
    for (const fn of this.subscribers.get(type.method) ?? []) fn(params);
  }

  async sendRequest<R, E>(type: RequestType0<R, E>): Promise<R>;
  async sendRequest<Params, R, E>(type: RequestType<Params, R, E>, params: Params): Promise<R>;
  async sendRequest(type: { method: string }, params?: unknown): Promise<unknown> {
    const handler = this.handlers.get(type.method);
    if (!handler) throw new Error(`no handler for ${type.method}`);
    return handler(params);
  }

  onNotification<Params>(type: NotificationType<Params>, fn: (params: Params) => void): { dispose(): void } {
    let set = this.subscribers.get(type.method);
    if (!set) this.subscribers.set(type.method, (set = new Set()));
    const listener = fn as (params: unknown) => void;
    set.add(listener);
    return { dispose: () => set.delete(listener) };
  }
}
