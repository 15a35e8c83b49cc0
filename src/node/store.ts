/**
 * The results store: SQLite (better-sqlite3) in WAL mode. One row per run keyed by its config hash (status
 * queued/running/done/diverged/failed, resolved config, optimizer record, metrics summary) and TensorBoard-style
 * scalar rows (run, tag, step, epoch, value). A run's results are written in one transaction, so a SIGKILL at any
 * moment leaves either no results or all of them; a run left `running` by a dead process is re-done.
 *
 * A store marks itself with `PRAGMA application_id` and its layout with `PRAGMA user_version`; any other file is
 * refused before anything is written to it (as PostgreSQL and git refuse a data directory that is not theirs).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { UserError } from '../core/util/errors.js';
import { mapIoError } from './io-errors.js';
import type { ResolvedRunConfig } from '../experiments/config.js';
import type { MetricRows, RunOutcome } from '../experiments/run.js';

export type RunStatus = 'queued' | 'running' | 'done' | 'diverged' | 'failed';
export const FINISHED: readonly RunStatus[] = ['done', 'diverged'];

export interface RunRow {
  hash: string;
  task: string;
  config: ResolvedRunConfig;
  record: Record<string, unknown>;
  status: RunStatus;
  summary: Record<string, number> | null;
  divergedAtStep: number | null;
  error: string | null;
  resumedFromStep: number | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface MetricRow { hash: string; tag: string; step: number; epoch: number | null; value: number | null }

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
}

type Recognition =
  | { kind: 'store' }
  /** Exactly SCHEMA's tables and columns, without the id and layout marks (a store written before they existed). */
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

function sameShapes(a: TableShapes, b: TableShapes): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
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
 * header, and a read-only connection leaves them), unless the -wal holds pages: then someone else is writing.
 */
function removeSidecars(path: string, created: string[]): void {
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
function openForWriting(path: string, remedy: string): Database.Database {
  const existed = existsSync(path);
  const sidecars = absentSidecars(path);
  if (!existsSync(dirname(resolve(path)))) throw new UserError(`cannot open results store ${path}: folder ${dirname(resolve(path))} does not exist; ${remedy}`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    const open = db;
    const first = recognise(open);
    refuse(first, path, remedy);
    if (first.kind !== 'store') {
      open.transaction(() => {
        // Another process may have created the store between the first look and this write lock.
        const r = recognise(open);
        refuse(r, path, remedy);
        if (r.kind === 'empty') open.exec(SCHEMA);
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
    removeSidecars(path, sidecars);
    // A file this call created and left empty (a failed create) is not left behind.
    if (!existed) {
      try { if (statSync(path).size === 0) rmSync(path); } catch { /* never created */ }
    }
    throw mapIoError(e, { file: path, what: 'results store', remedy, busyTimeoutMs: BUSY_TIMEOUT_MS });
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
function openForReading(path: string, remedy: string): Database.Database {
  const ctx = { file: path, what: 'results store', remedy, busyTimeoutMs: BUSY_TIMEOUT_MS };
  const sidecars = absentSidecars(path);
  let db: Database.Database | undefined;
  if (!existsSync(path)) throw new UserError(`cannot read results store ${path}: no such file; ${remedy}`);
  try {
    if (!statSync(path).isFile()) throw new UserError(`cannot read results store ${path}: it is not a file; ${remedy}`);
    let r: Recognition;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
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
    removeSidecars(path, sidecars);
    throw mapIoError(e, ctx);
  }
}

const now = (): string => new Date().toISOString();

/** Whether the process that wrote `owner` ("pid@host#token") is still alive (same host only). */
export function ownerAlive(owner: string | null, self: string): boolean {
  if (owner === null || owner === self) return owner === self;
  const m = /^(\d+)@([^#]*)#/.exec(owner);
  if (m === null || m[2] !== hostname()) return m !== null; // another host: assume alive
  const pid = Number(m[1]);
  if (pid === process.pid) return false; // an earlier incarnation with our pid, token differs
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ResultsStore {
  readonly db: Database.Database;
  readonly path: string;
  /** This process's owner id for runs it claims. */
  readonly owner = `${process.pid}@${hostname()}#${randomUUID().slice(0, 8)}`;

  /** What the user can do when this store fails them, at the end of every error about it. */
  readonly remedy: string;

  /** Opens the store at `path`, the one place a store is opened; refuses any file that is not a store. */
  constructor(path: string, opts: StoreOpenOptions = {}) {
    this.path = path;
    this.remedy = opts.remedy ?? (opts.readonly === true ? 'give the path of another results store' : 'give another --db path');
    this.db = opts.readonly === true ? openForReading(path, this.remedy) : openForWriting(path, this.remedy);
  }

  /** Runs `f`, turning the SQLite errors a user can cause (disk full, read-only, locked) into one-line errors. */
  private io<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw mapIoError(e, { file: this.path, what: 'results store', remedy: this.remedy, busyTimeoutMs: BUSY_TIMEOUT_MS });
    }
  }

  close(): void {
    this.io(() => this.db.close());
  }

  /** Inserts the run as queued unless it exists. */
  ensureRun(hash: string, config: ResolvedRunConfig, record: Record<string, unknown>): void {
    this.io(() => {
      this.db.prepare(`INSERT OR IGNORE INTO runs (hash, task, config, record, status, created_at) VALUES (?, ?, ?, ?, 'queued', ?)`)
        .run(hash, config.task, JSON.stringify(config), JSON.stringify(record), now());
    });
  }

  recordSweep(name: string, config: unknown, members: { hash: string; phase: string; labels: Record<string, unknown> }[]): void {
    this.io(() => {
      const t = now();
      this.db.transaction(() => {
        this.db.prepare(`INSERT INTO sweeps (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`).run(name, JSON.stringify(config), t, t);
        const ins = this.db.prepare('INSERT OR IGNORE INTO sweep_runs (sweep, hash, phase, labels) VALUES (?, ?, ?, ?)');
        for (const m of members) ins.run(name, m.hash, m.phase, JSON.stringify(m.labels));
      })();
    });
  }

  /**
   * Claims the run for this process unless it is finished or owned by a live process. Returns
   * 'claimed', 'finished' or 'busy'.
   */
  claim(hash: string): 'claimed' | 'finished' | 'busy' {
    return this.io(() => this.db.transaction((): 'claimed' | 'finished' | 'busy' => {
      const r = this.db.prepare('SELECT status, owner FROM runs WHERE hash = ?').get(hash) as { status: RunStatus; owner: string | null } | undefined;
      if (r === undefined) throw new Error(`claim: run ${hash} is not in the store`);
      if (FINISHED.includes(r.status)) return 'finished';
      if (r.status === 'running' && r.owner !== this.owner && ownerAlive(r.owner, this.owner)) return 'busy';
      this.db.prepare(`UPDATE runs SET status = 'running', owner = ?, attempts = attempts + 1, started_at = ? WHERE hash = ?`).run(this.owner, now(), hash);
      return 'claimed';
    }).immediate());
  }

  /** Writes a run's outcome and all its metric rows in one transaction. */
  finishRun(o: RunOutcome): void {
    this.io(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM metrics WHERE hash = ?').run(o.hash);
        const ins = this.db.prepare('INSERT INTO metrics (hash, tag, step, epoch, value) VALUES (?, ?, ?, ?, ?)');
        const r = o.rows;
        for (let i = 0; i < r.values.length; i++) {
          const e = r.epochs[i]!;
          ins.run(o.hash, r.tags[r.tagIndex[i]!]!, r.steps[i]!, Number.isNaN(e) ? null : e, r.values[i]!);
        }
        this.db.prepare(`UPDATE runs SET status = ?, summary = ?, diverged_at_step = ?, error = ?, resumed_from_step = ?, owner = NULL, finished_at = ? WHERE hash = ?`)
          .run(o.status, JSON.stringify(o.summary), o.divergedAtStep, o.error, o.resumedFromStep, now(), o.hash);
      }).immediate();
    });
  }

  /** Marks a run failed without metrics (e.g. its worker crashed). */
  failRun(hash: string, error: string): void {
    this.io(() => {
      this.db.prepare(`UPDATE runs SET status = 'failed', error = ?, owner = NULL, finished_at = ? WHERE hash = ?`).run(error, now(), hash);
    });
  }

  /** Releases runs this process claimed but did not finish (graceful stop). */
  release(hashes: string[]): void {
    this.io(() => {
      const st = this.db.prepare(`UPDATE runs SET status = 'queued', owner = NULL WHERE hash = ? AND owner = ? AND status = 'running'`);
      this.db.transaction(() => { for (const h of hashes) st.run(h, this.owner); })();
    });
  }

  getRun(hash: string): RunRow | undefined {
    return this.io(() => {
      const r = this.db.prepare('SELECT * FROM runs WHERE hash = ?').get(hash) as Record<string, unknown> | undefined;
      return r === undefined ? undefined : toRunRow(r);
    });
  }

  listRuns(opts: { sweep?: string } = {}): RunRow[] {
    return this.io(() => {
      const rows = opts.sweep === undefined
        ? this.db.prepare('SELECT * FROM runs ORDER BY created_at, hash').all()
        : this.db.prepare('SELECT r.* FROM runs r WHERE r.hash IN (SELECT hash FROM sweep_runs WHERE sweep = ?) ORDER BY r.created_at, r.hash').all(opts.sweep);
      return (rows as Record<string, unknown>[]).map(toRunRow);
    });
  }

  sweepMembers(sweep?: string): { sweep: string; hash: string; phase: string; labels: Record<string, unknown> }[] {
    return this.io(() => {
      const rows = (sweep === undefined
        ? this.db.prepare('SELECT * FROM sweep_runs ORDER BY sweep, phase, hash').all()
        : this.db.prepare('SELECT * FROM sweep_runs WHERE sweep = ? ORDER BY phase, hash').all(sweep)) as { sweep: string; hash: string; phase: string; labels: string }[];
      return rows.map((r) => ({ ...r, labels: JSON.parse(r.labels) as Record<string, unknown> }));
    });
  }

  /** Names of the sweeps recorded in the store, sorted. */
  sweepNames(): string[] {
    return this.io(() => (this.db.prepare('SELECT name FROM sweeps ORDER BY name').all() as { name: string }[]).map((r) => r.name));
  }

  metrics(hash?: string): MetricRow[] {
    return this.io(() => (hash === undefined
      ? this.db.prepare('SELECT hash, tag, step, epoch, value FROM metrics ORDER BY hash, tag, step').all()
      : this.db.prepare('SELECT hash, tag, step, epoch, value FROM metrics WHERE hash = ? ORDER BY tag, step').all(hash)) as MetricRow[]);
  }

  /** Scalars of one run grouped by tag, in step order. */
  metricSeries(hash: string): Record<string, { step: number; epoch: number | null; value: number | null }[]> {
    const out: Record<string, { step: number; epoch: number | null; value: number | null }[]> = {};
    for (const m of this.metrics(hash)) (out[m.tag] ??= []).push({ step: m.step, epoch: m.epoch, value: m.value });
    return out;
  }
}

function toRunRow(r: Record<string, unknown>): RunRow {
  return {
    hash: r.hash as string,
    task: r.task as string,
    config: JSON.parse(r.config as string) as ResolvedRunConfig,
    record: JSON.parse(r.record as string) as Record<string, unknown>,
    status: r.status as RunStatus,
    summary: r.summary === null ? null : (JSON.parse(r.summary as string) as Record<string, number>),
    divergedAtStep: r.diverged_at_step as number | null,
    error: r.error as string | null,
    resumedFromStep: r.resumed_from_step as number | null,
    attempts: r.attempts as number,
    createdAt: r.created_at as string,
    startedAt: r.started_at as string | null,
    finishedAt: r.finished_at as string | null,
  };
}

export type { MetricRows };
