/**
 * The results store: SQLite (better-sqlite3) in WAL mode. One row per run keyed by its config hash (status
 * queued/running/done/diverged/failed, resolved config, optimizer record, metrics summary) and TensorBoard-style
 * scalar rows (run, tag, step, epoch, value). A run's results are written in one transaction, so a SIGKILL at any
 * moment leaves either no results or all of them; a run left `running` by a dead process is re-done.
 *
 * A store marks itself with `PRAGMA application_id` and its layout with `PRAGMA user_version`; any other file is
 * refused before anything is written to it (store-open.ts).
 */
import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { mapIoError } from './io-errors.js';
import { crashPoint } from './crash-points.js';
import { BUSY_TIMEOUT_MS, defaultRemedy, openStore, type StoreOpenOptions } from './store-open.js';
import type { ResolvedRunConfig } from '../experiments/config.js';
import type { MetricRows, RunOutcome } from '../experiments/run.js';

export { BUSY_TIMEOUT_MS, STORE_APPLICATION_ID, STORE_LAYOUT, type StoreOpenOptions } from './store-open.js';

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

const now = (): string => new Date().toISOString();

/** Summary keys that measure the machine's speed rather than the run. */
const TIMINGS = ['samplesPerSec'];

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
  private readonly busyTimeoutMs: number;

  /** Opens the store at `path` (store-open.ts): refuses any file that is not a store. */
  constructor(path: string, opts: StoreOpenOptions = {}) {
    this.path = path;
    this.remedy = defaultRemedy(opts);
    this.busyTimeoutMs = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    this.db = openStore(path, opts);
  }

  /** Runs `f`, turning the SQLite errors a user can cause (disk full, read-only, locked) into one-line errors. */
  private io<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw mapIoError(e, { file: this.path, what: 'results store', remedy: this.remedy, busyTimeoutMs: this.busyTimeoutMs });
    }
  }

  close(): void {
    this.io(() => this.db.close());
  }

  /** This store's identity, a UUID made once with it: checkpoints carry it, so a new store never resumes old ones. */
  id(): string {
    return this.io(() => {
      this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('id', ?)").run(randomUUID());
      return (this.db.prepare("SELECT value FROM meta WHERE key = 'id'").get() as { value: string }).value;
    });
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
        crashPoint('store-commit');
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

  /**
   * The store's results as lines, without how they were obtained (attempts, owners, times, speed, resume steps): the runs
   * (hash, status, divergence step, summary, config) and every metric value bit for bit. A sweep that was killed and
   * resumed must give the same lines as an uninterrupted one.
   */
  resultLines(): string[] {
    // Speed (samplesPerSec) is a measurement of the machine, not of the run.
    const result = (summary: Record<string, number> | null): Record<string, number> | null =>
      summary === null ? null : Object.fromEntries(Object.entries(summary).filter(([k]) => !TIMINGS.includes(k)));
    const runs = this.listRuns().sort((a, b) => a.hash.localeCompare(b.hash))
      .map((r) => JSON.stringify({ hash: r.hash, status: r.status, divergedAtStep: r.divergedAtStep, summary: result(r.summary), config: r.config }));
    const bits = new DataView(new ArrayBuffer(8));
    const exact = (v: number | null): string => {
      if (v === null) return 'null';
      bits.setFloat64(0, v);
      return bits.getBigUint64(0).toString(16);
    };
    return [...runs, ...this.metrics().map((m) => `${m.hash}/${m.tag}@${m.step}:${m.epoch} ${exact(m.value)}`)];
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
