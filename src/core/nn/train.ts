/**
 * The training loop: seeded data order, an optimizer from `src/optim` applied to the whole parameter store in
 * one pass, optional SVAG (ℓ), evaluation on the test split after every epoch, clean stop on divergence.
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
  initOptimizer, learningRateAt, optimizerRecord, optimizerStep, stateBytes, svagCombine, svagPlan,
  validateOptimizerConfig, type OptimizerConfig, type OptimizerState,
} from '../optim/index.js';
import { openHostKernels } from '../engine/kernels/host.js';
import { fastOptimizerStep } from '../engine/kernels/optimizer-step.js';
import { BatchStream, loadDataset, type BatchStreamState } from '../data/index.js';
import { check } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { buildModel, parseModelSpec, type Model, type ModelSpec } from './models.js';

/** The part of a dataset split training needs (structurally `Split` from src/data). */
export interface SplitLike {
  /** n·c·h·w values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array | Uint8Array;
  n: number;
}
export interface DatasetLike {
  name: string;
  shape: readonly number[];
  classes: number;
  train: SplitLike;
  test: SplitLike;
}

export interface TrainConfig {
  /** A dataset name for `loadDataset` (fashion-mnist, mnist, cifar10) or an already loaded dataset. */
  dataset?: string | DatasetLike;
  dataDir?: string;
  cacheDir?: string;
  /** Kernel threads (default: all cores); each run gets its own kernel set. Same threads ⇒ bit-identical runs. */
  threads?: number;
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

export interface EpochMetrics {
  epoch: number;
  step: number;
  /** Mean of the minibatch training losses of this epoch (train mode, before each step's update). */
  trainLoss: number;
  testLoss: number | null;
  testAccuracy: number | null;
  seconds: number;
}

export interface StepInfo {
  step: number; epoch: number; loss: number; lr: number;
  /** Steps in one (SVAG-stretched) epoch and in the whole run. */
  epochSteps: number; totalSteps: number;
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(metrics: EpochMetrics): void;
  /**
   * The trained parameters (a view into the store, valid during the call), e.g. to save pre-trained weights, and
   * the non-trainable state (BatchNorm running statistics, in layer order) that `initState` accepts.
   */
  /** Every `checkpointEvery` steps and after the last step: a snapshot to persist for `resume`. */
  onCheckpoint?(snapshot: TrainSnapshot): void;
  onFinish?(params: Float32Array | Float64Array, state: (Float32Array | Float64Array)[]): void;
}

/**
 * Everything a run needs to continue bit-identically after step `step`: parameters, BatchNorm running statistics,
 * the states of the model's layer-private generators (dropout masks), optimizer state (momentum buffer and step
 * count), the data-order position and the epoch accumulators.
 * Buffers are views valid during the `onCheckpoint` call; copy or serialise them there.
 */
export interface TrainSnapshot {
  step: number;
  params: Float32Array | Float64Array;
  modelState: (Float32Array | Float64Array)[];
  /**
   * `Rng.getState()` of each generator of `model.net.generators()`, in that order. Absent in checkpoints written
   * before generator states were saved; such a snapshot resumes only a model that draws nothing.
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

/** Per-channel affine input transform x·scale_c + shift_c (identity for 'raw'). */
export interface InputTransform { scale: Float64Array; shift: Float64Array; planeSize: number }

/** Per-channel mean and population std of a split (float64 sums), as torchvision computes Normalize constants. */
export function channelMeanStd(split: SplitLike, channels: number): { mean: number[]; std: number[] } {
  const per = split.images.length / split.n, hw = per / channels;
  const sum = new Float64Array(channels), sq = new Float64Array(channels);
  for (let i = 0; i < split.n; i++) for (let c = 0; c < channels; c++) {
    let s = 0, s2 = 0;
    const o = i * per + c * hw;
    for (let p = 0; p < hw; p++) { const v = split.images[o + p]!; s += v; s2 += v * v; }
    sum[c] += s; sq[c] += s2;
  }
  const count = split.n * hw;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s2, c) => Math.sqrt(Math.max(s2 / count - mean[c]! * mean[c]!, 0)));
  return { mean, std };
}

export function inputTransform(mean: readonly number[], std: readonly number[], planeSize: number): InputTransform {
  return {
    scale: Float64Array.from(std, (s) => (s > 0 ? 1 / s : 1)),
    shift: Float64Array.from(mean, (m, c) => (std[c]! > 0 ? -m / std[c]! : -m)),
    planeSize,
  };
}

/** dst[d0 …] = transform(src[s0 … s0+len)) for one sample (len = channels·planeSize). */
function gatherSample(src: Float32Array, s0: number, dst: Buf, d0: number, len: number, t: InputTransform | null): void {
  if (t === null) { dst.set(src.subarray(s0, s0 + len), d0); return; }
  const P = t.planeSize, C = len / P;
  for (let c = 0; c < C; c++) {
    const a = t.scale[c]!, b = t.shift[c]!, o = c * P;
    for (let j = 0; j < P; j++) dst[d0 + o + j] = src[s0 + o + j]! * a + b;
  }
}

/** Seeded minibatch order: a fresh permutation per pass, batches of exactly `batch` (the remainder is dropped). */
/**
 * Training minibatches: the sample order of src/data's replayable `BatchStream` (a seeded permutation per epoch,
 * last partial batch dropped), gathered into the model's input buffer with the input transform applied.
 */
export class TrainBatches {
  private readonly order: BatchStream;
  private readonly sampleSize: number;
  constructor(private readonly split: SplitLike, readonly batch: number, seed: number, private readonly transform: InputTransform | null = null) {
    check(split.n >= batch, 'batch', `batch ${batch} is larger than the training split (${split.n} samples)`);
    this.sampleSize = split.images.length / split.n;
    this.order = new BatchStream({ n: split.n, batchSize: batch, seed, mode: 'epoch', dropLast: true });
  }
  getState(): BatchStreamState {
    return this.order.getState();
  }
  setState(st: BatchStreamState): void {
    this.order.setState(st);
  }
  next(x: Buf, labels: Int32Array): void {
    const idx = this.order.next();
    const S = this.sampleSize, imgs = this.split.images, lab = this.split.labels;
    for (let i = 0; i < this.batch; i++) {
      const j = idx[i]!;
      gatherSample(imgs, j * S, x, i * S, S, this.transform);
      labels[i] = lab[j]!;
    }
  }
}

/** Mean loss and accuracy of `model` (eval mode) on the first `limit` samples of a split. */
export function evaluate(model: Model, split: SplitLike, x: Buf, labels: Int32Array, limit = split.n, transform: InputTransform | null = null): { loss: number; accuracy: number } {
  const cap = model.capacity, S = model.inputSize, n = Math.min(limit, split.n);
  let lossSum = 0, correct = 0;
  for (let s = 0; s < n; s += cap) {
    const m = Math.min(cap, n - s);
    for (let i = 0; i < m; i++) gatherSample(split.images, (s + i) * S, x, i * S, S, transform);
    for (let i = 0; i < m; i++) labels[i] = split.labels[s + i]!;
    const r = model.evaluate(x, labels, m);
    lossSum += r.lossSum;
    correct += r.correct;
  }
  return { loss: lossSum / n, accuracy: correct / n };
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
/** Optimizer steps of a run of `epochs` over n examples at batch B (before SVAG scaling): ⌊epochs·⌊n/B⌋⌋. */
export function budgetSteps(n: number, batch: number, epochs: number): number {
  return Math.floor(epochs * Math.floor(n / batch));
}

export function trainOnData(config: TrainConfig, data: DatasetLike, opts: TrainOptions = {}): TrainResult {
  validateTrainConfig(config);
  const backend = opts.backend ?? float32Backend();
  const hooks = opts.hooks ?? {};
  const spec = typeof config.model === 'string' ? parseModelSpec(config.model) : config.model;
  const l = config.svag ?? 1;
  const root = new Rng(config.seed);
  const model = buildModel(spec, { inShape: data.shape, classes: data.classes, seed: root.nextU32(), backend });
  if (config.initParams !== undefined) {
    check(config.initParams.length === model.store.size, 'initParams', `has ${config.initParams.length} values but the model has ${model.store.size} parameters (a checkpoint of another model?)`);
    model.store.params.set(config.initParams);
  }
  if (config.initState !== undefined) {
    const bufs = model.net.stateBuffers();
    check(config.initState.length === bufs.length && config.initState.every((b, i) => b.length === bufs[i]!.length), 'initState',
      `does not match the model's ${bufs.length} state buffers (a checkpoint of another model?)`);
    bufs.forEach((b, i) => b.set(config.initState![i]!));
  }
  const inputs = config.inputs ?? 'standardize';
  const C = data.shape.length === 3 ? data.shape[0]! : 1;
  const stats = inputs === 'standardize' ? channelMeanStd(data.train, C) : { mean: new Array<number>(C).fill(0), std: new Array<number>(C).fill(1) };
  const transform = inputs === 'standardize' ? inputTransform(stats.mean, stats.std, model.inputSize / C) : null;
  const stream = new TrainBatches(data.train, config.batch, root.nextU32(), transform);
  const B = config.batch;
  model.setup(B);
  const x = backend.alloc(B * model.inputSize);
  const labels = new Int32Array(B);

  const stepsPerEpoch = Math.floor(data.train.n / B);
  const plan = svagPlan({ lr: config.optimizer.lr, steps: budgetSteps(data.train.n, B, config.epochs), schedule: config.optimizer.schedule }, l);
  const opt = validateOptimizerConfig({ ...config.optimizer, lr: plan.lr, schedule: plan.schedule });
  const totalSteps = Math.min(plan.steps, config.maxSteps ?? Infinity);
  const epochSteps = stepsPerEpoch * l;
  const state = initOptimizer(opt, model.store.size, 'float32');
  const params = model.store.params, grads = model.store.grads;
  const g1 = l > 1 ? new Float32Array(grads.length) : null;
  const kernels = backend.kernels;

  const history: EpochMetrics[] = [];
  let diverged = false, divergedAtStep: number | null = null;
  let trainSeconds = 0, samples = 0, epochLossSum = 0, epochLossCount = 0, lastTrainLoss = NaN;
  let epochStart = performance.now();
  const evalEvery = config.evalEveryEpoch ?? true;
  const every = config.checkpointEvery ?? 0;
  check(Number.isInteger(every) && every >= 0, 'checkpointEvery', `must be an integer ≥ 0, got ${every}`);
  let start = 0;
  let firstLoss = NaN;
  const factor = config.divergenceFactor;
  check(factor === undefined || factor > 1, 'divergenceFactor', `must be > 1, got ${factor}`);
  const r = config.resume;
  const generators = model.net.generators();
  if (r !== undefined) {
    const bufs = model.net.stateBuffers();
    check(r.params.length === params.length && r.modelState.length === bufs.length && r.modelState.every((b, i) => b.length === bufs[i]!.length),
      'resume', 'the snapshot is of another model');
    check(r.generatorStates !== undefined || generators.length === 0, 'resume',
      `the snapshot holds no generator states but the model has ${generators.length} random layer(s) (dropout); a checkpoint written before generator states were saved cannot continue this run exactly`);
    const gs = r.generatorStates ?? [];
    check(gs.length === generators.length && gs.every((g, i) => g.length === generators[i]!.getState().length), 'resume', 'the snapshot is of another model');
    check(r.step === r.optimizer.step && r.step <= totalSteps, 'resume', `the snapshot's step ${r.step} does not fit this run (${totalSteps} steps)`);
    check((r.optimizer.buffer === null) === (state.buffer === null) && (r.optimizer.buffer?.length ?? 0) === (state.buffer?.length ?? 0), 'resume', 'the snapshot is of another optimizer');
    params.set(r.params);
    bufs.forEach((b, i) => b.set(r.modelState[i]!));
    generators.forEach((g, i) => g.setState(gs[i]!));
    state.step = r.optimizer.step;
    if (state.buffer !== null) state.buffer.set(r.optimizer.buffer!);
    stream.setState(r.stream);
    history.push(...r.history.map((h) => ({ ...h })));
    ({ epochLossSum, epochLossCount, trainSeconds, samples, firstLoss } = r);
    start = r.step;
  }

  for (let k = start; k < totalSteps; k++) {
    const t0 = performance.now();
    stream.next(x, labels);
    let loss = model.lossAndGrad(x, labels, B);
    if (g1 !== null) {
      g1.set(grads);
      stream.next(x, labels);
      loss = 0.5 * (loss + model.lossAndGrad(x, labels, B));
      svagCombine(g1, grads, l, grads);
      samples += B;
    }
    samples += B;
    if (k === 0) firstLoss = loss;
    if (!Number.isFinite(loss) || (factor !== undefined && loss > factor * firstLoss)) {
      trainSeconds += (performance.now() - t0) / 1000;
      diverged = true;
      divergedAtStep = k;
      break;
    }
    // bit-identical to optimizerStep; the WebAssembly path for plain heavy-ball SGDM
    if (kernels !== null) fastOptimizerStep(kernels, opt, params, grads, state); else optimizerStep(opt, params, grads, state);
    trainSeconds += (performance.now() - t0) / 1000;
    epochLossSum += loss;
    epochLossCount++;
    if (hooks.onStep !== undefined) hooks.onStep({ step: k, epoch: Math.floor(k / epochSteps), loss, lr: learningRateAt(opt.lr, opt.schedule, k), epochSteps, totalSteps });
    const endOfEpoch = (k + 1) % epochSteps === 0 || k + 1 === totalSteps;
    if (endOfEpoch) {
      lastTrainLoss = epochLossSum / epochLossCount;
      const last = k + 1 === totalSteps;
      const ev = evalEvery || last ? evaluate(model, data.test, x, labels, config.testLimit, transform) : null;
      const m: EpochMetrics = {
        epoch: Math.ceil((k + 1) / epochSteps), step: k + 1, trainLoss: lastTrainLoss,
        testLoss: ev?.loss ?? null, testAccuracy: ev?.accuracy ?? null, seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(m);
      hooks.onEpoch?.(m);
      epochLossSum = 0; epochLossCount = 0; epochStart = performance.now();
    }
    if (every > 0 && ((k + 1) % every === 0 || k + 1 === totalSteps) && hooks.onCheckpoint !== undefined) {
      hooks.onCheckpoint({
        step: k + 1, params, modelState: model.net.stateBuffers(), generatorStates: generators.map((g) => g.getState()),
        optimizer: state, stream: stream.getState(),
        history, epochLossSum, epochLossCount, trainSeconds, samples, firstLoss,
      });
    }
  }
  let testLoss = NaN, testAccuracy = NaN;
  if (!diverged) {
    const lastEval = history[history.length - 1];
    testLoss = lastEval?.testLoss ?? NaN;
    testAccuracy = lastEval?.testAccuracy ?? NaN;
  } else if (epochLossCount > 0) {
    lastTrainLoss = epochLossSum / epochLossCount;
  }
  if (!diverged) hooks.onFinish?.(params, model.net.stateBuffers());
  return {
    dataset: data.name, model: spec, parameters: model.store.size, kernels: backend.name, seed: config.seed,
    batch: B, epochs: config.epochs, svag: l, steps: diverged ? divergedAtStep! : totalSteps, stepsPerEpoch,
    testAccuracy, testLoss, trainLoss: lastTrainLoss,
    samplesPerSec: trainSeconds > 0 ? samples / trainSeconds : 0, trainSeconds,
    diverged, divergedAtStep, history,
    optimizerRecord: { ...optimizerRecord(opt), svag: l, baseLr: config.optimizer.lr },
    optimizerStateBytes: stateBytes(state),
    dataOrder: 'seeded permutation per pass, last partial batch dropped',
    inputs: { transform: inputs, ...stats },
  };
}

/** A synthetic classification set (Gaussian class prototypes + noise, clipped to [0, 1]) for tests and offline use. */
export function syntheticDataset(opts: { shape: readonly number[]; classes: number; train: number; test: number; seed: number; noise?: number }): DatasetLike {
  const rng = new Rng(opts.seed);
  const S = opts.shape.reduce((a, b) => a * b, 1);
  const protos = Array.from({ length: opts.classes }, () => Float32Array.from({ length: S }, () => rng.uniform()));
  const noise = opts.noise ?? 0.3;
  const make = (n: number): SplitLike => {
    const images = new Float32Array(n * S), labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(opts.classes);
      labels[i] = c;
      for (let j = 0; j < S; j++) images[i * S + j] = Math.min(1, Math.max(0, protos[c]![j]! + noise * rng.normal()));
    }
    return { images, labels, n };
  };
  return { name: 'synthetic', shape: [...opts.shape], classes: opts.classes, train: make(opts.train), test: make(opts.test) };
}

/**
 * The programmatic entry point (used by the CLI and the experiment runner): loads `config.dataset`, picks the fast
 * kernels (WebAssembly SIMD, reference TypeScript if not built), trains, evaluates, and returns the metrics.
 */
export async function train(config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  validateTrainConfig(config);
  const ds = config.dataset ?? 'fashion-mnist';
  const data: DatasetLike = typeof ds === 'string'
    ? await loadDataset(ds, { ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}), ...(config.cacheDir !== undefined ? { cacheDir: config.cacheDir } : {}) })
    : ds;
  const { kernels, owned } = await openHostKernels({ threads: config.threads });
  try {
    return trainOnData(config, data, { backend: float32Backend(kernels), hooks });
  } finally {
    if (owned) kernels.dispose();
  }
}

