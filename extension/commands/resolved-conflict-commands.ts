/** Resolved Conflicts: bringing back a branch a resolution discarded. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import { discardedRefOf, findResolution } from '../conflicts/discarded-documents';
import { shortRevId } from '../conflicts/resolution-text';
import { docUri } from '../documents/doc-uri';
import type { Services } from '../services';
import { DiscardedNode } from '../views/resolved-conflicts-view';

async function discardedFrom(s: Services, arg: unknown): Promise<{ record: P.ResolvedConflict; branch: P.RecordedRevision } | undefined> {
  if (arg instanceof DiscardedNode) return { record: arg.record, branch: arg.branch };
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  const ref = uri ? discardedRefOf(uri) : undefined;
  if (!ref) {
    void s.ctx.ui.showInformationMessage('Choose a discarded revision in the Resolved Conflicts view.');
    return undefined;
  }
  const record = await findResolution(s.ctx, ref.db, ref.recordId);
  const branch = record?.discarded.find((d) => d.revId === ref.revId);
  if (!record || !branch) throw new Error(`The resolution record no longer holds revision ${ref.revId}`);
  return { record, branch };
}

/** Saves a discarded branch's body on top of the document's current revision (after a confirmation). */
export async function restoreDiscarded(s: Services, arg?: unknown): Promise<P.DocumentData | undefined> {
  const found = await discardedFrom(s, arg);
  if (!found) return undefined;
  const { record, branch } = found;
  const ok = await s.ctx.ui.showWarningMessage(
    `Restore revision ${shortRevId(branch.revId)} of “${record.docId}” as a new revision?`,
    {
      modal: true,
      detail: `Its ${branch.deleted ? 'deletion' : 'body'} is saved on top of the current revision of “${record.docId}” in ${record.db} · ${record.collection}, and replicates like any edit.`,
    },
    'Restore',
  );
  if (ok !== 'Restore') return undefined;
  const doc = await s.ctx.request(P.RestoreDiscarded, { db: record.db, recordId: record.id, revId: branch.revId });
  s.ctx.log.info(`${record.docId}: restored the discarded revision ${branch.revId} as ${doc.revId}`);
  void s.ctx.ui.showInformationMessage(`Restored “${record.docId}”: revision ${doc.revId} is now current.`, 'Open Document').then((c) => {
    if (c === 'Open Document') void vscode.window.showTextDocument(docUri({ db: record.db, collection: record.collection, docId: record.docId }));
  });
  return doc;
}
