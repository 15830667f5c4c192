import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';

/**
 * sql.js plus the two things its public API leaves out that the store needs: the WebAssembly memory
 * (to read an out-parameter) and a way to open a database that lives in SQLite's own in-memory pager.
 */
export interface SqlJsEngine {
  readonly SQL: SqlJsStatic;
  /**
   * A database held in SQLite's in-memory pager, on the WebAssembly heap, optionally filled from a
   * database image. See `openInMemory` below for why the store prefers this to `new SQL.Database()`.
   */
  openInMemory(image?: Uint8Array): Database;
}

/** The C entry points sql.js exports but does not type. */
interface SqlJsModule extends SqlJsStatic {
  cwrap(name: string, ret: 'number' | 'string', args: ('number' | 'string')[]): (...args: (number | string)[]) => unknown;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _RegisterExtensionFunctions?(db: number): number;
}

const SQLITE_OK = 0;
const SQLITE_DONE = 101;

let loading: Promise<SqlJsEngine> | undefined;

/** sql.js as its own API gives it (the benchmark's raw comparator uses this). */
export async function loadSqlJs(): Promise<SqlJsStatic> {
  return (await loadSqlJsEngine()).SQL;
}

/**
 * Loads sql.js's WebAssembly from disk: next to the bundle when running from dist/ (esbuild copies
 * it there), else from node_modules. Never fetched over the network.
 */
export function loadSqlJsEngine(): Promise<SqlJsEngine> {
  loading ??= (async () => {
    let memory: WebAssembly.Memory | undefined;
    let failed: (e: unknown) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    const init = initSqlJs({
      locateFile: (file: string) => locateWasm(file),
      // We instantiate the module ourselves to keep a handle on its memory export, and synchronously:
      // V8 then compiles functions as they are first called, while the asynchronous path compiles
      // all of them on background threads, which held up the process's first TLS connection by
      // about 70 ms (measured: first wss connect 75–82 ms after loading, 11–32 ms this way).
      instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        try {
          const module = new WebAssembly.Module(readFileSync(locateWasm('sql-wasm.wasm')));
          const instance = new WebAssembly.Instance(module, imports);
          memory = Object.values(instance.exports).find((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory);
          done(instance, module);
        } catch (e) {
          failed(e);
        }
        return {};
      },
    });
    // sql.js never settles its promise when a custom instantiation fails: race it with the failure.
    const SQL = (await Promise.race([init, failure])) as SqlJsModule;
    if (!memory) throw new Error('sql.js: its WebAssembly module exports no memory');
    const mem = memory;
    return { SQL, openInMemory: (image) => openInMemory(SQL, mem, image) };
  })();
  return loading;
}

function locateWasm(file: string): string {
  const beside = join(__dirname, file);
  if (existsSync(beside)) return beside;
  return require.resolve(`sql.js/dist/${file}`);
}

/**
 * `new SQL.Database()` keeps its file in Emscripten's MEMFS, a JS array that grows by 12.5% at a time,
 * copying itself whole on every growth (about nine times the final size in copies) and routing every
 * page read and write through JS. A `:memory:` database keeps its pages in SQLite's page cache on the
 * WebAssembly heap instead, which grows in place: about a third less time per insert and no growth
 * garbage. sql.js cannot open `:memory:` itself, so we open it through the C API and hand the
 * connection to a sql.js Database object (its `db` field, which every sql.js method uses), so
 * statements, `export()` and `close()` work unchanged.
 */
function openInMemory(SQL: SqlJsModule, memory: WebAssembly.Memory, image?: Uint8Array): Database {
  const open = SQL.cwrap('sqlite3_open', 'number', ['string', 'number']) as (name: string, out: number) => number;
  const closeConnection = SQL.cwrap('sqlite3_close_v2', 'number', ['number']) as (db: number) => number;
  const errmsg = SQL.cwrap('sqlite3_errmsg', 'string', ['number']) as (db: number) => string;

  const db = new SQL.Database();
  const holder = db as unknown as { db: unknown };
  if (typeof holder.db !== 'number') {
    db.close();
    throw new Error('sql.js: this version keeps no connection handle on Database (expected a numeric `db` field)');
  }
  const out = SQL._malloc(4);
  let handle = 0;
  try {
    const rc = open(':memory:', out);
    handle = new Int32Array(memory.buffer, out, 1)[0]!;
    if (rc !== SQLITE_OK) throw new Error(`sql.js: cannot open an in-memory database: ${handle ? errmsg(handle) : `code ${rc}`}`);
    if (image) copyImage(SQL, image, handle);
  } catch (e) {
    if (handle) closeConnection(handle);
    db.close();
    throw e;
  } finally {
    SQL._free(out);
  }
  closeConnection(holder.db);
  holder.db = handle;
  SQL._RegisterExtensionFunctions?.(handle); // what the sql.js constructor does for its own connections
  return db;
}

/** Fills the in-memory connection from a database image with SQLite's online backup (the only copy API sql.js exports). */
function copyImage(SQL: SqlJsModule, image: Uint8Array, dest: number): void {
  const init = SQL.cwrap('sqlite3_backup_init', 'number', ['number', 'string', 'number', 'string']) as (d: number, dn: string, s: number, sn: string) => number;
  const step = SQL.cwrap('sqlite3_backup_step', 'number', ['number', 'number']) as (b: number, pages: number) => number;
  const finish = SQL.cwrap('sqlite3_backup_finish', 'number', ['number']) as (b: number) => number;
  const errmsg = SQL.cwrap('sqlite3_errmsg', 'string', ['number']) as (db: number) => string;
  const source = new SQL.Database(image);
  try {
    const from = (source as unknown as { db: number }).db;
    const backup = init(dest, 'main', from, 'main');
    if (!backup) throw new Error(errmsg(dest));
    const rc = step(backup, -1);
    const finished = finish(backup);
    if (rc !== SQLITE_DONE) throw new Error(`${errmsg(dest)} (code ${rc})`);
    if (finished !== SQLITE_OK) throw new Error(`${errmsg(dest)} (code ${finished})`);
  } finally {
    source.close();
  }
}
