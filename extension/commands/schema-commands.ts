/** A collection's JSON Schema: set from a file, or removed. Open documents are checked again. */
import * as vscode from 'vscode';
import * as P from '../../server/rpc/protocol';
import type { Services } from '../services';
import { CollectionNode } from '../views/databases-view';
import { pickCollection, pickDatabase } from './pickers';

async function collectionOf(s: Services, arg: unknown, title: string): Promise<{ db: string; collection: string } | undefined> {
  if (arg instanceof CollectionNode) return { db: arg.db, collection: arg.collection.name };
  const db = await pickDatabase(s, `${title}: database`);
  if (!db) return undefined;
  const collection = await pickCollection(s, db, `${title}: collection`);
  return collection ? { db, collection } : undefined;
}

export async function setCollectionSchema(s: Services, arg?: unknown, file?: unknown): Promise<boolean> {
  const target = await collectionOf(s, arg, 'Set JSON Schema');
  if (!target) return false;
  let uri = file instanceof vscode.Uri ? file : typeof file === 'string' ? vscode.Uri.file(file) : undefined;
  if (!uri) {
    const picked = await s.ctx.ui.showOpenDialog({
      title: `Set the JSON Schema of ${target.db} · ${target.collection}`,
      canSelectFiles: true,
      canSelectFolders: false,
      canSelectMany: false,
      openLabel: 'Use This Schema',
      filters: { 'JSON Schema': ['json'], 'All files': ['*'] },
    });
    uri = picked?.[0];
    if (!uri) return false;
  }
  let schema: unknown;
  try {
    schema = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
  } catch (e) {
    throw new Error(`${uri.fsPath} is not a JSON file: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error(`${uri.fsPath} is not a JSON Schema (a JSON object)`);
  await s.ctx.request(P.SetCollectionSchema, { ...target, schema: schema as Record<string, unknown> });
  s.ctx.log.info(`set the JSON Schema of ${target.db} · ${target.collection} from ${uri.fsPath}`);
  s.schema.revalidate(target.db, target.collection);
  void s.ctx.ui.showInformationMessage(`Documents saved in ${target.db} · ${target.collection} must now match ${uri.path.split('/').pop() ?? 'the schema'}.`);
  return true;
}

export async function removeCollectionSchema(s: Services, arg?: unknown): Promise<boolean> {
  const target = await collectionOf(s, arg, 'Remove JSON Schema');
  if (!target) return false;
  const current = await s.ctx.request(P.GetCollectionSchema, target);
  if (!current) {
    void s.ctx.ui.showInformationMessage(`${target.db} · ${target.collection} has no JSON Schema.`);
    return false;
  }
  await s.ctx.request(P.SetCollectionSchema, { ...target, schema: null });
  s.ctx.log.info(`removed the JSON Schema of ${target.db} · ${target.collection}`);
  s.schema.revalidate(target.db, target.collection);
  return true;
}
