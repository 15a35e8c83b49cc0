/**
 * `trainOnData`: a whole run as a loop over a `Trainer` (trainer.ts) — optimizer steps, evaluation on the test split
 * after every epoch, checkpoints, a clean stop on divergence — and its result record. Loading a dataset by name and
 * opening kernels is the host's part (src/node/train.ts `train`).
 */
import type { Backend } from '../engine/backend.js';
import { optimizerRecord, stateBytes, validateOptimizerConfig, type OptimizerConfig } from '../optim/index.js';
import type { Dataset } from '../data/dataset.js';
import { check } from '../util/errors.js';
import type { ModelSpec } from './models.js';
import { Trainer, type EpochMetrics, type TrainSnapshot } from './trainer.js';

export { budgetSteps, type EpochMetrics, type TrainSnapshot } from './trainer.js';

export interface TrainConfig {
  model: ModelSpec | string;
  optimizer: OptimizerConfig;
  batch: number;
  epochs: number;
  seed: number;
  /** SVAG level ℓ ≥ 1 (integer); 1 = the plain optimizer. */
  svag?: number;
  /** Stop after this many optimizer steps (after SVAG scaling); for smoke tests and benchmarks. */
  maxSteps?: number;
  /** Evaluate on the test split after every epoch (default true); the final evaluation always runs. */
  evalEveryEpoch?: boolean;
  /** Limit the test split to its first n samples (default: all). */
  testLimit?: number;
  /**
   * 'standardize' (default): x ← (x − mean_c)/std_c with the per-channel statistics of the training split
   * (torchvision's Normalize), applied to train and test batches as they are gathered; 'raw': [0, 1] pixels.
   */
  inputs?: 'standardize' | 'raw';
  /** Continue an interrupted run from a snapshot taken by `onCheckpoint` of a run with the same config. */
  resume?: TrainSnapshot;
  /**
   * Also call the run diverged when a minibatch loss exceeds this factor × the first step's loss (the sweep runner's
   * `divergence.factor`); absent: only a non-finite loss counts.
   */
  divergenceFactor?: number;
  /** Call `hooks.onCheckpoint` every this many optimizer steps (0 or absent: never). */
  checkpointEvery?: number;
  /** Start from these parameters instead of the seeded initialisation (fine-tuning); length must match the model. */
  initParams?: Float32Array | Float64Array;
  /** Non-trainable state to start from (BatchNorm running mean/var, in `onFinish`'s order); lengths must match. */
  initState?: (Float32Array | Float64Array)[];
}

export interface StepInfo {
  step: number; epoch: number; loss: number; lr: number;
  /** Steps in one (SVAG-stretched) epoch and in the whole run. */
  epochSteps: number; totalSteps: number;
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(metrics: EpochMetrics): void;
  /** Every `checkpointEvery` steps and after the last step: a snapshot to persist for `resume` (views: copy them). */
  onCheckpoint?(snapshot: TrainSnapshot): void;
  /**
   * The trained parameters (a view into the store, valid during the call), e.g. to save pre-trained weights, and
   * the non-trainable state (BatchNorm running statistics, in layer order) that `initState` accepts.
   */
  onFinish?(params: Float32Array | Float64Array, state: (Float32Array | Float64Array)[]): void;
}

export interface TrainResult {
  dataset: string;
  model: ModelSpec;
  parameters: number;
  kernels: string;
  seed: number;
  batch: number;
  epochs: number;
  svag: number;
  steps: number;
  stepsPerEpoch: number;
  testAccuracy: number;
  testLoss: number;
  trainLoss: number;
  samplesPerSec: number;
  trainSeconds: number;
  diverged: boolean;
  divergedAtStep: number | null;
  history: EpochMetrics[];
  optimizerRecord: Record<string, unknown>;
  optimizerStateBytes: number;
  dataOrder: string;
  inputs: { transform: 'standardize' | 'raw'; mean: number[]; std: number[] };
}

export interface TrainOptions {
  backend?: Backend;
  hooks?: TrainHooks;
}

export function validateTrainConfig(c: TrainConfig): void {
  check(Number.isInteger(c.batch) && c.batch >= 1, 'batch', `must be a positive integer, got ${c.batch}`);
  check(Number.isInteger(c.epochs) && c.epochs >= 1, 'epochs', `must be a positive integer, got ${c.epochs}`);
  check(Number.isInteger(c.seed) && c.seed >= 0, 'seed', `must be an integer ≥ 0, got ${c.seed}`);
  const l = c.svag ?? 1;
  check(Number.isInteger(l) && l >= 1, 'svag', `SVAG level ℓ must be an integer ≥ 1, got ${l}`);
  check(c.inputs === undefined || c.inputs === 'standardize' || c.inputs === 'raw', 'inputs', `must be "standardize" or "raw", got ${JSON.stringify(c.inputs)}`);
  if (c.maxSteps !== undefined) check(Number.isInteger(c.maxSteps) && c.maxSteps >= 1, 'maxSteps', `must be a positive integer, got ${c.maxSteps}`);
  validateOptimizerConfig(c.optimizer);
}

/** Trains `config.model` on `data` with the given backend and evaluates it; never throws on divergence (reports it). */
export function trainOnData(config: TrainConfig, data: Dataset, opts: TrainOptions = {}): TrainResult {
  validateTrainConfig(config);
  const hooks = opts.hooks ?? {};
  const t = new Trainer({
    model: config.model, optimizer: config.optimizer, data, batch: config.batch, seed: config.seed, epochs: config.epochs,
    ...(config.svag !== undefined ? { svag: config.svag } : {}),
    ...(config.maxSteps !== undefined ? { maxSteps: config.maxSteps } : {}),
    ...(config.inputs !== undefined ? { inputs: config.inputs } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    ...(config.initParams !== undefined ? { initParams: config.initParams } : {}),
    ...(config.initState !== undefined ? { initState: config.initState } : {}),
    ...(config.divergenceFactor !== undefined ? { divergenceFactor: config.divergenceFactor } : {}),
    ...(config.evalEveryEpoch !== undefined ? { evalEveryEpoch: config.evalEveryEpoch } : {}),
    ...(config.testLimit !== undefined ? { testLimit: config.testLimit } : {}),
  });
  const every = config.checkpointEvery ?? 0;
  check(Number.isInteger(every) && every >= 0, 'checkpointEvery', `must be an integer ≥ 0, got ${every}`);
  if (config.resume !== undefined) t.restore(config.resume);
  while (!t.done) {
    const s = t.step();
    if (s.diverged) break;
    hooks.onStep?.({ step: s.step, epoch: Math.floor(s.step / t.epochSteps), loss: s.loss, lr: s.lr, epochSteps: t.epochSteps, totalSteps: t.totalSteps });
    if (s.epoch !== null) hooks.onEpoch?.(s.epoch);
    if (every > 0 && (t.stepsTaken % every === 0 || t.stepsTaken === t.totalSteps) && hooks.onCheckpoint !== undefined) hooks.onCheckpoint(t.snapshot());
  }
  const lastEval = t.epochHistory[t.epochHistory.length - 1];
  const diverged = t.diverged;
  if (!diverged) hooks.onFinish?.(t.model.store.params, t.model.net.stateBuffers());
  const { samples, seconds } = t.throughput;
  return {
    dataset: data.name, model: t.spec, parameters: t.model.store.size, kernels: t.backend.name, seed: config.seed,
    batch: t.batch, epochs: config.epochs, svag: t.svag, steps: diverged ? t.divergedAtStep! : t.totalSteps, stepsPerEpoch: t.stepsPerEpoch,
    testAccuracy: diverged ? NaN : lastEval?.testAccuracy ?? NaN, testLoss: diverged ? NaN : lastEval?.testLoss ?? NaN, trainLoss: t.lastTrainLoss,
    samplesPerSec: seconds > 0 ? samples / seconds : 0, trainSeconds: seconds,
    diverged, divergedAtStep: t.divergedAtStep, history: [...t.epochHistory],
    optimizerRecord: { ...optimizerRecord(t.optimizer), svag: t.svag, baseLr: config.optimizer.lr },
    optimizerStateBytes: stateBytes(t.state),
    dataOrder: 'seeded permutation per pass, last partial batch dropped',
    inputs: { transform: t.inputs, ...t.stats },
  };
}
