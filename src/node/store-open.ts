/**
 * Opening a results store, the one place it happens. The busy timeout is set by the open itself, before any
 * statement. The file is recognised from reads alone by `PRAGMA application_id` and `PRAGMA user_version`: a new or
 * empty file gets the schema and both marks, a store of this layout without the marks is stamped, and anything else
 * is refused in one line before a byte is written (as PostgreSQL and git refuse a data directory that is not theirs).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../core/util/errors.js';
import { mapIoError } from './io-errors.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  hash TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  config TEXT NOT NULL,
  record TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','done','diverged','failed')),
  summary TEXT,
  diverged_at_step INTEGER,
  error TEXT,
  owner TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  resumed_from_step INTEGER,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
  hash TEXT NOT NULL REFERENCES runs(hash),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  epoch REAL,
  value REAL,
  PRIMARY KEY (hash, tag, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sweeps (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sweep_runs (
  sweep TEXT NOT NULL,
  hash TEXT NOT NULL,
  phase TEXT NOT NULL,
  labels TEXT NOT NULL,
  PRIMARY KEY (sweep, hash, phase)
);
`;

/** `PRAGMA application_id` of every results store ("MLab" in ASCII). */
export const STORE_APPLICATION_ID = 0x4d4c6162;
/** `PRAGMA user_version`: the layout of the tables in SCHEMA. */
export const STORE_LAYOUT = 1;
/** How long a statement waits for another process's transaction before it fails. */
export const BUSY_TIMEOUT_MS = 10_000;

export interface StoreOpenOptions {
  /** Open for reading only: the file must exist, nothing is written to it, and a read-only folder is fine. */
  readonly?: boolean;
  /** What the user can do instead, ending every error about the store (default: another store, or --db when writing). */
  remedy?: string;
  /** How long a statement waits for another process's lock (default BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

type Recognition =
  | { kind: 'store' }
  /** Exactly SCHEMA's tables and columns with neither mark: a store of this layout that a writable open stamps. */
  | { kind: 'unstamped' }
  | { kind: 'empty' }
  | { kind: 'newer'; layout: number }
  | { kind: 'foreign'; what: string };

type TableShapes = Map<string, string>;

/** Each table's columns as "name type notnull pk default", in declaration order. */
function tableShapes(db: Database.Database): TableShapes {
  const shapes: TableShapes = new Map();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as { name: string }[];
  for (const { name } of tables) {
    const cols = db.prepare('SELECT name, type, "notnull", pk, dflt_value FROM pragma_table_info(?)').all(name) as Record<string, unknown>[];
    shapes.set(name, cols.map((c) => `${String(c.name)} ${String(c.type)} ${String(c.notnull)} ${String(c.pk)} ${String(c.dflt_value)}`).join(', '));
  }
  return shapes;
}

let schemaShapes: TableShapes | null = null;
/** The tables SCHEMA creates, read back from an in-memory database so that they are never listed twice. */
function storeShapes(): TableShapes {
  if (schemaShapes === null) {
    const mem = new Database(':memory:');
    mem.exec(SCHEMA);
    schemaShapes = tableShapes(mem);
    mem.close();
  }
  return schemaShapes;
}

/** Equal tables, except that `meta` (the store's identity, added with checkpoints tied to it) may be missing from `a`. */
function sameShapes(a: TableShapes, b: TableShapes): boolean {
  const wanted = [...b].filter(([k]) => k !== 'meta' || a.has('meta'));
  return a.size === wanted.length && wanted.every(([k, v]) => a.get(k) === v);
}

/** What the open database is, from reads only. */
function recognise(db: Database.Database): Recognition {
  const id = db.pragma('application_id', { simple: true }) as number;
  const layout = db.pragma('user_version', { simple: true }) as number;
  if (id === STORE_APPLICATION_ID) return layout === STORE_LAYOUT ? { kind: 'store' } : { kind: 'newer', layout };
  const program = `an SQLite database of another program (application_id ${id >>> 0})`;
  if (id !== 0) return { kind: 'foreign', what: program };
  const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as { type: string; name: string }[];
  if (objects.length === 0) return layout === 0 ? { kind: 'empty' } : { kind: 'foreign', what: `${program.slice(0, -1)}, user_version ${layout})` };
  const shapes = tableShapes(db);
  if (layout === 0 && objects.every((o) => o.type === 'table') && sameShapes(shapes, storeShapes())) return { kind: 'unstamped' };
  const names = objects.map((o) => o.name);
  const listed = `${names.slice(0, 6).join(', ')}${names.length > 6 ? `, … (${names.length} in all)` : ''}`;
  const what = shapes.has('runs') ? 'an SQLite database whose runs table has another layout' : 'an SQLite database of another program';
  return { kind: 'foreign', what: `${what} (${listed})` };
}

/** Throws the one-line refusal unless `r` is a store or can become one. */
function refuse(r: Recognition, path: string, remedy: string): void {
  if (r.kind === 'foreign') throw new UserError(`not a momentum-lab results store: ${path} is ${r.what}; ${remedy}`);
  if (r.kind === 'newer') {
    throw new UserError(`results store ${path} has layout ${r.layout}, and this momentum-lab reads layout ${STORE_LAYOUT}; upgrade momentum-lab or ${remedy}`);
  }
}

/** The -wal and -shm files SQLite may create beside `path` that are not there now. */
function absentSidecars(path: string): string[] {
  return [`${path}-wal`, `${path}-shm`].filter((f) => !existsSync(f));
}

/**
 * Removes the -wal/-shm files an open of a refused file created (SQLite makes them as soon as it reads a WAL-mode
 * header, and a read-only connection leaves them). Only for a file refused as not a store, which no momentum-lab
 * process is using, and never when the -wal holds pages: then someone else is writing.
 */
function removeSidecars(path: string, created: string[], e: unknown): void {
  const code = (e as { code?: unknown } | null)?.code;
  if (!(e instanceof UserError) && !(typeof code === 'string' && /^SQLITE_(NOTADB|CORRUPT)/.test(code))) return;
  const wal = `${path}-wal`;
  if (created.includes(wal) && existsSync(wal) && statSync(wal).size > 0) return;
  for (const f of created) {
    try { rmSync(f, { force: true }); } catch { /* the refusal is the error to report */ }
  }
}

/**
 * Opens (creating if new) a store for writing. The busy timeout is set by the open itself, before any statement: a
 * second process starting on the same new file waits for the first one's schema instead of failing. The file is
 * recognised from reads alone, and only a store, an empty file or an unstamped store is then written to.
 */
function openForWriting(path: string, remedy: string, timeout: number): Database.Database {
  const existed = existsSync(path);
  const sidecars = absentSidecars(path);
  if (!existsSync(dirname(resolve(path)))) throw new UserError(`cannot open results store ${path}: folder ${dirname(resolve(path))} does not exist; ${remedy}`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout });
    const open = db;
    const first = recognise(open);
    refuse(first, path, remedy);
    if (first.kind !== 'store') {
      open.transaction(() => {
        // Another process may have created the store between the first look and this write lock.
        const r = recognise(open);
        refuse(r, path, remedy);
        if (r.kind === 'empty' || r.kind === 'unstamped') open.exec(SCHEMA); // unstamped: adds any table it lacks (meta)
        if (r.kind !== 'store') {
          open.pragma(`application_id = ${STORE_APPLICATION_ID}`);
          open.pragma(`user_version = ${STORE_LAYOUT}`);
        }
      }).immediate();
    }
    if (open.pragma('journal_mode', { simple: true }) !== 'wal') open.pragma('journal_mode = WAL');
    open.pragma('synchronous = NORMAL');
    return open;
  } catch (e) {
    db?.close();
    removeSidecars(path, sidecars, e);
    // A file this call created and left empty (a failed create) is not left behind.
    if (!existed) {
      try { if (statSync(path).size === 0) rmSync(path); } catch { /* never created */ }
    }
    throw mapIoError(e, { file: path, what: 'results store', remedy, busyTimeoutMs: timeout });
  }
}

/**
 * A copy in memory of a WAL-mode store, for a folder where SQLite cannot create the store's -shm index. A store
 * closed cleanly holds every row in its main file (no -wal content), so the copy, marked as a rollback-journal
 * database (header bytes 18–19 = 1), reads the same rows.
 */
function walSnapshot(path: string, remedy: string): Database.Database | null {
  const bytes = readFileSync(path);
  if (bytes.length < 100 || bytes[18] !== 2 || bytes[19] !== 2) return null;
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new UserError(`cannot read results store ${path}: rows in ${wal} need a writable folder to be read; copy both files to a writable folder or ${remedy}`);
  }
  bytes[18] = 1;
  bytes[19] = 1;
  return new Database(bytes, { readonly: true });
}

/** Opens an existing store for reading; nothing is written to the file or its folder. */
function openForReading(path: string, remedy: string, timeout: number): Database.Database {
  const ctx = { file: path, what: 'results store', remedy, busyTimeoutMs: timeout };
  const sidecars = absentSidecars(path);
  let db: Database.Database | undefined;
  if (!existsSync(path)) throw new UserError(`cannot read results store ${path}: no such file; ${remedy}`);
  try {
    if (!statSync(path).isFile()) throw new UserError(`cannot read results store ${path}: it is not a file; ${remedy}`);
    let r: Recognition;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout });
      r = recognise(db);
    } catch (e) {
      db?.close();
      db = (e as { code?: unknown }).code === 'SQLITE_CANTOPEN' ? walSnapshot(path, remedy) ?? undefined : undefined;
      if (db === undefined) throw e;
      r = recognise(db);
    }
    refuse(r, path, remedy);
    if (r.kind === 'empty') throw new UserError(`not a momentum-lab results store: ${path} is an empty database; ${remedy}`);
    return db;
  } catch (e) {
    db?.close();
    removeSidecars(path, sidecars, e);
    throw mapIoError(e, ctx);
  }
}

/** The remedy a store's errors end with when the caller names none. */
export function defaultRemedy(opts: StoreOpenOptions): string {
  return opts.remedy ?? (opts.readonly === true ? 'give the path of another results store' : 'give another --db path');
}

/** Opens the store at `path` for writing (creating it) or, with `readonly`, for reading only. */
export function openStore(path: string, opts: StoreOpenOptions = {}): Database.Database {
  const timeout = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  return opts.readonly === true ? openForReading(path, defaultRemedy(opts), timeout) : openForWriting(path, defaultRemedy(opts), timeout);
}
