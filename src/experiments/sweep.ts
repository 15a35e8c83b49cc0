/**
 * `runSweep`: expands a sweep config, skips runs the store already finished, and executes the rest on a pool of
 * worker threads (whole runs per worker; the main thread owns every database write). With `protocol.tune`, it then
 * picks the best lr per setting (DeepOBS: by final or best validation metric) and re-runs it with the final seeds.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseSweepConfig, runRecord, type SweepConfig, type SweepConfigInput } from './config.js';
import { expandGrid, runLabel, selectBest, type GridLabels, type PlannedRun, type Selection } from './grid.js';
import { executeRun, removeCheckpoint, type RunOutcome } from './run.js';
import { moduleWorker } from '../node/module-worker.js';
import { checkOutputFolder } from '../node/output-paths.js';
import { ResultsStore, type RunStatus } from '../node/store.js';
import type { WorkerJob, WorkerMessage } from './worker.js';
import { openQueueExecutor } from './queue/coordinator.js';
import { parseRedisUrl } from './queue/redis-url.js';

export type SweepProgress =
  | { type: 'phase'; phase: string; runs: number; finished: number; workers: number }
  | { type: 'start'; worker: number; hash: string; label: string }
  | { type: 'step'; worker: number; hash: string; label: string; step: number; total: number; note?: string }
  | { type: 'finish'; worker: number; hash: string; label: string; status: RunStatus; error: string | null; summary: Record<string, number> }
  /** Runs of `phase` that another live process is executing, which this sweep waits for before it selects. */
  | { type: 'wait'; phase: string; runs: number }
  /** A line about the executor itself (a queue waiting for Redis). */
  | { type: 'note'; message: string };

export interface SweepOptions {
  /** Path of the SQLite results store, or an open store. */
  db: string | ResultsStore;
  /** Worker threads (default: number of cores); 0 runs everything in the calling thread. */
  workers?: number;
  /** Checkpoint folder (default `<db>.ckpt`). */
  checkpointDir?: string;
  onProgress?: (e: SweepProgress) => void;
  /** A BullMQ queue (redis://…) whose workers execute the runs, instead of this process's worker threads. */
  queue?: string;
  /** With a queue: how often a run is tried before it is stored as failed (default 3). */
  attempts?: number;
  /** With a queue: how long Redis may stay unreachable before the sweep stops (default 120 s). */
  redisWaitMs?: number;
  /** How often to look again at tuning runs another live process is executing (default 500 ms). */
  waitPollMs?: number;
  /** Test hook: sleep per step (default: env MOMENTUM_LAB_STEP_DELAY_MS or 0). */
  stepDelayMs?: number;
}

export interface SweepRunResult { hash: string; phase: string; status: RunStatus | 'busy'; labels: GridLabels }
export interface SweepResult {
  name: string;
  runs: SweepRunResult[];
  /** Best grid lr per setting (protocol.tune only). */
  selections: Selection[];
  /** Runs executed by this call (the rest were finished before or owned by another live process). */
  executed: number;
}


function workerFactory(): () => Worker {
  return () => moduleWorker(import.meta.url, './worker.js');
}

/** How often a sweep looks again at tuning runs another live process is executing. */
const WAIT_POLL_MS = 500;

/**
 * Where a sweep's runs execute: the local pool of worker threads (makePool, the default) or a BullMQ queue served by
 * worker processes on any machine (queue/coordinator.ts). Either way this process claims the runs and is the only
 * writer of the store.
 */
export interface Executor {
  /** Executes the jobs this process can claim; `announce` false skips the phase event (a re-check of busy runs). */
  run(jobs: PlannedRun[], phase: string, announce?: boolean): Promise<Map<string, RunStatus | 'busy'>>;
  close(): Promise<void>;
  /** Runs executed (results written) by this executor so far. */
  readonly executed: number;
}

function makePool(store: ResultsStore, workers: number, ckptDir: string, delay: number, onProgress: ((e: SweepProgress) => void) | undefined): Executor {
  const emit = onProgress ?? ((): void => {});
  const created: Worker[] = [];
  const make = workers > 0 ? workerFactory() : null;
  const checkpointStore = { id: store.id(), path: store.path };
  const pool = {
    executed: 0,
    async run(jobs: PlannedRun[], phase: string, announce = true): Promise<Map<string, RunStatus | 'busy'>> {
      const result = new Map<string, RunStatus | 'busy'>();
      const queue = [...jobs];
      let finished = 0;
      for (const j of jobs) {
        const r = store.getRun(j.hash);
        if (r !== undefined && (r.status === 'done' || r.status === 'diverged')) finished++;
      }
      if (announce) emit({ type: 'phase', phase, runs: jobs.length, finished, workers: Math.min(workers, Math.max(1, jobs.length - finished)) });
      const store1 = (o: RunOutcome, w: number, label: string): void => {
        store.finishRun(o);
        // Committed: the checkpoint has nothing left to resume. A failed run keeps it, so its next attempt resumes.
        if (o.status !== 'failed') removeCheckpoint(ckptDir, o.hash);
        pool.executed++;
        result.set(o.hash, o.status);
        emit({ type: 'finish', worker: w, hash: o.hash, label, status: o.status, error: o.error, summary: o.summary });
      };
      /** The next job this process may run (claimed), or null when the queue is empty. */
      const next = (): PlannedRun | null => {
        for (;;) {
          const j = queue.shift();
          if (j === undefined) return null;
          const c = store.claim(j.hash);
          if (c === 'claimed') return j;
          result.set(j.hash, c === 'busy' ? 'busy' : store.getRun(j.hash)!.status);
        }
      };
      if (make === null) {
        for (let j = next(); j !== null; j = next()) {
          const label = runLabel(j.labels);
          emit({ type: 'start', worker: 0, hash: j.hash, label });
          const o = await executeRun(j.config, j.hash, {
            label, checkpointDir: ckptDir, checkpointStore, stepDelayMs: delay,
            onProgress: (e) => emit({ type: 'step', worker: 0, hash: j.hash, label, step: e.step, total: e.total, ...(e.note === undefined ? {} : { note: e.note }) }),
          });
          store1(o, 0, label);
        }
        return result;
      }
      const lanes = Math.min(workers, queue.length);
      while (created.length < lanes) created.push(make());
      await Promise.all(created.slice(0, lanes).map((w, wi) => (async () => {
        for (let j = next(); j !== null; j = next()) {
          const label = runLabel(j.labels);
          const job: WorkerJob = { hash: j.hash, config: j.config, label, checkpointDir: ckptDir, checkpointStore, stepDelayMs: delay };
          emit({ type: 'start', worker: wi, hash: j.hash, label });
          const outcome = await new Promise<RunOutcome | Error>((resolve) => {
            const onMsg = (m: WorkerMessage): void => {
              if (m.type === 'progress') emit({ type: 'step', worker: wi, hash: m.hash, label, step: m.step, total: m.total, ...(m.note === undefined ? {} : { note: m.note }) });
              else { cleanup(); resolve(m.outcome); }
            };
            const onErr = (e: Error): void => { cleanup(); resolve(e); };
            const onExit = (code: number): void => { cleanup(); resolve(new Error(`worker exited with code ${code}`)); };
            const cleanup = (): void => { w.off('message', onMsg); w.off('error', onErr); w.off('exit', onExit); };
            w.on('message', onMsg);
            w.on('error', onErr);
            w.on('exit', onExit);
            w.postMessage(job);
          });
          if (outcome instanceof Error) {
            store.failRun(j.hash, outcome.message);
            result.set(j.hash, 'failed');
            emit({ type: 'finish', worker: wi, hash: j.hash, label, status: 'failed', error: outcome.message, summary: {} });
            // A crashed worker cannot take more jobs; replace it.
            created[wi] = make();
            w = created[wi]!;
          } else {
            store1(outcome, wi, label);
          }
        }
      })()));
      return result;
    },
    async close(): Promise<void> {
      await Promise.all(created.map((w) => w.terminate()));
      created.length = 0;
    },
  };
  return pool;
}

const checkpointDirOf = (opts: SweepOptions): string => opts.checkpointDir ?? `${typeof opts.db === 'string' ? opts.db : opts.db.path}.ckpt`;

/**
 * Opens the store after checking the checkpoint folder, so that a folder that cannot be made (a file in its path) is
 * refused before the store is created or any run is claimed, rather than failing every run.
 */
function openStore(opts: SweepOptions): ResultsStore {
  checkOutputFolder(checkpointDirOf(opts), '--checkpoint-dir');
  if (opts.queue !== undefined) parseRedisUrl(opts.queue);
  return typeof opts.db === 'string' ? new ResultsStore(opts.db) : opts.db;
}

function openPool(store: ResultsStore, opts: SweepOptions, configWorkers: number | undefined): Executor {
  if (opts.queue !== undefined) {
    return openQueueExecutor(store, {
      url: opts.queue,
      ...(opts.attempts === undefined ? {} : { attempts: opts.attempts }),
      ...(opts.redisWaitMs === undefined ? {} : { redisDownMs: opts.redisWaitMs }),
      ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    });
  }
  const workers = opts.workers ?? configWorkers ?? availableParallelism();
  const envDelay = Number(process.env.MOMENTUM_LAB_STEP_DELAY_MS ?? 0);
  const delay = opts.stepDelayMs ?? (Number.isFinite(envDelay) ? envDelay : 0);
  return makePool(store, workers, checkpointDirOf(opts), delay, opts.onProgress);
}

/**
 * Waits until no run of `jobs` is held by another live process, taking over any whose owner dies meanwhile (its
 * claim lapses), so that a decision made on these runs — the tuning selection — sees every result. Two sweeps on one
 * store therefore select the same lr and share the final runs by config hash.
 */
async function awaitOthers(pool: Executor, jobs: PlannedRun[], phase: string, st: Map<string, RunStatus | 'busy'>,
  emit: (e: SweepProgress) => void, pollMs: number): Promise<void> {
  let busy = jobs.filter((j) => st.get(j.hash) === 'busy');
  let shown = -1;
  while (busy.length > 0) {
    if (busy.length !== shown) emit({ type: 'wait', phase, runs: busy.length });
    shown = busy.length;
    await new Promise((r) => setTimeout(r, pollMs));
    for (const [h, status] of await pool.run(busy, phase, false)) st.set(h, status);
    busy = busy.filter((j) => st.get(j.hash) === 'busy');
  }
}

function registerRuns(store: ResultsStore, s: SweepConfig, ps: PlannedRun[], phase: string): void {
  for (const p of ps) store.ensureRun(p.hash, p.config, runRecord(p.config));
  store.recordSweep(s.name, s, ps.map((p) => ({ hash: p.hash, phase, labels: p.labels as unknown as Record<string, unknown> })));
}

/**
 * Runs (or resumes) several grid sweeps (no tuning protocol) on one worker pool, so that small sweeps — three seeds
 * of one setting each — keep every worker busy instead of waiting for each other. Returns each sweep's planned runs.
 */
export async function runGridSweeps(inputs: (SweepConfigInput | SweepConfig)[], opts: SweepOptions): Promise<PlannedRun[][]> {
  const parsed = inputs.map((i) => parseSweepConfig(i));
  for (const s of parsed) if (s.protocol.tune) throw new Error(`runGridSweeps: sweep ${s.name} has protocol.tune; use runSweep`);
  const store = openStore(opts);
  const pool = openPool(store, opts, parsed[0]?.workers);
  try {
    const planned = parsed.map((s) => expandGrid(s));
    parsed.forEach((s, i) => registerRuns(store, s, planned[i]!, 'grid'));
    // A run shared by two sweeps (same config hash) is executed once.
    await pool.run([...new Map(planned.flat().map((p) => [p.hash, p])).values()], 'grid');
    return planned;
  } finally {
    await pool.close();
    if (typeof opts.db === 'string') store.close();
  }
}

/** Runs (or resumes) a sweep; idempotent by config hash. */
export async function runSweep(input: SweepConfigInput | SweepConfig, opts: SweepOptions): Promise<SweepResult> {
  const s = parseSweepConfig(input);
  const store = openStore(opts);
  const pool = openPool(store, opts, s.workers);
  const runs: SweepRunResult[] = [];
  let selections: Selection[] = [];
  try {
    const phase1 = s.protocol.tune ? 'tune' : 'grid';
    const planned = expandGrid(s);
    const register = (ps: PlannedRun[], phase: string): void => registerRuns(store, s, ps, phase);
    register(planned, phase1);
    const st1 = await pool.run(planned, phase1);
    if (s.protocol.tune) await awaitOthers(pool, planned, phase1, st1, opts.onProgress ?? ((): void => {}), opts.waitPollMs ?? WAIT_POLL_MS);
    for (const p of planned) runs.push({ hash: p.hash, phase: phase1, status: st1.get(p.hash) ?? 'queued', labels: p.labels });
    if (s.protocol.tune) {
      const rows = new Map(planned.map((p) => [p.hash, store.getRun(p.hash)!]));
      selections = selectBest(planned, rows, s);
      const seeds = typeof s.protocol.finalSeeds === 'number' ? Array.from({ length: s.protocol.finalSeeds }, (_, i) => i) : s.protocol.finalSeeds;
      const bestLr = new Map(selections.map((x) => [x.setting, x.gridLr]));
      const finals = expandGrid(s, seeds).filter((p) => bestLr.get(p.labels.setting) === p.labels.gridLr);
      register(finals, 'final');
      const st2 = await pool.run(finals, 'final');
      for (const p of finals) runs.push({ hash: p.hash, phase: 'final', status: st2.get(p.hash) ?? 'queued', labels: p.labels });
    }
  } finally {
    await pool.close();
    if (typeof opts.db === 'string') store.close();
  }
  return { name: s.name, runs, selections, executed: pool.executed };
}
