/** Collections and purging: changes to a database's shape that the document editor cannot make. */
import * as P from '../../server/rpc/protocol';
import type { Services } from '../services';
import { DatabaseNode } from '../views/databases-view';
import { pickDatabase, resolveDocument } from './pickers';

/** `collection` (in the default scope) or `scope.collection`; each part as Couchbase Lite allows. */
const COLLECTION_NAME = /^[A-Za-z0-9_%-]{1,251}(\.[A-Za-z0-9_%-]{1,251})?$/;

export async function createCollection(s: Services, arg?: unknown, name?: unknown): Promise<P.DatabaseSummary | undefined> {
  const db = arg instanceof DatabaseNode ? arg.summary.name : typeof arg === 'string' ? arg : await pickDatabase(s, 'Create Collection: database');
  if (!db) return undefined;
  const existing = new Set((await s.ctx.request(P.ListDatabases)).find((d) => d.name === db)?.collections.map((c) => c.name) ?? []);
  const chosen =
    typeof name === 'string'
      ? name
      : await s.ctx.ui.showInputBox({
          title: 'Create Collection: name',
          prompt: `A collection of ${db}: “name” (default scope) or “scope.name”`,
          placeHolder: 'inventory.items',
          validateInput: (v) =>
            !COLLECTION_NAME.test(v.trim()) ? 'Letters, digits, _ % -; at most one dot between scope and name' : existing.has(v.trim()) ? `${db} already has ${v.trim()}` : undefined,
        });
  if (!chosen) return undefined;
  const summary = await s.ctx.request(P.CreateCollection, { db, name: chosen.trim() });
  s.ctx.log.info(`created the collection ${chosen.trim()} in ${db}`);
  return summary;
}

/** Removes a document and its history from this database only: peers keep theirs, nothing replicates. */
export async function purgeDocument(s: Services, arg?: unknown): Promise<boolean> {
  const ref = await resolveDocument(s, arg, 'Purge Document');
  if (!ref) return false;
  const ok = await s.ctx.ui.showWarningMessage(
    `Purge “${ref.docId}” from ${ref.db} · ${ref.collection}?`,
    { modal: true, detail: 'The document and its whole history are removed from this database. Unlike a deletion, a purge does not replicate: peers keep their copy, and may send it back.' },
    'Purge',
  );
  if (ok !== 'Purge') return false;
  await s.ctx.request(P.PurgeDocument, { db: ref.db, collection: ref.collection, docId: ref.docId });
  s.ctx.log.info(`purged ${ref.docId} from ${ref.db} · ${ref.collection}`);
  return true;
}
