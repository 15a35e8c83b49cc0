/**
 * The one training engine: a `Trainer` holds a model, its optimizer state, the seeded data order and the input
 * transform, and advances one optimizer step at a time. `trainOnData` (train.ts) is a loop over it; the advisor's
 * probe (src/core/advisor/probe.ts) draws gradients from it and steps its own optimizers.
 *
 * Seeds: `seed` feeds one root generator whose first two draws seed the model initialisation and the data order,
 * so the same seed, data and kernel thread count give bit-identical losses.
 *
 * SVAG (the paper's Def. 5.1): each step draws two independent minibatches, ĝ = r₁g¹ + r₂g² (`svagCombine`), runs at
 * lr/ℓ for ℓ× the steps with the schedule stretched ×ℓ (`svagPlan`). With ℓ = 1 a step uses one batch (r₂ = 0).
 * One "epoch" of history is stepsPerEpoch·ℓ steps, so curves for different ℓ line up in continuous time.
 */
import { float32Backend, type Backend, type Buf } from '../engine/backend.js';
import {
  initOptimizer, learningRateAt, optimizerStep, svagCombine, svagPlan, validateOptimizerConfig,
  type OptimizerConfig, type OptimizerState,
} from '../optim/index.js';
import { fastOptimizerStep } from '../engine/kernels/optimizer-step.js';
import { BatchStream, type BatchStreamState } from '../data/batches.js';
import { channelsOf, type Dataset, type Split } from '../data/dataset.js';
import { gatherBatch } from '../data/splits.js';
import { channelStats, identityStats, standardization, type ChannelStats, type InputTransform } from '../data/transforms.js';
import { check } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { buildModel, parseModelSpec, type Model, type ModelSpec } from './models.js';

export interface TrainerOptions {
  model: ModelSpec | string;
  optimizer: OptimizerConfig;
  data: Dataset;
  /** Minibatch size (the probe: the largest batch it will draw). */
  batch: number;
  seed: number;
  /** Draw the model's and the data order's seeds from this generator instead of Rng(seed); the caller draws on. */
  rng?: Rng;
  /** SVAG level ℓ ≥ 1 (integer); 1 = the plain optimizer. */
  svag?: number;
  /** Passes over the training split (the budget, before SVAG scaling); absent: no budget but `maxSteps`. */
  epochs?: number;
  /** Stop after this many optimizer steps (after SVAG scaling). */
  maxSteps?: number;
  /**
   * 'standardize' (default): x ← (x − mean_c)/std_c with the per-channel statistics of the training split
   * (torchvision's Normalize), applied as batches are gathered; 'raw': [0, 1] pixels.
   */
  inputs?: 'standardize' | 'raw';
  /** How the standardisation's shift is computed (see `standardization`); default 'divide'. */
  shift?: 'divide' | 'reciprocal';
  /** Data order (see `SamplingMode`): 'epoch' (default, last partial batch dropped) or 'stream'. */
  sampling?: 'epoch' | 'stream';
  backend?: Backend;
  /** Start from these parameters instead of the seeded initialisation (fine-tuning); length must match the model. */
  initParams?: Float32Array | Float64Array;
  /** Non-trainable state to start from (BatchNorm running mean/var, in `stateBuffers` order); lengths must match. */
  initState?: (Float32Array | Float64Array)[];
  /** Also call a step diverged when its loss exceeds this factor × the first step's loss. */
  divergenceFactor?: number;
  /** Evaluate on the test split after every epoch (default true); the last step's epoch is always evaluated. */
  evalEveryEpoch?: boolean;
  /** Limit the test split to its first n samples (default: all). */
  testLimit?: number;
}

export interface EpochMetrics {
  epoch: number;
  step: number;
  /** Mean of the minibatch training losses of this epoch (train mode, before each step's update). */
  trainLoss: number;
  testLoss: number | null;
  testAccuracy: number | null;
  seconds: number;
}

/**
 * Everything a run needs to continue bit-identically after step `step`: parameters, BatchNorm running statistics,
 * the states of the model's layer-private generators (dropout masks), optimizer state (momentum buffer and step
 * count), the data-order position and the epoch accumulators.
 * Buffers are views of the live run; copy or serialise them before the next step.
 */
export interface TrainSnapshot {
  step: number;
  params: Float32Array | Float64Array;
  modelState: (Float32Array | Float64Array)[];
  /**
   * `Rng.getState()` of each generator of `model.net.generators()`, in that order. Absent in checkpoints written
   * without generator states; such a snapshot resumes only a model that draws nothing.
   */
  generatorStates?: number[][];
  optimizer: OptimizerState;
  stream: BatchStreamState;
  history: EpochMetrics[];
  epochLossSum: number;
  epochLossCount: number;
  trainSeconds: number;
  samples: number;
  /** Loss of step 0, the reference of `divergenceFactor`. */
  firstLoss: number;
}

/** What one `Trainer.step()` did. */
export interface StepOutcome {
  step: number;
  loss: number;
  lr: number;
  diverged: boolean;
  /** The epoch this step completed (with its evaluation), or null. */
  epoch: EpochMetrics | null;
}

/** Optimizer steps of a run of `epochs` over n examples at batch B (before SVAG scaling): ⌊epochs·⌊n/B⌋⌋. */
export function budgetSteps(n: number, batch: number, epochs: number): number {
  return Math.floor(epochs * Math.floor(n / batch));
}

export class Trainer {
  readonly spec: ModelSpec;
  readonly model: Model;
  readonly backend: Backend;
  readonly data: Dataset;
  readonly batch: number;
  readonly svag: number;
  readonly inputs: 'standardize' | 'raw';
  readonly stats: ChannelStats;
  readonly transform: InputTransform | null;
  /** The optimizer as run: lr and schedule after SVAG scaling. */
  readonly optimizer: OptimizerConfig;
  readonly stepsPerEpoch: number;
  /** Steps in one SVAG-stretched epoch and in the whole run. */
  readonly epochSteps: number;
  readonly totalSteps: number;
  /** The current minibatch: inputs (transform applied) and labels. */
  readonly x: Buf;
  readonly labels: Int32Array;
  readonly state: OptimizerState;
  private readonly stream: BatchStream;
  private readonly g1: Float32Array | null;
  private readonly factor: number | undefined;
  private readonly evalEvery: boolean;
  private readonly testLimit: number | undefined;
  private k = 0;
  private history: EpochMetrics[] = [];
  private epochLossSum = 0;
  private epochLossCount = 0;
  private trainSeconds = 0;
  private samples = 0;
  private firstLoss = NaN;
  private epochStart = performance.now();
  private rows: Int32Array;
  diverged = false;
  divergedAtStep: number | null = null;
  lastTrainLoss = NaN;

  constructor(o: TrainerOptions) {
    this.backend = o.backend ?? float32Backend();
    this.spec = typeof o.model === 'string' ? parseModelSpec(o.model) : o.model;
    this.data = o.data;
    this.svag = o.svag ?? 1;
    const root = o.rng ?? new Rng(o.seed);
    const model = buildModel(this.spec, { inShape: o.data.shape, classes: o.data.classes, seed: root.nextU32(), backend: this.backend });
    this.model = model;
    if (o.initParams !== undefined) {
      check(o.initParams.length === model.store.size, 'initParams', `has ${o.initParams.length} values but the model has ${model.store.size} parameters (a checkpoint of another model?)`);
      model.store.params.set(o.initParams);
    }
    if (o.initState !== undefined) {
      const bufs = model.net.stateBuffers();
      check(o.initState.length === bufs.length && o.initState.every((b, i) => b.length === bufs[i]!.length), 'initState',
        `does not match the model's ${bufs.length} state buffers (a checkpoint of another model?)`);
      bufs.forEach((b, i) => b.set(o.initState![i]!));
    }
    this.inputs = o.inputs ?? 'standardize';
    const C = channelsOf(o.data.shape);
    const train = o.data.train;
    this.stats = this.inputs === 'standardize' ? channelStats(train, C) : identityStats(C);
    this.transform = this.inputs === 'standardize' ? standardization(this.stats, model.inputSize / C, o.shift ?? 'divide') : null;
    const B = o.batch;
    this.batch = B;
    const sampling = o.sampling ?? 'epoch';
    if (sampling === 'epoch') check(train.n >= B, 'batch', `batch ${B} is larger than the training split (${train.n} samples)`);
    this.stream = new BatchStream({ n: train.n, batchSize: B, seed: root.nextU32(), mode: sampling, dropLast: sampling === 'epoch' });
    model.setup(B);
    this.x = this.backend.alloc(B * model.inputSize);
    this.labels = new Int32Array(B);
    this.rows = new Int32Array(0);

    this.stepsPerEpoch = Math.floor(train.n / B);
    const budget = o.epochs === undefined ? Infinity : budgetSteps(train.n, B, o.epochs);
    const plan = svagPlan({ lr: o.optimizer.lr, steps: budget, schedule: o.optimizer.schedule }, this.svag);
    this.optimizer = validateOptimizerConfig({ ...o.optimizer, lr: plan.lr, schedule: plan.schedule });
    this.totalSteps = Math.min(plan.steps, o.maxSteps ?? Infinity);
    this.epochSteps = this.stepsPerEpoch * this.svag;
    this.state = initOptimizer(this.optimizer, model.store.size, 'float32');
    this.g1 = this.svag > 1 ? new Float32Array(model.store.grads.length) : null;
    this.factor = o.divergenceFactor;
    check(this.factor === undefined || this.factor > 1, 'divergenceFactor', `must be > 1, got ${this.factor}`);
    this.evalEvery = o.evalEveryEpoch ?? true;
    this.testLimit = o.testLimit;
  }

  /** Optimizer steps taken so far. */
  get stepsTaken(): number {
    return this.k;
  }

  /** The run has taken its last step or diverged. */
  get done(): boolean {
    return this.diverged || this.k >= this.totalSteps;
  }

  /** The evaluated epochs so far. */
  get epochHistory(): readonly EpochMetrics[] {
    return this.history;
  }

  /** Training samples seen and the seconds spent in `step()` (gradients and updates, not evaluation). */
  get throughput(): { samples: number; seconds: number } {
    return { samples: this.samples, seconds: this.trainSeconds };
  }

  /** Draws the next `count` training samples into `x`/`labels` and fills the model's gradient; returns the loss. */
  gradient(count = this.batch): number {
    const idx = this.stream.next(count);
    gatherBatch(this.data.train, idx, count, this.x, this.labels, this.transform);
    return this.model.lossAndGrad(this.x, this.labels, count);
  }

  /** One optimizer step (two minibatches under SVAG); evaluates when it completes an epoch. */
  step(): StepOutcome {
    const k = this.k, B = this.batch;
    const t0 = performance.now();
    const grads = this.model.store.grads;
    let loss = this.gradient();
    if (this.g1 !== null) {
      this.g1.set(grads);
      loss = 0.5 * (loss + this.gradient());
      svagCombine(this.g1, grads, this.svag, grads);
      this.samples += B;
    }
    this.samples += B;
    if (k === 0) this.firstLoss = loss;
    const lr = learningRateAt(this.optimizer.lr, this.optimizer.schedule, k);
    if (!Number.isFinite(loss) || (this.factor !== undefined && loss > this.factor * this.firstLoss)) {
      this.trainSeconds += (performance.now() - t0) / 1000;
      this.diverged = true;
      this.divergedAtStep = k;
      if (this.epochLossCount > 0) this.lastTrainLoss = this.epochLossSum / this.epochLossCount;
      return { step: k, loss, lr, diverged: true, epoch: null };
    }
    const kernels = this.backend.kernels, params = this.model.store.params;
    // bit-identical to optimizerStep; the WebAssembly path for plain heavy-ball SGDM
    if (kernels !== null) fastOptimizerStep(kernels, this.optimizer, params, grads, this.state); else optimizerStep(this.optimizer, params, grads, this.state);
    this.trainSeconds += (performance.now() - t0) / 1000;
    this.epochLossSum += loss;
    this.epochLossCount++;
    this.k = k + 1;
    let epoch: EpochMetrics | null = null;
    if (this.k % this.epochSteps === 0 || this.k === this.totalSteps) {
      this.lastTrainLoss = this.epochLossSum / this.epochLossCount;
      const ev = this.evalEvery || this.k === this.totalSteps ? this.evaluate(this.data.test, this.testLimit) : null;
      epoch = {
        epoch: Math.ceil(this.k / this.epochSteps), step: this.k, trainLoss: this.lastTrainLoss,
        testLoss: ev?.loss ?? null, testAccuracy: ev?.accuracy ?? null, seconds: (performance.now() - this.epochStart) / 1000,
      };
      this.history.push(epoch);
      this.epochLossSum = 0; this.epochLossCount = 0; this.epochStart = performance.now();
    }
    return { step: k, loss, lr, diverged: false, epoch };
  }

  /** Mean loss and accuracy of the model (eval mode) on the first `limit` samples of a split, the transform applied. */
  evaluate(split: Split, limit = split.n): { loss: number; accuracy: number } {
    const cap = this.model.capacity, n = Math.min(limit, split.n);
    if (this.rows.length < cap) this.rows = new Int32Array(cap);
    const rows = this.rows;
    let lossSum = 0, correct = 0;
    for (let s = 0; s < n; s += cap) {
      const m = Math.min(cap, n - s);
      for (let i = 0; i < m; i++) rows[i] = s + i;
      gatherBatch(split, rows, m, this.x, this.labels, this.transform);
      const r = this.model.evaluate(this.x, this.labels, m);
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { loss: lossSum / n, accuracy: correct / n };
  }

  /** The run's state after the last step (views of the live buffers). */
  snapshot(): TrainSnapshot {
    return {
      step: this.k, params: this.model.store.params, modelState: this.model.net.stateBuffers(),
      generatorStates: this.model.net.generators().map((g) => g.getState()),
      optimizer: this.state, stream: this.stream.getState(),
      history: this.history, epochLossSum: this.epochLossSum, epochLossCount: this.epochLossCount,
      trainSeconds: this.trainSeconds, samples: this.samples, firstLoss: this.firstLoss,
    };
  }

  /** Continues from a snapshot of a run with the same configuration (checked). */
  restore(r: TrainSnapshot): void {
    const params = this.model.store.params, state = this.state;
    const bufs = this.model.net.stateBuffers();
    const generators = this.model.net.generators();
    check(r.params.length === params.length && r.modelState.length === bufs.length && r.modelState.every((b, i) => b.length === bufs[i]!.length),
      'resume', 'the snapshot is of another model');
    check(r.generatorStates !== undefined || generators.length === 0, 'resume',
      `the snapshot holds no generator states but the model has ${generators.length} random layer(s) (dropout); a checkpoint without generator states cannot continue this run exactly`);
    const gs = r.generatorStates ?? [];
    check(gs.length === generators.length && gs.every((g, i) => g.length === generators[i]!.getState().length), 'resume', 'the snapshot is of another model');
    check(r.step === r.optimizer.step && r.step <= this.totalSteps, 'resume', `the snapshot's step ${r.step} does not fit this run (${this.totalSteps} steps)`);
    check((r.optimizer.buffer === null) === (state.buffer === null) && (r.optimizer.buffer?.length ?? 0) === (state.buffer?.length ?? 0), 'resume', 'the snapshot is of another optimizer');
    params.set(r.params);
    bufs.forEach((b, i) => b.set(r.modelState[i]!));
    generators.forEach((g, i) => g.setState(gs[i]!));
    state.step = r.optimizer.step;
    if (state.buffer !== null) state.buffer.set(r.optimizer.buffer!);
    this.stream.setState(r.stream);
    this.history = r.history.map((h) => ({ ...h }));
    ({ epochLossSum: this.epochLossSum, epochLossCount: this.epochLossCount, trainSeconds: this.trainSeconds, samples: this.samples, firstLoss: this.firstLoss } = r);
    this.k = r.step;
  }
}
