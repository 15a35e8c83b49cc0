/**
 * `synthetic`: softmax regression on a seeded Gaussian mixture, trained with the real optimizer core (src/optim).
 * Cheap and bit-deterministic (float64 throughout), so sweeps, crash-and-resume and report tests take seconds.
 *
 * Data: K class means μ_c = separation·u_c (u_c a random unit vector), x = μ_y + noise·N(0, I_d), y uniform;
 * fixed by `dataSeed`, so every run of a sweep sees the same data set. The run `seed` drives initialisation and the
 * minibatch order (an epoch-wise permutation; the last partial batch of an epoch is dropped).
 * Model: logits = W x + b; loss = mean cross-entropy; ∂/∂logits = softmax − onehot (llm.c-style hand backward).
 * SVAG ℓ: ĝ = r₁g¹ + r₂g² from two consecutive minibatches of the stream, run at lr/ℓ for ℓ·steps (svagPlan).
 */
import { z } from 'zod';
import { Rng } from '../../core/util/rng.js';
import { initOptimizer, optimizerStep, svagCombine, svagPlan, type OptimizerConfig } from '../../core/optim/index.js';
import { modelSignature, optimizerStateToCheckpoint, restoreOptimizerState } from '../checkpoint.js';
import { seedSchema, type ResolvedRunConfig } from '../config.js';
import type { RunContext, RunMetrics, TaskDefinition } from '../task.js';

export const syntheticParamsSchema = z.object({
  classes: z.number().int().min(2).default(4),
  dim: z.number().int().min(1).default(16),
  train: z.number().int().min(2).default(2048),
  valid: z.number().int().min(1).default(512),
  test: z.number().int().min(1).default(512),
  separation: z.number().min(0).default(1.5),
  noise: z.number().positive().default(1),
  dataSeed: seedSchema.default(12345),
  /** Initial weights ~ N(0, initScale²). */
  initScale: z.number().min(0).default(0.01),
}).strict();
export type SyntheticParams = z.output<typeof syntheticParamsSchema>;

interface Split { x: Float64Array; y: Int32Array; n: number }

function makeData(p: SyntheticParams): { train: Split; valid: Split; test: Split } {
  const rng = new Rng(p.dataSeed);
  const means = new Float64Array(p.classes * p.dim);
  for (let c = 0; c < p.classes; c++) {
    let norm = 0;
    for (let j = 0; j < p.dim; j++) {
      const v = rng.normal();
      means[c * p.dim + j] = v;
      norm += v * v;
    }
    const s = p.separation / Math.sqrt(norm);
    for (let j = 0; j < p.dim; j++) means[c * p.dim + j]! *= s;
  }
  const split = (n: number): Split => {
    const x = new Float64Array(n * p.dim);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(p.classes);
      y[i] = c;
      for (let j = 0; j < p.dim; j++) x[i * p.dim + j] = means[c * p.dim + j]! + p.noise * rng.normal();
    }
    return { x, y, n };
  };
  return { train: split(p.train), valid: split(p.valid), test: split(p.test) };
}

/**
 * Mean cross-entropy over rows `idx` of `d` (all rows when idx is null); accumulates its gradient into `grad`
 * (W row-major K×d, then b) when given. Returns [loss, accuracy].
 */
function lossAndGrad(params: Float64Array, d: Split, idx: Int32Array | null, K: number, D: number, grad: Float64Array | null): [number, number] {
  const n = idx === null ? d.n : idx.length;
  const logits = new Float64Array(K);
  let loss = 0;
  let correct = 0;
  if (grad !== null) grad.fill(0);
  const bOff = K * D;
  for (let r = 0; r < n; r++) {
    const i = idx === null ? r : idx[r]!;
    const xo = i * D;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < K; c++) {
      let s = params[bOff + c]!;
      const wo = c * D;
      for (let j = 0; j < D; j++) s += params[wo + j]! * d.x[xo + j]!;
      logits[c] = s;
      if (s > max) { max = s; arg = c; }
    }
    let z = 0;
    for (let c = 0; c < K; c++) z += Math.exp(logits[c]! - max);
    const y = d.y[i]!;
    loss += Math.log(z) + max - logits[y]!;
    if (arg === y) correct++;
    if (grad !== null) {
      for (let c = 0; c < K; c++) {
        const delta = (Math.exp(logits[c]! - max) / z - (c === y ? 1 : 0)) / n;
        const wo = c * D;
        for (let j = 0; j < D; j++) grad[wo + j]! += delta * d.x[xo + j]!;
        grad[bOff + c]! += delta;
      }
    }
  }
  return [loss / n, correct / n];
}

export async function runSynthetic(config: ResolvedRunConfig, ctx: RunContext): Promise<RunMetrics> {
  const p = syntheticParamsSchema.parse(config.params);
  const K = p.classes;
  const D = p.dim;
  const data = makeData(p);
  const nParams = K * D + K;
  const signature = modelSignature({ W: [K, D], b: [K] }, 'synthetic-softmax');

  const plan = svagPlan({ lr: config.optimizer.lr, steps: config.steps ?? 0, schedule: config.optimizer.schedule }, config.svag);
  const opt: OptimizerConfig = { ...config.optimizer, lr: plan.lr, schedule: plan.schedule };
  const total = plan.steps;
  const B = config.batchSize;
  const stepsPerEpoch = Math.floor(data.train.n / B);
  if (stepsPerEpoch < 1) throw new Error(`batchSize ${B} exceeds the ${data.train.n} training samples`);

  const params = new Float64Array(nParams);
  const state = initOptimizer(opt, nParams, 'float64');
  const rng = new Rng(config.seed);
  let perm: Int32Array = new Int32Array(0);
  let cursor = 0; // next position in perm
  let samplesSeen = 0;
  let step = 0;
  // [sum of minibatch losses since the last eval, their count, initial full-train loss]
  const scalars = new Float64Array(3);

  const evaluate = (): Record<string, number> => {
    const [vl, va] = lossAndGrad(params, data.valid, null, K, D, null);
    const [tl, ta] = lossAndGrad(params, data.test, null, K, D, null);
    return { 'valid/loss': vl, 'valid/accuracy': va, 'test/loss': tl, 'test/accuracy': ta };
  };

  const resumed = ctx.checkpoint.load(signature);
  if (resumed !== null) {
    params.set(resumed.buffers.params!);
    restoreOptimizerState(resumed, state);
    perm = resumed.buffers.perm as Int32Array;
    scalars.set(resumed.buffers.scalars!);
    const m = resumed.meta as { step: number; cursor: number; samplesSeen: number; rng: number[] };
    step = m.step;
    cursor = m.cursor;
    samplesSeen = m.samplesSeen;
    rng.setState(m.rng);
  } else {
    for (let i = 0; i < nParams - K; i++) params[i] = p.initScale * rng.normal();
    const [l0, a0] = lossAndGrad(params, data.train, null, K, D, null);
    scalars[2] = l0;
    ctx.onStep(0, { 'train/loss': l0, 'train/accuracy': a0, ...evaluate() }, 0);
  }

  const save = (): void => {
    const o = optimizerStateToCheckpoint(state);
    ctx.checkpoint.save({
      signature,
      buffers: { params, perm, scalars, ...o.buffers },
      meta: { step, cursor, samplesSeen, rng: rng.getState(), ...o.meta },
    });
  };

  const nextBatch = (): Int32Array => {
    if (cursor + B > perm.length) {
      perm = rng.permutation(data.train.n);
      cursor = 0;
    }
    const b = perm.subarray(cursor, cursor + B);
    cursor += B;
    samplesSeen += B;
    return b;
  };

  const g1 = new Float64Array(nParams);
  const g2 = config.svag > 1 ? new Float64Array(nParams) : g1;
  const limit = config.divergence.factor * scalars[2]!;
  while (step < total) {
    const [loss] = lossAndGrad(params, data.train, nextBatch(), K, D, g1);
    if (config.svag > 1) lossAndGrad(params, data.train, nextBatch(), K, D, g2);
    if (!Number.isFinite(loss) || loss > limit) {
      if (Number.isFinite(loss)) ctx.onStep(step, { 'train/loss': loss }, samplesSeen / data.train.n);
      return { status: 'diverged', divergedAtStep: step };
    }
    svagCombine(g1, g2, config.svag, g1);
    optimizerStep(opt, params, g1, state);
    step++;
    scalars[0] += loss;
    scalars[1] += 1;
    if (step % config.evalEvery === 0 || step === total) {
      ctx.onStep(step, { 'train/loss': scalars[0]! / scalars[1]!, ...evaluate() }, samplesSeen / data.train.n);
      scalars[0] = 0;
      scalars[1] = 0;
    }
    if (ctx.checkpoint.every > 0 && step % ctx.checkpoint.every === 0 && step < total) save();
    ctx.progress(step, total, `loss ${loss.toPrecision(4)}`);
  }
  save();
  return { status: 'done' };
}

export const syntheticTask: TaskDefinition = {
  name: 'synthetic',
  description: 'softmax regression on a seeded Gaussian mixture (float64, deterministic; for tests and demos)',
  params: syntheticParamsSchema,
  requiresSteps: true,
  run: runSynthetic,
};
