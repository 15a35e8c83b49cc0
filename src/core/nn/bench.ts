/** Training-step throughput on random data of a model's input shape (the `bench train` workload). */
import type { Backend } from '../engine/backend.js';
import { initOptimizer, optimizerConfig, optimizerStep } from '../optim/index.js';
import { Rng } from '../util/rng.js';
import { fastOptimizerStep } from '../engine/kernels/optimizer-step.js';
import { buildModel, parseModelSpec, type ModelSpec } from './models.js';

export interface BenchTrainOptions {
  model: ModelSpec | string;
  batch: number;
  steps: number;
  /** Untimed steps first (JIT, page faults, thread wake-up). */
  warmup?: number;
  inShape?: readonly number[];
  classes?: number;
  seed?: number;
}

export interface BenchTrainResult { samplesPerSec: number; stepsPerSec: number; seconds: number; model: ModelSpec; batch: number; steps: number; parameters: number; kernels: string }

/** Times `steps` full training steps (forward, backward, SGDM update with β = 0.9) on one fixed random batch. */
export function benchTrain(opts: BenchTrainOptions, backend: Backend): BenchTrainResult {
  const spec = typeof opts.model === 'string' ? parseModelSpec(opts.model) : opts.model;
  const inShape = opts.inShape ?? [1, 28, 28];
  const classes = opts.classes ?? 10;
  const rng = new Rng(opts.seed ?? 0);
  const model = buildModel(spec, { inShape, classes, seed: rng.nextU32(), backend });
  model.setup(opts.batch);
  const x = backend.alloc(opts.batch * model.inputSize);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const labels = Int32Array.from({ length: opts.batch }, () => rng.int(classes));
  const cfg = optimizerConfig({ lr: 0.01, momentum: 0.9 });
  const state = initOptimizer(cfg, model.store.size, 'float32');
  const step = (): void => {
    model.lossAndGrad(x, labels, opts.batch);
    if (backend.kernels !== null) fastOptimizerStep(backend.kernels, cfg, model.store.params, model.store.grads, state);
    else optimizerStep(cfg, model.store.params, model.store.grads, state);
  };
  for (let i = 0; i < (opts.warmup ?? 3); i++) step();
  const t0 = performance.now();
  for (let i = 0; i < opts.steps; i++) step();
  const seconds = (performance.now() - t0) / 1000;
  return {
    samplesPerSec: (opts.steps * opts.batch) / seconds, stepsPerSec: opts.steps / seconds, seconds,
    model: spec, batch: opts.batch, steps: opts.steps, parameters: model.store.size, kernels: backend.name,
  };
}
