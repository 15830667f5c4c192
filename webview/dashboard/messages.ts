/**
 * Messages between the replication dashboard panel (extension/panels/dashboard-panel.ts) and its
 * webview (webview/dashboard/main.ts). Both sides import this file; types only, no server imports
 * (the view types mirror the protocol's and the panel passes protocol values straight through).
 */

export const DashboardMessageType = {
  // webview → extension
  ready: 'ready',
  replicatorAction: 'replicatorAction',
  openDocument: 'openDocument',
  probeResult: 'probeResult',
  // extension → webview
  snapshot: 'snapshot',
  update: 'update',
  probe: 'probe',
} as const;

export interface ReplicatorView {
  readonly id: string;
  readonly db: string;
  readonly target: string;
  readonly type: 'push' | 'pull' | 'pushAndPull';
  readonly continuous: boolean;
  readonly activity: 'stopped' | 'offline' | 'connecting' | 'idle' | 'busy';
  readonly completed: number;
  readonly total: number;
  readonly error?: { readonly message: string; readonly transient: boolean } | undefined;
  readonly nextAttemptAt?: number | undefined;
  readonly pendingDocuments?: number | undefined;
}

export interface ListenerView {
  readonly id: string;
  readonly db: string;
  readonly state: 'listening' | 'stopped';
  readonly port: number;
  readonly urls: readonly string[];
  readonly tls: boolean;
  readonly readOnly: boolean;
  readonly connectionCount: number;
  readonly activeConnectionCount: number;
  readonly clients: readonly { readonly remoteAddress: string; readonly connectedAt: number; readonly busy: boolean }[];
}

export interface LogEntryView {
  readonly time: number;
  readonly source: string;
  readonly direction: 'push' | 'pull';
  readonly collection: string;
  readonly docId: string;
  readonly revId: string;
  readonly error?: string | undefined;
  readonly skipped?: boolean | undefined;
}

// ---- webview → extension ----
export interface ReadyMessage {
  readonly type: typeof DashboardMessageType.ready;
}
export interface ReplicatorActionMessage {
  readonly type: typeof DashboardMessageType.replicatorAction;
  readonly id: string;
  readonly action: 'start' | 'stop' | 'restart';
}
export interface OpenDocumentMessage {
  readonly type: typeof DashboardMessageType.openDocument;
  /** The replicator or listener id the log entry came from (names the database). */
  readonly source: string;
  readonly collection: string;
  readonly docId: string;
}
/** What the dashboard shows, read back from its DOM (answers `probe`; used by the extension-host tests). */
export interface ProbeResultMessage {
  readonly type: typeof DashboardMessageType.probeResult;
  readonly requestId: number;
  readonly replicators: readonly { id: string; activity: string; completed: number; total: number; pending: string; rate: string }[];
  readonly listeners: readonly { id: string; state: string; connections: number }[];
  readonly logRows: number;
}
export type DashboardWebviewToExtension = ReadyMessage | ReplicatorActionMessage | OpenDocumentMessage | ProbeResultMessage;

// ---- extension → webview ----
export interface SnapshotMessage {
  readonly type: typeof DashboardMessageType.snapshot;
  readonly serverRunning: boolean;
  readonly replicators: readonly ReplicatorView[];
  readonly listeners: readonly ListenerView[];
  readonly log: readonly LogEntryView[];
}
/** Changes since the last message, coalesced by the panel (at most 10 per second). */
export interface UpdateMessage {
  readonly type: typeof DashboardMessageType.update;
  readonly serverRunning: boolean;
  readonly replicators: readonly ReplicatorView[];
  readonly removedReplicators: readonly string[];
  readonly listeners: readonly ListenerView[];
  readonly log: readonly LogEntryView[];
}
export interface ProbeMessage {
  readonly type: typeof DashboardMessageType.probe;
  readonly requestId: number;
}
export type DashboardExtensionToWebview = SnapshotMessage | UpdateMessage | ProbeMessage;
