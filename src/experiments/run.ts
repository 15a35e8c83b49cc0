/**
 * Executes one run of a task: builds the RunContext (metric log, checkpoints, progress), resumes from the run's
 * last checkpoint when there is one, and returns every metric row plus a summary. Storage is the caller's job, so
 * this works the same inline and inside a worker thread.
 */
import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/util/errors.js';
import { checkOutputFolder } from '../node/output-paths.js';
import { isTempFileOf } from '../node/atomic-write.js';
import { loadCheckpointIfExists, saveCheckpoint, type CheckpointData } from './checkpoint.js';
import type { ResolvedRunConfig } from './config.js';
import { getTask, type RunContext } from './task.js';
import './tasks/index.js';

export interface MetricRows {
  tags: string[];
  /** Index into `tags` for each row. */
  tagIndex: Int32Array;
  steps: Float64Array;
  epochs: Float64Array;
  values: Float64Array;
}

export interface RunOutcome {
  hash: string;
  status: 'done' | 'diverged' | 'failed';
  divergedAtStep: number | null;
  error: string | null;
  summary: Record<string, number>;
  rows: MetricRows;
  /** The step the run resumed from (null: started from scratch). */
  resumedFromStep: number | null;
}

export interface ProgressEvent {
  hash: string;
  label: string;
  step: number;
  total: number;
  note?: string;
}

export interface ExecuteOptions {
  /** Folder for the run's checkpoint file `<hash>.ckpt`; none: no checkpoints. */
  checkpointDir?: string;
  /** The results store the outcome goes to (`ResultsStore.id()` and its path): only its own checkpoints resume. */
  checkpointStore?: { id: string; path: string };
  label?: string;
  onProgress?: (e: ProgressEvent) => void;
  /** Test hook: sleep this many ms per step (env MOMENTUM_LAB_STEP_DELAY_MS), so a crash test can kill mid-run. */
  stepDelayMs?: number;
  /** Minimum ms between progress callbacks (default 100; 0: every step). */
  progressIntervalMs?: number;
}

export function checkpointPath(dir: string, hash: string): string {
  return join(dir, `${hash}.ckpt`);
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Summary: `final/<tag>` (last value), `best/<tag>` (min for losses, max otherwise), and `steps/<tag>` counts. */
export function summarise(rows: MetricRows): Record<string, number> {
  const out: Record<string, number> = {};
  const lastStep: Record<string, number> = {};
  for (let i = 0; i < rows.values.length; i++) {
    const tag = rows.tags[rows.tagIndex[i]!]!;
    const v = rows.values[i]!;
    const s = rows.steps[i]!;
    if (lastStep[tag] === undefined || s >= lastStep[tag]!) {
      lastStep[tag] = s;
      out[`final/${tag}`] = v;
    }
    const bestKey = `best/${tag}`;
    const minimise = /loss|error/i.test(tag);
    if (Number.isFinite(v) && (out[bestKey] === undefined || (minimise ? v < out[bestKey]! : v > out[bestKey]!))) out[bestKey] = v;
  }
  return out;
}

export async function executeRun(config: ResolvedRunConfig, hash: string, opts: ExecuteOptions = {}): Promise<RunOutcome> {
  const task = getTask(config.task);
  const tags: string[] = [];
  const tagIds = new Map<string, number>();
  let tagIndex: number[] = [];
  let steps: number[] = [];
  let epochs: number[] = [];
  let values: number[] = [];
  const log = (step: number, metrics: Record<string, number>, epoch: number): void => {
    for (const [tag, value] of Object.entries(metrics)) {
      let id = tagIds.get(tag);
      if (id === undefined) {
        id = tags.length;
        tags.push(tag);
        tagIds.set(tag, id);
      }
      tagIndex.push(id);
      steps.push(step);
      epochs.push(epoch);
      values.push(value);
    }
  };
  const ckpt = opts.checkpointDir === undefined ? null : checkpointPath(opts.checkpointDir, hash);
  const store = opts.checkpointStore;
  if (opts.checkpointDir !== undefined) {
    checkOutputFolder(opts.checkpointDir, 'checkpoint folder');
    if (!existsSync(opts.checkpointDir)) mkdirSync(opts.checkpointDir, { recursive: true });
    // A kill during saveCheckpoint can leave its temp file behind (the real checkpoint is intact); tidy up.
    for (const f of readdirSync(opts.checkpointDir)) {
      if (isTempFileOf(f, `${hash}.ckpt`)) try { unlinkSync(join(opts.checkpointDir, f)); } catch { /* gone */ }
    }
  }
  let resumedFromStep: number | null = null;
  const delay = opts.stepDelayMs ?? 0;
  let lastReport = 0;
  const label = opts.label ?? hash;

  const ctx: RunContext = {
    hash,
    onStep: (step, metrics, epoch = NaN) => log(step, metrics, epoch),
    onEpoch: (epoch, metrics, step) => log(step, metrics, epoch),
    progress: (step, total, note) => {
      if (delay > 0) Atomics.wait(sleepCell, 0, 0, delay);
      if (opts.onProgress === undefined) return;
      const now = Date.now();
      if (now - lastReport >= (opts.progressIntervalMs ?? 100) || step === total) {
        lastReport = now;
        opts.onProgress({ hash, label, step, total, ...(note === undefined ? {} : { note }) });
      }
    },
    checkpoint: {
      every: ckpt === null ? 0 : config.checkpointEvery,
      save: (data: CheckpointData) => {
        if (ckpt === null) return;
        const meta = { ...data.meta, __configHash: hash, __tags: tags, ...(store === undefined ? {} : { __storeId: store.id }) };
        saveCheckpoint(ckpt, {
          signature: data.signature,
          meta,
          buffers: {
            ...data.buffers,
            '__metrics.tag': Int32Array.from(tagIndex),
            '__metrics.step': Float64Array.from(steps),
            '__metrics.epoch': Float64Array.from(epochs),
            '__metrics.value': Float64Array.from(values),
          },
        });
      },
      load: (signature: string) => {
        if (ckpt === null) return null;
        const data = loadCheckpointIfExists(ckpt, { expectSignature: signature });
        if (data === null) return null;
        if (data.meta.__configHash !== hash) throw new UserError(`checkpoint ${ckpt} belongs to run ${String(data.meta.__configHash)}, not ${hash}`);
        // A checkpoint of another store (one deleted and made anew, or a folder shared by two) holds no training
        // this store has seen, and resuming it would skip that training. The file is left alone: this run's first
        // checkpoint replaces it.
        if (store !== undefined && data.meta.__storeId !== store.id) {
          process.stderr.write(`momentum-lab: warning: checkpoint ${ckpt} was not written for results store ${store.path}; starting the run afresh\n`);
          return null;
        }
        tags.length = 0;
        tagIds.clear();
        for (const t of data.meta.__tags as string[]) {
          tagIds.set(t, tags.length);
          tags.push(t);
        }
        tagIndex = Array.from(data.buffers['__metrics.tag']!);
        steps = Array.from(data.buffers['__metrics.step']!);
        epochs = Array.from(data.buffers['__metrics.epoch']!);
        values = Array.from(data.buffers['__metrics.value']!);
        resumedFromStep = typeof data.meta.step === 'number' ? data.meta.step : 0;
        return data;
      },
    },
  };

  let status: RunOutcome['status'];
  let divergedAtStep: number | null = null;
  let error: string | null = null;
  let extra: Record<string, number> = {};
  try {
    const r = await task.run(config, ctx);
    status = r.status;
    divergedAtStep = r.divergedAtStep ?? null;
    extra = r.summary ?? {};
  } catch (e) {
    status = 'failed';
    error = e instanceof Error ? e.message : String(e);
  }
  const rows: MetricRows = {
    tags,
    tagIndex: Int32Array.from(tagIndex),
    steps: Float64Array.from(steps),
    epochs: Float64Array.from(epochs),
    values: Float64Array.from(values),
  };
  return { hash, status, divergedAtStep, error, summary: { ...summarise(rows), ...extra }, rows, resumedFromStep };
}

/** Removes a run's checkpoint (after its results are committed). */
export function removeCheckpoint(dir: string | undefined, hash: string): void {
  if (dir === undefined) return;
  try { unlinkSync(checkpointPath(dir, hash)); } catch { /* none */ }
}
