import { RequestType0 } from 'vscode-jsonrpc/node';

/** What a server holding a database says about itself, so a client knows whom it talks to. */
export interface ControlHello {
  readonly pid: number;
  /** The name the server uses for the database in this directory. */
  readonly database: string;
  readonly version: string;
}

/** Answered by every control connection before the application's own requests. */
export const ControlHelloRequest = new RequestType0<ControlHello, void>('peersync/control/hello');

/** More than this many simultaneous control clients is a runaway script, not a user: the rest are turned away. */
export const MAX_CONTROL_CLIENTS = 16;
