/** Databases and collections as a whole: open a folder, close, delete, refresh from disk, filter. */
import * as P from '../../server/rpc/protocol';
import type { Services } from '../services';
import { CollectionNode, DatabaseNode } from '../views/databases-view';
import { pick, pickDatabase } from './pickers';

const DEFAULT_COLLECTION = '_default._default';

async function databaseOf(s: Services, arg: unknown, title: string): Promise<string | undefined> {
  if (arg instanceof DatabaseNode) return arg.summary.name;
  if (typeof arg === 'string') return arg;
  return pickDatabase(s, `${title}: database`);
}

/** Opens a database folder anywhere on this machine (its folder name becomes its name). */
export async function openDatabaseFolder(s: Services, path?: unknown): Promise<P.DatabaseSummary | undefined> {
  let folder = typeof path === 'string' ? path : undefined;
  if (!folder) {
    const picked = await s.ctx.ui.showOpenDialog({ title: 'Open Database Folder', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Open Database' });
    const uri = picked?.[0];
    if (!uri) return undefined;
    if (uri.scheme !== 'file') throw new Error('Choose a folder on this machine (the PeerSync server opens it directly)');
    folder = uri.fsPath;
  }
  const db = await s.ctx.request(P.OpenDatabaseFolder, { path: folder });
  s.ctx.log.info(`opened the database ${db.name} at ${db.path}`);
  s.views.databases.refresh();
  return db;
}

/** Closes a database; its listeners and replications stop until it is opened again. */
export async function closeDatabase(s: Services, arg?: unknown): Promise<boolean> {
  const db = await databaseOf(s, arg, 'Close Database');
  if (!db) return false;
  await s.ctx.request(P.CloseDatabase, { db });
  s.ctx.log.info(`closed the database ${db}`);
  s.views.databases.refresh();
  return true;
}

export async function deleteDatabase(s: Services, arg?: unknown): Promise<boolean> {
  const db = await databaseOf(s, arg, 'Delete Database');
  if (!db) return false;
  const summary = (await s.ctx.request(P.ListDatabases)).find((d) => d.name === db);
  const docs = summary?.collections.reduce((n, c) => n + c.documents, 0) ?? 0;
  const ok = await s.ctx.ui.showWarningMessage(
    `Delete the database “${db}” for good?`,
    {
      modal: true,
      detail: `Its ${docs.toLocaleString('en-US')} document${docs === 1 ? '' : 's'}, its listeners and its replications go, and its folder${summary ? ` (${summary.path})` : ''} is removed. Peers keep their copies.`,
    },
    'Delete Database',
  );
  if (ok !== 'Delete Database') return false;
  await s.ctx.request(P.DeleteDatabase, { db });
  s.ctx.log.info(`deleted the database ${db}`);
  s.views.databases.refresh();
  s.views.replications.refresh();
  s.views.peers.refresh();
  return true;
}

export async function deleteCollection(s: Services, arg?: unknown): Promise<boolean> {
  let target: { db: string; collection: string } | undefined;
  if (arg instanceof CollectionNode) target = { db: arg.db, collection: arg.collection.name };
  else {
    const db = await databaseOf(s, arg, 'Delete Collection');
    if (!db) return false;
    const collections = (await s.ctx.request(P.ListDatabases)).find((d) => d.name === db)?.collections.filter((c) => c.name !== DEFAULT_COLLECTION) ?? [];
    if (collections.length === 0) {
      void s.ctx.ui.showInformationMessage(`${db} has no collection to delete (the default collection stays).`);
      return false;
    }
    const collection = await pick(
      s,
      'Delete Collection: collection',
      collections.map((c) => ({ label: c.name, description: `${c.documents} docs`, value: c.name })),
    );
    if (!collection) return false;
    target = { db, collection };
  }
  if (target.collection === DEFAULT_COLLECTION) throw new Error('The default collection cannot be deleted');
  const ok = await s.ctx.ui.showWarningMessage(
    `Delete the collection “${target.collection}” of ${target.db}?`,
    { modal: true, detail: 'The collection and every document in it are removed from this database.' },
    'Delete Collection',
  );
  if (ok !== 'Delete Collection') return false;
  await s.ctx.request(P.DeleteCollection, { db: target.db, name: target.collection });
  s.ctx.log.info(`deleted the collection ${target.collection} of ${target.db}`);
  s.views.databases.setFilter(target.db, target.collection, undefined);
  return true;
}

/** Opens databases added to the data folder on disk, and says which folders could not be opened. */
export async function refreshDatabases(s: Services): Promise<{ opened: string[]; unavailable: { name: string; reason: string }[] }> {
  const r = await s.ctx.request(P.RefreshDatabases);
  if (r.opened.length) s.ctx.log.info(`opened ${r.opened.join(', ')} from the data folder`);
  if (r.unavailable.length) {
    const list = r.unavailable.map((u) => `${u.name} (${u.reason})`).join('; ');
    s.ctx.log.warn(`could not open from the data folder: ${list}`);
    void s.ctx.ui.showWarningMessage(`PeerSync could not open ${r.unavailable.length === 1 ? 'a folder' : `${r.unavailable.length} folders`} of the data folder: ${list}`, {});
  }
  return r;
}

/** Shows only the documents whose ID starts with a prefix, or that match a field condition (the collection node says so). */
export async function filterDocuments(s: Services, arg?: unknown, prefix?: unknown): Promise<string | undefined> {
  if (!(arg instanceof CollectionNode)) throw new Error('Choose a collection in the Databases view to filter');
  const chosen =
    typeof prefix === 'string'
      ? prefix
      : await s.ctx.ui.showInputBox({
          title: 'Filter Documents: ID prefix or condition',
          prompt: `Show the documents of ${arg.db} · ${arg.collection.name} whose ID starts with…, or that match a condition such as type = "list" AND qty > 2 (empty: all)`,
          value: s.views.databases.filterOf(arg.db, arg.collection.name) ?? '',
        });
  if (chosen === undefined) return undefined;
  s.views.databases.setFilter(arg.db, arg.collection.name, chosen || undefined);
  await s.views.databases.reveal(new CollectionNode(arg.db, arg.collection, chosen || undefined), { expand: true }).catch(() => undefined);
  return chosen;
}

export function clearDocumentFilter(s: Services, arg?: unknown): void {
  if (arg instanceof CollectionNode) s.views.databases.setFilter(arg.db, arg.collection.name, undefined);
}
