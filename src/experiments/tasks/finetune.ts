/**
 * The `finetune` task (the paper's few-shot fine-tuning experiment at CPU scale): train on a class subset of one
 * dataset and save the weights (`weightsOut`), or start from saved weights (`weightsIn`) and fine-tune the whole
 * network on K examples per class of a shifted task. Labels are re-indexed to their position in `classes`, so a
 * pre-training on digits 0–4 and a fine-tuning on digits 5–9 share one 5-way head whose meaning changes.
 * The K-shot sample is drawn with the run's seed (the paper's data seeds 13, 21, 42, 87, 100); inputs are raw
 * [0, 1] pixels in both phases so the pre-trained first layer sees the same input scale. With `validationShot` the
 * run evaluates on a validation split drawn from the training pool instead of the test split (for choosing the lr).
 */
import { z } from 'zod';
import { kShotIndices, subsetSplit } from '../../core/data/splits.js';
import type { Split } from '../../core/data/dataset.js';
import { UserError } from '../../core/util/errors.js';
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
  /**
   * Evaluate on V more examples per class of the training pool, disjoint from the K-shot sample (`fewShotSplits`),
   * instead of on the test split: the lr is chosen on these runs, never on test. Needs `kShot`.
   */
  validationShot: z.number().int().min(1).optional(),
  weightsIn: z.string().optional(),
  weightsOut: z.string().optional(),
  threads: z.number().int().min(1).default(1),
}).strict();

/**
 * The K-shot training sample and, with `validationShot` = V, a validation sample from the same pool: one seeded draw
 * of K + V per class (kShotIndices), its first K per class to train on and the next V to validate on. The draw's
 * first K are exactly kShotIndices(…, K, seed), so adding a validation split leaves the training sample unchanged.
 */
export function fewShotSplits(pool: Split, classes: number, k: number, validationShot: number | undefined, seed: number): { train: Split; validation: Split | null; trainIndices: Int32Array; validationIndices: Int32Array } {
  const v = validationShot ?? 0;
  const drawn = kShotIndices(pool.labels, classes, k + v, seed);
  const trainIndices = new Int32Array(classes * k);
  const validationIndices = new Int32Array(classes * v);
  for (let c = 0; c < classes; c++) {
    trainIndices.set(drawn.subarray(c * (k + v), c * (k + v) + k), c * k);
    validationIndices.set(drawn.subarray(c * (k + v) + k, (c + 1) * (k + v)), c * v);
  }
  return { train: subsetSplit(pool, trainIndices), validation: v > 0 ? subsetSplit(pool, validationIndices) : null, trainIndices, validationIndices };
}

export async function runFinetune(config: ResolvedRunConfig, ctx: RunContext): Promise<RunMetrics> {
  const p = finetuneParamsSchema.parse(config.params);
  const { train: trainRun } = await import('../../node/train.js');
  const { loadDataset } = await import('../../node/data/load.js');
  const { selectClasses } = await import('../../core/data/splits.js');
  const { parseModelSpec } = await import('../../core/nn/models.js');
  const ds = await loadDataset(p.dataset);
  if (p.validationShot !== undefined && p.kShot === undefined) throw new UserError('validationShot needs kShot (the validation sample is drawn with the K-shot one)', 'params.validationShot');
  const pool = selectClasses(ds.train, p.classes);
  const few = p.kShot === undefined ? null : fewShotSplits(pool, p.classes.length, p.kShot, p.validationShot, config.seed);
  const train = few?.train ?? pool;
  const test = few?.validation ?? selectClasses(ds.test, p.classes);
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
    ...engineHooks(ctx, total * config.svag, few?.validation == null ? 'test' : 'valid'),
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
