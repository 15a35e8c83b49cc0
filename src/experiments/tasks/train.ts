/**
 * ===== ADAPTER: the `train` task → the training engine (src/node/train.ts `train(config, hooks)`) =====
 * Maps a resolved run config onto the engine's TrainConfig (optimizer, batch = batchSize, seed, svag ℓ,
 * maxSteps = steps) plus the task params below, and the engine's hooks onto the run context:
 *   onEpoch → `train/loss` and the evaluation split's `<split>/loss`, `<split>/accuracy` at the epoch's step;
 *   onStep  → progress (and the test throttle).
 * With `validation: n > 0` the last n training samples are held out and the engine's per-epoch evaluation runs on
 * them (tags `valid/*`, what the DeepOBS protocol tunes on); else a validation split that comes with a `data` file is
 * evaluated (also `valid/*`); otherwise the test split (tags `test/*`).
 * Checkpoints: every `checkpointEvery` steps the engine's snapshot (parameters, BatchNorm statistics, dropout generators,
 * momentum buffer, data position) is saved through ctx, and a killed run resumes from it bit-identically
 * (train-checkpoint.ts).
 * Divergence: a non-finite minibatch loss, or one above divergence.factor × the first step's loss.
 * The engine is imported lazily so the runner does not load the kernels unless a `train` run executes.
 */
import { z } from 'zod';
import type { ResolvedRunConfig } from '../config.js';
import type { RunContext, RunMetrics, TaskDefinition } from '../task.js';
import { checkpointToSnapshot, snapshotToCheckpoint, trainSignature } from '../train-checkpoint.js';
import type { TrainHooks } from '../../core/nn/train.js';

export const trainParamsSchema = z.object({
  /** A registered dataset: fashion-mnist, mnist, cifar10, or synthetic (random prototypes, for smoke tests). */
  dataset: z.string().default('fashion-mnist'),
  /** A user's data file instead of `dataset`: a path, or {file, layout, labelColumn, imageSize, channels}. */
  data: z.union([z.string(), z.record(z.unknown())]).optional(),
  dataDir: z.string().optional(),
  cacheDir: z.string().optional(),
  /** A model name (mlp, cnn, resnet20, …) or the engine's JSON model spec. */
  model: z.union([z.string(), z.record(z.unknown())]).default('mlp'),
  epochs: z.number().int().min(1),
  /** Hold out the last n training samples as a validation split (0: evaluate on the test split). */
  validation: z.number().int().min(0).default(0),
  /** Limit the evaluation split to its first n samples. */
  evalLimit: z.number().int().min(1).optional(),
  /** Kernel threads per run (1 keeps parallel sweep workers from oversubscribing the cores). */
  threads: z.number().int().min(1).default(1),
}).strict();
export type TrainParams = z.output<typeof trainParamsSchema>;

export async function runTrain(config: ResolvedRunConfig, ctx: RunContext): Promise<RunMetrics> {
  const p = trainParamsSchema.parse(config.params);
  const { train } = await import('../../node/train.js');
  const { loadData } = await import('../../node/data/load.js');
  const { holdOut } = await import('../../core/data/splits.js');
  const { parseModelSpec } = await import('../../core/nn/models.js');
  const { parseDataSpec } = await import('../../core/data/data-file.js');
  const data = await loadData(p.data === undefined ? p.dataset : parseDataSpec(p.data, 'params.data'), {
    ...(p.dataDir === undefined ? {} : { dataDir: p.dataDir }), ...(p.cacheDir === undefined ? {} : { cacheDir: p.cacheDir }),
  });
  let evalTag = 'test';
  let ds = data;
  if (p.validation > 0) {
    const { train: rest, validation } = holdOut(data.train, p.validation);
    ds = { name: data.name, shape: data.shape, classes: data.classes, train: rest, test: validation };
    evalTag = 'valid';
  } else if (data.validation !== undefined) {
    // The data's own validation split (x_val/y_val, val.csv, val/) is what the protocol tunes on.
    ds = { name: data.name, shape: data.shape, classes: data.classes, train: data.train, test: data.validation };
    evalTag = 'valid';
  }
  const l = config.svag;
  const perEpoch = Math.floor(ds.train.n / config.batchSize) * l;
  const total = Math.min(perEpoch * p.epochs, config.steps === undefined ? Infinity : config.steps * l);
  const model = parseModelSpec(p.model, 'params.model');
  const signature = trainSignature(model, ds.shape, ds.classes);
  const resumed = ctx.checkpoint.load(signature);
  const result = await train({
    dataset: ds,
    model,
    checkpointEvery: ctx.checkpoint.every,
    divergenceFactor: config.divergence.factor,
    ...(resumed === null ? {} : { resume: checkpointToSnapshot(resumed) }),
    optimizer: config.optimizer,
    batch: config.batchSize,
    epochs: p.epochs,
    seed: config.seed,
    svag: l,
    threads: p.threads,
    ...(config.steps === undefined ? {} : { maxSteps: config.steps * l }),
    ...(p.evalLimit === undefined ? {} : { testLimit: p.evalLimit }),
  }, { ...engineHooks(ctx, total, evalTag), onCheckpoint: (snap) => ctx.checkpoint.save(snapshotToCheckpoint(snap, signature)) });
  if (result.diverged) return { status: 'diverged', divergedAtStep: result.divergedAtStep ?? 0, summary: { samplesPerSec: result.samplesPerSec } };
  return { status: 'done', summary: { samplesPerSec: result.samplesPerSec, parameters: result.parameters } };
}

/**
 * The engine's hooks wired to a run context: progress per step, and per epoch `train/loss` plus the evaluated split's
 * `<evalTag>/loss` and `<evalTag>/accuracy` at the epoch's step.
 */
export function engineHooks(ctx: RunContext, total: number, evalTag: string): TrainHooks {
  return {
    onStep: (info) => ctx.progress(info.step + 1, total, `loss ${info.loss.toPrecision(4)}`),
    onEpoch: (m) => {
      const metrics: Record<string, number> = { 'train/loss': m.trainLoss };
      if (m.testLoss !== null) metrics[`${evalTag}/loss`] = m.testLoss;
      if (m.testAccuracy !== null) metrics[`${evalTag}/accuracy`] = m.testAccuracy;
      ctx.onEpoch(m.epoch, metrics, m.step);
    },
  };
}

export const trainTask: TaskDefinition = {
  name: 'train',
  description: 'the training engine (src/nn): a model on Fashion-MNIST, MNIST, CIFAR-10 or synthetic data',
  params: trainParamsSchema,
  requiresSteps: false,
  run: runTrain,
};
