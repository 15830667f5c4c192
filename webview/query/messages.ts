/**
 * Messages between the query results panel (extension/query/results-panel.ts) and its webview
 * (webview/query/main.ts). Both sides import this file.
 */
import type { ResultFormat } from '../../server/query/format-results';

export const QueryMessageType = {
  // webview → extension
  ready: 'ready',
  openDocument: 'openDocument',
  export: 'export',
  probeResult: 'probeResult',
  // extension → webview
  running: 'running',
  results: 'results',
  error: 'error',
  probe: 'probe',
} as const;

/** What the panel shows: the last query run, its rows or its error. */
export type QueryPanelState =
  | { readonly type: typeof QueryMessageType.running; readonly db: string; readonly query: string }
  | {
      readonly type: typeof QueryMessageType.results;
      readonly db: string;
      readonly query: string;
      readonly columns: readonly string[];
      readonly rows: readonly Record<string, unknown>[];
      readonly truncated: boolean;
      readonly elapsedMs: number;
      /** False when the query's collection is unknown: rows then cannot open documents. */
      readonly canOpen: boolean;
    }
  | { readonly type: typeof QueryMessageType.error; readonly db: string; readonly query: string; readonly message: string };

// ---- webview → extension ----
export interface ReadyMessage {
  readonly type: typeof QueryMessageType.ready;
}
export interface OpenDocumentMessage {
  readonly type: typeof QueryMessageType.openDocument;
  readonly docId: string;
}
export interface ExportMessage {
  readonly type: typeof QueryMessageType.export;
  readonly format: ResultFormat;
}
/** What the grid shows, read from its DOM (for the extension-host tests). */
export interface QueryProbeResultMessage {
  readonly type: typeof QueryMessageType.probeResult;
  readonly requestId: number;
  /** The probe's `click` found its button. */
  readonly clicked: boolean;
  readonly headers: string[];
  /** The visible page's cells, as shown. */
  readonly cells: string[][];
  readonly pageLabel: string;
  readonly status: string;
  readonly error: string;
}

// ---- extension → webview ----
export interface ProbeMessage {
  readonly type: typeof QueryMessageType.probe;
  readonly requestId: number;
  /** A button to click first (a CSS selector), as a user would: the tests drive the grid this way. */
  readonly click?: string;
}

export type QueryWebviewToExtension = ReadyMessage | OpenDocumentMessage | ExportMessage | QueryProbeResultMessage;
export type QueryExtensionToWebview = QueryPanelState | ProbeMessage;
