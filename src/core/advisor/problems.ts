/**
 * The two problems the advisor probes (`ProbeProblem`, probe.ts): an engine model on a dataset — float32 training on
 * the one Trainer, Hessian-vector products on a float64 twin of the model because finite differences through ReLU
 * kinks need a step float32 cannot resolve (see `defaultRelativeStep`) — and the T5 linear regression of
 * docs/theory.md §5.5 (float64, exact Hessian).
 */
import { optimizerConfig } from '../optim/sgd.js';
import { float32Backend, float64Backend, type Backend } from '../engine/backend.js';
import { buildModel, modelFamily, type ModelSpec, type Model } from '../nn/models.js';
import { Trainer } from '../nn/trainer.js';
import { BatchStream } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { gatherBatch } from '../data/splits.js';
import { linearRegressionTask, type LinearRegressionOptions } from '../data/synthetic.js';
import { Rng } from '../util/rng.js';
import type { FloatBuffer } from './linalg.js';
import type { GradFn } from './sharpness.js';
import type { ProbeProblem } from './probe.js';

/** Examples in an engine problem's fixed evaluation set (held-out test examples; all of them when fewer). */
export const EVALUATION_SAMPLES = 2048;

/**
 * docs/theory.md §5.5 linear regression (src/data `linearRegressionTask`): L(w) = (1/2n)Σ(x·w − y)², w₀ = 0, float64.
 * The measurement gradient and the evaluation loss are the full-batch ones, so λ_max is that of (1/n)XᵀX (= the
 * spectrum's top, 10 by default).
 */
export function linearRegressionProblem(opts: Partial<LinearRegressionOptions> & { seed: number; samplingSeed?: number }): ProbeProblem {
  const task = linearRegressionTask(opts);
  const { x, y, n } = task.train;
  const d = task.d;
  const params = new Float64Array(d);
  const grads = new Float64Array(d);
  // `seed` draws the task; `samplingSeed` (default: seed) the minibatch order and noise microbatches, so a replicate
  // of the whole-run comparison keeps the task and changes the batches.
  const sampling = opts.samplingSeed ?? opts.seed;
  // One endless sequence of seeded permutations, a batch possibly spanning two of them.
  let train: BatchStream | null = null;
  const noiseRng = new Rng(sampling + 2);
  let idx: Int32Array = new Int32Array(0);
  let last = 0;
  const batchGrad = (w: ArrayLike<number>, rows: Int32Array | null, m: number, out: FloatBuffer): number => {
    out.fill(0);
    let loss = 0;
    for (let r = 0; r < m; r++) {
      const i = rows === null ? r : rows[r]!;
      let res = -y[i]!;
      for (let j = 0; j < d; j++) res += x[i * d + j]! * w[j]!;
      loss += (res * res) / (2 * m);
      for (let j = 0; j < d; j++) out[j] = out[j]! + (x[i * d + j]! * res) / m;
    }
    return loss;
  };
  return {
    name: `linear-regression (d ${d}, n ${n}, spectrum ${JSON.stringify(opts.spectrum ?? [1e-2, 10])}, label noise ${opts.labelNoise ?? 0.5})`,
    params, grads, bytesPerParam: 8,
    trainGrad(batch) {
      train ??= new BatchStream({ n, batchSize: batch, seed: sampling + 1, mode: 'stream' });
      idx = train.next(batch);
      last = batch;
      return batchGrad(params, idx, batch, grads);
    },
    lastBatchGradAt(p, out) {
      return batchGrad(p, idx, last, out);
    },
    measurementGrad() {
      return { grad: (w, out) => batchGrad(w, null, n, out), precision: 'float64' };
    },
    evaluationLoss(p) {
      return batchGrad(p, null, n, new Float64Array(d));
    },
    microbatchGrad(size, out) {
      const rows = new Int32Array(size);
      for (let i = 0; i < size; i++) rows[i] = noiseRng.int(n);
      batchGrad(params, rows, size, out);
    },
  };
}

export interface EngineProblemOptions {
  model: ModelSpec;
  data: Dataset;
  seed: number;
  /** Samples in the fixed measurement batch for λ_max; default 256. */
  measureSamples?: number;
  /** Training backend (float32, WebAssembly kernels when available); the HVP twin is always float64. */
  backend?: Backend;
  maxBatch: number;
  /**
   * Input preprocessing, as `train` does it (src/nn/train.ts): 'standardize' (default) maps each channel to zero mean
   * and unit variance with the training split's statistics; 'raw' keeps [0, 1] pixels. Sharpness depends on it.
   */
  inputs?: 'standardize' | 'raw';
  /**
   * Where the evaluation set of the coupled comparison comes from: 'test' (default) — up to EVALUATION_SAMPLES
   * held-out examples of the dataset's test split (its training split when the test split is empty); 'train' —
   * training examples.
   */
  evaluation?: 'test' | 'train';
}

/**
 * Samples in the fixed measurement batch: 256 for MLPs, 64 for convolutional/attention models, whose float64
 * reference kernels cost ~10× more per sample (each λ_max measurement is ~2·lanczosSteps gradients).
 */
export function defaultMeasureSamples(model: ModelSpec): number {
  return modelFamily(model).measureSamples;
}

/** An engine classifier on a dataset: float32 training, HVPs on a float64 twin (same spec, dropout off). */
export function engineProblem(o: EngineProblemOptions): ProbeProblem {
  const backend = o.backend ?? float32Backend();
  const root = new Rng(o.seed);
  // The trainer draws the model's seed and the training order's seed (root's first two draws); the probe steps its
  // own optimizers on the trainer's gradients, so the trainer's optimizer is never used.
  const trainer = new Trainer({
    model: o.model, optimizer: optimizerConfig({ form: 'sgd', lr: 1 }), data: o.data, batch: o.maxBatch, seed: o.seed, rng: root,
    sampling: 'stream', inputs: o.inputs ?? 'standardize', shift: 'reciprocal', backend,
  });
  const model: Model = trainer.model;
  const twinSpec: ModelSpec = modelFamily(o.model).hvpTwin(o.model);
  const twin: Model = buildModel(twinSpec, { inShape: o.data.shape, classes: o.data.classes, seed: 1, backend: float64Backend() });
  if (twin.store.size !== model.store.size) throw new Error('engineProblem: float64 twin has a different parameter count');
  const S = model.inputSize;
  const split = o.data.train;
  const cap = o.maxBatch;
  const { x, labels, transform } = trainer;
  const noiseRng = new Rng(root.nextU32());
  const gather = (rows: Int32Array, m: number, xb: Float32Array | Float64Array, lb: Int32Array, from = split): void => gatherBatch(from, rows, m, xb, lb, transform);
  const M = Math.min(o.measureSamples ?? defaultMeasureSamples(o.model), split.n);
  const mRows = new Rng(root.nextU32()).permutation(split.n).subarray(0, M);
  const mx = new Float64Array(M * S);
  const ml = new Int32Array(M);
  gather(mRows, M, mx, ml);
  twin.setup(M);
  // The evaluation set (drawn after everything above, so the other seeded streams are those of earlier versions):
  // held-out examples of the test split unless asked for training examples or the test split is empty.
  const evalSplit = (o.evaluation ?? 'test') === 'test' && o.data.test.n > 0 ? o.data.test : split;
  const E = Math.min(EVALUATION_SAMPLES, evalSplit.n);
  const eRows = new Rng(root.nextU32()).permutation(evalSplit.n).subarray(0, E);
  const ex = new Float32Array(E * S);
  const el = new Int32Array(E);
  gather(eRows, E, ex, el, evalSplit);
  const evalX = backend.alloc(cap * S);
  const evalLabels = new Int32Array(cap);
  let last = 0;
  const saved = model.store.params.slice();
  const note = modelFamily(o.model).probeNote;
  const mode = note === null ? '' : ` (${note})`;
  return {
    name: `${o.data.name} / ${o.model.kind} (${model.store.size} parameters, inputs ${o.inputs ?? 'standardize'}, Hessian on ${M} samples, losses compared on ${E} ${evalSplit === split ? 'training' : 'held-out test'} examples)${mode}`,
    params: model.store.params,
    grads: model.store.grads,
    bytesPerParam: 4,
    trainGrad(batch) {
      last = batch;
      return trainer.gradient(batch);
    },
    lastBatchGradAt(p, out) {
      // Swap the shadow parameters into the store for one forward/backward on the same batch, then swap back.
      const store = model.store;
      saved.set(store.params);
      store.params.set(p);
      const loss = model.lossAndGrad(x, labels, last);
      out.set(store.grads);
      store.params.set(saved);
      return loss;
    },
    evaluationLoss(p) {
      // Own input buffers: the training batch in x/labels must survive for the shadows' steps.
      const store = model.store;
      saved.set(store.params);
      store.params.set(p);
      let lossSum = 0;
      for (let s = 0; s < E; s += cap) {
        const m = Math.min(cap, E - s);
        evalX.set(ex.subarray(s * S, (s + m) * S));
        evalLabels.set(el.subarray(s, s + m));
        lossSum += model.evaluate(evalX, evalLabels, m).lossSum;
      }
      store.params.set(saved);
      return lossSum / E;
    },
    measurementGrad() {
      const grad: GradFn = (p, out) => {
        twin.store.params.set(p);
        const loss = twin.lossAndGrad(mx, ml, M);
        out.set(twin.store.grads);
        return loss;
      };
      return { grad, precision: 'float64' };
    },
    microbatchGrad(size, out) {
      const rows = new Int32Array(size);
      for (let i = 0; i < size; i++) rows[i] = noiseRng.int(split.n);
      gather(rows, size, x, labels);
      model.lossAndGrad(x, labels, size);
      for (let i = 0; i < out.length; i++) out[i] = model.store.grads[i]!;
    },
  };
}
