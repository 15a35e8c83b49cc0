/**
 * The runner is generic over a *task*: a named function `(resolved run config, ctx) → Promise<RunMetrics>` that
 * trains one model, logs scalars through ctx, and saves/loads checkpoints through ctx. Tasks register themselves in
 * a registry by name; a run config's `task` field picks one.
 */
import type { ZodTypeAny } from 'zod';
import { UserError } from '../core/util/errors.js';
import { parseWith, type ResolvedRunConfig } from './config.js';
import type { CheckpointData } from './checkpoint.js';

export interface RunMetrics {
  status: 'done' | 'diverged';
  /** The step at which the training loss became non-finite or exceeded the divergence threshold. */
  divergedAtStep?: number;
  /** Extra summary numbers (the runner adds final/best of every logged tag). */
  summary?: Record<string, number>;
}

export interface RunContext {
  /** The run's config hash. */
  readonly hash: string;
  /** Scalars at a step, TensorBoard style: tags like `train/loss`, `valid/accuracy`. */
  onStep(step: number, metrics: Record<string, number>, epoch?: number): void;
  /** Scalars at the end of an epoch (stored with the step they were taken at). */
  onEpoch(epoch: number, metrics: Record<string, number>, step: number): void;
  /** Call once per step: drives the progress display (rate-limited) and the test throttle. */
  progress(step: number, total: number, note?: string): void;
  checkpoint: {
    /** Save every this many steps (0: only at the end). */
    readonly every: number;
    /** Saves atomically; the runner adds the metrics logged so far so a resumed run has its full history. */
    save(data: CheckpointData): void;
    /** The run's last checkpoint (history restored into ctx), or null to start from scratch. */
    load(expectSignature: string): CheckpointData | null;
  };
}

export type TaskFn = (config: ResolvedRunConfig, ctx: RunContext) => Promise<RunMetrics>;

export interface TaskDefinition {
  name: string;
  description: string;
  /** Validates and fills defaults of `params` (zod, strict). */
  params: ZodTypeAny;
  /** Whether the run config must give `steps` (otherwise the task has its own length, e.g. epochs). */
  requiresSteps: boolean;
  run: TaskFn;
}

const TASKS = new Map<string, TaskDefinition>();

export function registerTask(t: TaskDefinition): void {
  TASKS.set(t.name, t);
}

export function getTask(name: string): TaskDefinition {
  const t = TASKS.get(name);
  if (t === undefined) throw new UserError(`task: unknown task ${JSON.stringify(name)} (known: ${[...TASKS.keys()].join(', ')})`);
  return t;
}

export function taskNames(): string[] {
  return [...TASKS.keys()];
}

/** ParamsResolver for resolveRunConfig using the registry. */
export function resolveTaskParams(task: string, params: Record<string, unknown>, field = 'params', run: { steps?: number | undefined } = {}): Record<string, unknown> {
  const t = getTask(task);
  if (t.requiresSteps && run.steps === undefined) {
    const where = field.endsWith('.params') ? `${field.slice(0, -'.params'.length)}.steps` : 'steps';
    throw new UserError(`${where}: required for task ${task} (number of optimizer steps at ℓ = 1)`);
  }
  return parseWith(t.params, params, field) as Record<string, unknown>;
}
