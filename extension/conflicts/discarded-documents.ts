/**
 * Read-only documents for branches a conflict resolution discarded:
 * `peersync-discarded:/<db>/<record id>/<docId>@<revId>.json`. The body comes from the resolution
 * record (the revision itself may be gone from the store).
 */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Ctx } from '../ctx';
import { renderBody } from '../documents/doc-path';
import { errorMessage } from '../log';

export const DISCARDED_SCHEME = 'peersync-discarded';

export interface DiscardedRef {
  readonly db: string;
  readonly recordId: number;
  readonly revId: string;
}

export function discardedUri(record: P.ResolvedConflict, revId: string): vscode.Uri {
  const name = `${record.docId}@${revId}.json`.replace(/[/\\]/g, '_');
  return vscode.Uri.from({ scheme: DISCARDED_SCHEME, path: `/${encodeURIComponent(record.db)}/${record.id}/${encodeURIComponent(name)}`, query: new URLSearchParams({ rev: revId }).toString() });
}

export function discardedRefOf(uri: vscode.Uri): DiscardedRef | undefined {
  if (uri.scheme !== DISCARDED_SCHEME) return undefined;
  const [, db, id] = uri.path.split('/');
  const revId = new URLSearchParams(uri.query).get('rev');
  const recordId = Number(id);
  if (!db || !revId || !Number.isInteger(recordId)) return undefined;
  return { db: decodeURIComponent(db), recordId, revId };
}

/** One resolution record by ID (records page back from `before`, exclusive). */
export async function findResolution(ctx: Ctx, db: string, recordId: number): Promise<P.ResolvedConflict | undefined> {
  const page = await ctx.request(P.ListResolvedConflicts, { db, before: recordId + 1, limit: 1 });
  return page.find((r) => r.id === recordId);
}

export class DiscardedContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly ctx: Ctx) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = discardedRefOf(uri);
    if (!ref) return '';
    try {
      const record = await findResolution(this.ctx, ref.db, ref.recordId);
      const branch = record?.discarded.find((d) => d.revId === ref.revId);
      if (!record || !branch) return `// the resolution record ${ref.recordId} of ${ref.db} no longer holds revision ${ref.revId}\n`;
      if (branch.deleted) return `// revision ${ref.revId} of “${record.docId}” was a deletion (tombstone)\n`;
      if (!branch.body) return `// the body of revision ${ref.revId} was not stored\n`;
      return renderBody(branch.body);
    } catch (e) {
      return `// could not load revision ${ref.revId}: ${errorMessage(e)}\n`;
    }
  }
}
