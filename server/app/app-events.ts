import { TypedEmitter } from '../util/typed-emitter';
import type * as P from '../rpc/protocol';

/**
 * What the application layer announces, whichever front end (or peer) caused it. The RPC server
 * forwards these as notifications; the CLI's serve command prints some of them.
 */
export type AppEvents = {
  serverEvent: [P.ServerEventParams];
  documentsChanged: [{ db: string; collection: string; docIds: readonly string[] }];
  listenerStatus: [P.ListenerInfo];
  replicationStatus: [P.ReplicatorInfo];
  replicationLog: [P.ReplicationLogEntry];
};

/** The application's events: services publish, front ends subscribe. */
export class AppEventBus extends TypedEmitter<AppEvents> {
  publish<K extends keyof AppEvents>(event: K, ...args: AppEvents[K]): void {
    this.emit(event, ...args);
  }
}
