/**
 * Messages between the conflict editor panel (extension/panels/conflict-panel.ts) and its webview
 * (webview/conflict/main.ts). Both sides import this file; it holds types only (the protocol's
 * are imported type-only, erased by the bundler: no server code reaches the webview).
 */
import type { DocumentRef, RevisionNode } from '../../server/rpc/protocol';

export const ConflictMessageType = {
  // webview → extension
  ready: 'ready',
  keepRevision: 'keepRevision',
  saveMerged: 'saveMerged',
  deleteDocument: 'deleteDocument',
  // extension → webview
  load: 'load',
  busy: 'busy',
  error: 'error',
} as const;

export type DocumentRefView = DocumentRef;
export type RevisionView = Omit<RevisionNode, 'sequence'>;

/** A leaf revision shown side by side. `role` says which side GetConflict called it. */
export interface LeafView {
  readonly revId: string;
  readonly deleted: boolean;
  readonly body: Record<string, unknown> | null;
  readonly role: 'local' | 'remote' | 'other';
  readonly winner: boolean;
}

export interface ConflictView {
  readonly ref: DocumentRefView;
  /** false once the conflict is resolved (the tree is still shown). */
  readonly conflicted: boolean;
  readonly currentRevId: string | null;
  readonly tree: readonly RevisionView[];
  readonly leaves: readonly LeafView[];
}

/** What the webview keeps across reloads (and what the panel serializer revives from). */
export interface ConflictWebviewState {
  readonly ref: DocumentRefView;
}

// ---- webview → extension ----
export interface ReadyMessage {
  readonly type: typeof ConflictMessageType.ready;
}
export interface KeepRevisionMessage {
  readonly type: typeof ConflictMessageType.keepRevision;
  readonly revId: string;
}
export interface SaveMergedMessage {
  readonly type: typeof ConflictMessageType.saveMerged;
  /** The merged editor's text; the extension parses and validates it. */
  readonly json: string;
}
export interface DeleteDocumentMessage {
  readonly type: typeof ConflictMessageType.deleteDocument;
}
export type ConflictWebviewToExtension = ReadyMessage | KeepRevisionMessage | SaveMergedMessage | DeleteDocumentMessage;

// ---- extension → webview ----
export interface LoadMessage {
  readonly type: typeof ConflictMessageType.load;
  readonly view: ConflictView;
  /** Set right after a resolution this panel asked for. */
  readonly notice?: string;
}
export interface BusyMessage {
  readonly type: typeof ConflictMessageType.busy;
  readonly busy: boolean;
}
export interface ErrorMessage {
  readonly type: typeof ConflictMessageType.error;
  readonly message: string;
}
export type ConflictExtensionToWebview = LoadMessage | BusyMessage | ErrorMessage;
