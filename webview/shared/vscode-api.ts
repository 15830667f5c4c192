/**
 * The webview side of the message channel: a typed wrapper over acquireVsCodeApi(), which may be
 * called only once per webview.
 */

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface Messenger<ToExtension, FromExtension, State> {
  post(message: ToExtension): void;
  onMessage(handler: (message: FromExtension) => void): void;
  getState(): State | undefined;
  setState(state: State): void;
}

let api: VsCodeApi | undefined;

export function messenger<ToExtension, FromExtension, State>(): Messenger<ToExtension, FromExtension, State> {
  api ??= acquireVsCodeApi();
  const vscode = api;
  return {
    post: (message) => vscode.postMessage(message),
    onMessage: (handler) => window.addEventListener('message', (ev: MessageEvent<FromExtension>) => handler(ev.data)),
    getState: () => vscode.getState() as State | undefined,
    setState: (state) => vscode.setState(state),
  };
}
