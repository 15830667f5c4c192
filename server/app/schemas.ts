import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type * as P from '../rpc/protocol';
import type { Database, JsonObject } from '../store';
import { AppError, invalid } from './app-error';
import type { DatabaseRegistry } from './databases';

/** Local (never replicated) document holding a collection's schema; peers' checkpoints live under another prefix. */
const SCHEMA_DOC_PREFIX = 'peersync-schema/';
/** Problems listed in an error message (all of them travel in its data). */
const ERRORS_IN_MESSAGE = 3;

/**
 * Optional JSON Schemas per collection. Documents saved through PeerSync (the editor, the CLI, an
 * import) must match their collection's schema; replicated revisions are not checked, since a peer's
 * data is not ours to refuse on a local rule.
 */
export class SchemaService {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, { rev: string; validate: ValidateFunction }>();

  constructor(private readonly databases: DatabaseRegistry) {}

  get(p: { db: string; collection: string }): Record<string, unknown> | null {
    const db = this.databases.get(p.db);
    const full = db.requireCollection(p.collection).fullName;
    return (db.getLocal(SCHEMA_DOC_PREFIX + full)?.body as Record<string, unknown> | undefined) ?? null;
  }

  /** Sets (or with null, removes) a collection's schema; a schema that does not compile is refused. */
  set(p: { db: string; collection: string; schema: Record<string, unknown> | null }): void {
    const db = this.databases.get(p.db);
    const full = db.requireCollection(p.collection).fullName;
    if (p.schema === null) {
      db.deleteLocal(SCHEMA_DOC_PREFIX + full);
      return;
    }
    if (typeof p.schema !== 'object' || Array.isArray(p.schema)) throw invalid('a JSON Schema is a JSON object');
    try {
      this.ajv.compile(p.schema);
    } catch (e) {
      throw invalid(`not a usable JSON Schema: ${(e as Error).message}`);
    }
    db.putLocal(SCHEMA_DOC_PREFIX + full, p.schema as JsonObject);
  }

  /** Throws INVALID, with every problem and its JSON path in the data, when `body` does not match. */
  check(db: Database, collection: string, body: unknown): void {
    this.checker(db, collection)(body);
  }

  /** A check for many bodies (an import batch): the schema is read once. */
  checker(db: Database, collection: string): (body: unknown) => void {
    const validate = this.validator(db, collection);
    return (body) => {
      const problems = validate(body);
      if (problems.length === 0) return;
      const shown = problems.slice(0, ERRORS_IN_MESSAGE).map((x) => `${x.path || '(document)'} ${x.message}`);
      const more = problems.length > ERRORS_IN_MESSAGE ? ` and ${problems.length - ERRORS_IN_MESSAGE} more` : '';
      throw new AppError<P.SchemaErrorData>('INVALID', `the document does not match the schema of ${collection}: ${shown.join('; ')}${more}`, { schemaErrors: problems });
    };
  }

  problems(db: Database, collection: string, body: unknown): P.SchemaProblem[] {
    return this.validator(db, collection)(body);
  }

  /** The collection's compiled schema (compiled again only when the schema changed), or a pass when it has none. */
  private validator(db: Database, collection: string): (body: unknown) => P.SchemaProblem[] {
    const full = db.requireCollection(collection).fullName;
    const doc = db.getLocal(SCHEMA_DOC_PREFIX + full);
    if (!doc) return () => [];
    const key = `${db.path}\u0000${full}`;
    let entry = this.compiled.get(key);
    if (!entry || entry.rev !== doc.rev) {
      entry = { rev: doc.rev, validate: this.ajv.compile(doc.body) };
      this.compiled.set(key, entry);
    }
    const validate = entry.validate;
    return (body) => (validate(body) ? [] : (validate.errors ?? []).map(problem));
  }
}

function problem(e: ErrorObject): P.SchemaProblem {
  // instancePath is a JSON Pointer (/list/0/key); the editor needs the segments to find the spot.
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
  return { path: path.join('.'), segments: path, message: `${e.message ?? 'is invalid'}`, ...(missing !== undefined ? { missingProperty: missing } : {}) };
}
