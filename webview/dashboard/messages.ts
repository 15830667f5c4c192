/**
 * Messages between the replication dashboard panel (extension/panels/dashboard-panel.ts) and its
 * webview (webview/dashboard/main.ts). Both sides import this file. The view types are the
 * protocol's own (type-only imports, erased by the bundler: the webview bundle holds no server code);
 * the panel passes protocol values straight through.
 */
import type { ListenerInfo, ReplicationLogEntry, ReplicatorInfo } from '../../server/rpc/protocol';

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

export type ReplicatorView = ReplicatorInfo;
export type ListenerView = ListenerInfo;
export type LogEntryView = ReplicationLogEntry;

// ---- webview → extension ----
export interface ReadyMessage {
  readonly type: typeof DashboardMessageType.ready;
}
export interface ReplicatorActionMessage {
  readonly type: typeof DashboardMessageType.replicatorAction;
  readonly id: string;
  readonly action: 'start' | 'stop' | 'restart' | 'edit';
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
