/**
 * The `finetune` task (the paper's few-shot fine-tuning experiment at CPU scale): train on a class subset of one
 * dataset and save the weights (`weightsOut`), or start from saved weights (`weightsIn`) and fine-tune the whole
 * network on K examples per class of a shifted task. Labels are re-indexed to their position in `classes`, so a
 * pre-training on digits 0–4 and a fine-tuning on digits 5–9 share one 5-way head whose meaning changes.
 * The K-shot sample is drawn with the run's seed (the paper's data seeds 13, 21, 42, 87, 100); inputs are raw
 * [0, 1] pixels in both phases so the pre-trained first layer sees the same input scale.
 */
import { z } from 'zod';
import type { ResolvedRunConfig } from '../config.js';
import { canonicalJson } from '../config.js';
import { loadCheckpoint, modelSignature, saveCheckpoint } from '../checkpoint.js';
import type { RunContext, RunMetrics, TaskDefinition } from '../task.js';
import { engineHooks } from './train.js';

export const finetuneParamsSchema = z.object({
  dataset: z.string().default('mnist'),
  model: z.union([z.string(), z.record(z.unknown())]).default('mlp'),
  /** Original class labels to keep, in the order that defines the new labels 0, 1, … */
  classes: z.array(z.number().int().min(0)).min(2),
  /** Examples per class drawn with the run's seed (omit: every example of those classes). */
  kShot: z.number().int().min(1).optional(),
  /** Passes over the data when `steps` is not given. */
  epochs: z.number().int().min(1).default(1),
  weightsIn: z.string().optional(),
  weightsOut: z.string().optional(),
  threads: z.number().int().min(1).default(1),
}).strict();

export async function runFinetune(config: ResolvedRunConfig, ctx: RunContext): Promise<RunMetrics> {
  const p = finetuneParamsSchema.parse(config.params);
  const { train: trainRun } = await import('../../node/train.js');
  const { loadDataset } = await import('../../node/data/load.js');
  const { kShotSubset, selectClasses } = await import('../../core/data/splits.js');
  const { parseModelSpec } = await import('../../core/nn/models.js');
  const ds = await loadDataset(p.dataset);
  let train = selectClasses(ds.train, p.classes);
  if (p.kShot !== undefined) train = kShotSubset(train, p.classes.length, p.kShot, config.seed);
  const test = selectClasses(ds.test, p.classes);
  const spec = parseModelSpec(p.model, 'params.model');
  const batch = Math.min(config.batchSize, train.n);
  const perEpoch = Math.floor(train.n / batch);
  const epochs = config.steps === undefined ? p.epochs : Math.ceil(config.steps / perEpoch);
  const total = Math.min(perEpoch * epochs, config.steps ?? Infinity);
  // The architecture, input shape and class count fix every parameter shape: a checkpoint of anything else is refused.
  const signature = modelSignature({ input: ds.shape }, canonicalJson({ model: spec, classes: p.classes.length }));
  const initParams = p.weightsIn === undefined ? undefined : loadCheckpoint(p.weightsIn, { expectSignature: signature }).buffers.params as Float32Array;
  const result = await trainRun({
    dataset: { name: `${p.dataset}[${p.classes.join(',')}]${p.kShot === undefined ? '' : ` ${p.kShot}-shot`}`, shape: ds.shape, classes: p.classes.length, train, test },
    model: spec, optimizer: config.optimizer, batch, epochs, seed: config.seed, svag: config.svag, threads: p.threads,
    inputs: 'raw', maxSteps: total * config.svag, ...(initParams === undefined ? {} : { initParams }),
  }, {
    ...engineHooks(ctx, total * config.svag, 'test'),
    onFinish: (params) => {
      if (p.weightsOut !== undefined) saveCheckpoint(p.weightsOut, { signature, buffers: { params: Float32Array.from(params) }, meta: { dataset: p.dataset, classes: p.classes } });
    },
  });
  if (result.diverged) return { status: 'diverged', divergedAtStep: result.divergedAtStep ?? 0, summary: {} };
  return { status: 'done', summary: { trainExamples: train.n, steps: result.steps } };
}

export const finetuneTask: TaskDefinition = {
  name: 'finetune',
  description: 'pre-train on a class subset and save weights, or fine-tune saved weights K-shot on a shifted task',
  params: finetuneParamsSchema,
  requiresSteps: false,
  run: runFinetune,
};
