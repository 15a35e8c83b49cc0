/**
 * The results store: SQLite (better-sqlite3) in WAL mode. One row per run keyed by its config hash (status
 * queued/running/done/diverged/failed, resolved config, optimizer record, metrics summary) and TensorBoard-style
 * scalar rows (run, tag, step, epoch, value). A run's results are written in one transaction, so a SIGKILL at any
 * moment leaves either no results or all of them; a run left `running` by a dead process is re-done.
 */
import Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { UserError } from '../core/util/errors.js';
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

  constructor(path: string, opts: { readonly?: boolean } = {}) {
    this.path = path;
    try {
      this.db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    } catch (e) {
      throw new UserError(`cannot open results store ${path}: ${(e as Error).message}`);
    }
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 10000');
      this.db.exec(SCHEMA);
    } else {
      const ok = this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'runs'").get() as { n: number };
      if (ok.n === 0) throw new UserError(`${path} is not a momentum-lab results store (no runs table)`);
    }
  }

  close(): void {
    this.db.close();
  }

  /** This store's identity, a UUID made once with it: checkpoints carry it, so a new store never resumes old ones. */
  id(): string {
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('id', ?)").run(randomUUID());
    return (this.db.prepare("SELECT value FROM meta WHERE key = 'id'").get() as { value: string }).value;
  }

  /** Inserts the run as queued unless it exists. */
  ensureRun(hash: string, config: ResolvedRunConfig, record: Record<string, unknown>): void {
    this.db.prepare(`INSERT OR IGNORE INTO runs (hash, task, config, record, status, created_at) VALUES (?, ?, ?, ?, 'queued', ?)`)
      .run(hash, config.task, JSON.stringify(config), JSON.stringify(record), now());
  }

  recordSweep(name: string, config: unknown, members: { hash: string; phase: string; labels: Record<string, unknown> }[]): void {
    const t = now();
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO sweeps (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`).run(name, JSON.stringify(config), t, t);
      const ins = this.db.prepare('INSERT OR IGNORE INTO sweep_runs (sweep, hash, phase, labels) VALUES (?, ?, ?, ?)');
      for (const m of members) ins.run(name, m.hash, m.phase, JSON.stringify(m.labels));
    })();
  }

  /**
   * Claims the run for this process unless it is finished or owned by a live process. Returns
   * 'claimed', 'finished' or 'busy'.
   */
  claim(hash: string): 'claimed' | 'finished' | 'busy' {
    return this.db.transaction((): 'claimed' | 'finished' | 'busy' => {
      const r = this.db.prepare('SELECT status, owner FROM runs WHERE hash = ?').get(hash) as { status: RunStatus; owner: string | null } | undefined;
      if (r === undefined) throw new Error(`claim: run ${hash} is not in the store`);
      if (FINISHED.includes(r.status)) return 'finished';
      if (r.status === 'running' && r.owner !== this.owner && ownerAlive(r.owner, this.owner)) return 'busy';
      this.db.prepare(`UPDATE runs SET status = 'running', owner = ?, attempts = attempts + 1, started_at = ? WHERE hash = ?`).run(this.owner, now(), hash);
      return 'claimed';
    }).immediate();
  }

  /** Writes a run's outcome and all its metric rows in one transaction. */
  finishRun(o: RunOutcome): void {
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
  }

  /** Marks a run failed without metrics (e.g. its worker crashed). */
  failRun(hash: string, error: string): void {
    this.db.prepare(`UPDATE runs SET status = 'failed', error = ?, owner = NULL, finished_at = ? WHERE hash = ?`).run(error, now(), hash);
  }

  /** Releases runs this process claimed but did not finish (graceful stop). */
  release(hashes: string[]): void {
    const st = this.db.prepare(`UPDATE runs SET status = 'queued', owner = NULL WHERE hash = ? AND owner = ? AND status = 'running'`);
    this.db.transaction(() => { for (const h of hashes) st.run(h, this.owner); })();
  }

  getRun(hash: string): RunRow | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE hash = ?').get(hash) as Record<string, unknown> | undefined;
    return r === undefined ? undefined : toRunRow(r);
  }

  listRuns(opts: { sweep?: string } = {}): RunRow[] {
    const rows = opts.sweep === undefined
      ? this.db.prepare('SELECT * FROM runs ORDER BY created_at, hash').all()
      : this.db.prepare('SELECT r.* FROM runs r WHERE r.hash IN (SELECT hash FROM sweep_runs WHERE sweep = ?) ORDER BY r.created_at, r.hash').all(opts.sweep);
    return (rows as Record<string, unknown>[]).map(toRunRow);
  }

  sweepMembers(sweep?: string): { sweep: string; hash: string; phase: string; labels: Record<string, unknown> }[] {
    const rows = (sweep === undefined
      ? this.db.prepare('SELECT * FROM sweep_runs ORDER BY sweep, phase, hash').all()
      : this.db.prepare('SELECT * FROM sweep_runs WHERE sweep = ? ORDER BY phase, hash').all(sweep)) as { sweep: string; hash: string; phase: string; labels: string }[];
    return rows.map((r) => ({ ...r, labels: JSON.parse(r.labels) as Record<string, unknown> }));
  }

  metrics(hash?: string): MetricRow[] {
    return (hash === undefined
      ? this.db.prepare('SELECT hash, tag, step, epoch, value FROM metrics ORDER BY hash, tag, step').all()
      : this.db.prepare('SELECT hash, tag, step, epoch, value FROM metrics WHERE hash = ? ORDER BY tag, step').all(hash)) as MetricRow[];
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
