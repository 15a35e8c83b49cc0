/**
 * SGD and SGDM trained side by side on the packed digits (digits-asset.ts): the same seed gives both the same
 * initialisation and the same minibatches (the Trainer draws both from Rng(seed)); SGDM runs in the PyTorch form
 * at γ = η(1−β), so both have the effective learning rate η = γ/(1−β).
 */
import { float32Backend } from '../src/core/engine/backend.js';
import type { Kernels } from '../src/core/engine/kernels/api.js';
import type { Dataset } from '../src/core/data/dataset.js';
import { Trainer } from '../src/core/nn/trainer.js';
import { optimizerConfig, type OptimizerConfig } from '../src/core/optim/index.js';
import { check } from '../src/core/util/errors.js';

/** 784-128-10 with ReLU: small enough to train live at a few hundred steps per second on one thread. */
export const LAB_MODEL = { kind: 'mlp', hidden: [128], activation: 'relu', dropout: 0 } as const;

export interface TrainRequest {
  seed: number; steps: number; batch: number;
  /** The optimizer's own learning rate γ (PyTorch form when momentum > 0; plain SGD at momentum 0). */
  lr: number;
  momentum: number;
}

export interface TrainOutcome {
  /** Minibatch loss of the last step (before its update), and of every step. */
  loss: number;
  losses: number[];
  /** Test-subset loss and accuracy after `steps` updates. */
  testLoss: number;
  testAccuracy: number;
  /** FNV-1a of the float32 parameters' bits after `steps` updates: equal hashes mean bit-identical weights. */
  paramsHash: string;
  kernels: string;
}

/** FNV-1a (32-bit) over the bit patterns of a float32 buffer, as 8 hex digits. */
export function float32Hash(a: Float32Array | Float64Array): string {
  const bits = a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : new Uint32Array(Float32Array.from(a).buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) {
    const w = bits[i]!;
    for (let b = 0; b < 32; b += 8) h = Math.imul(h ^ ((w >>> b) & 0xff), 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function labOptimizer(lr: number, momentum: number): OptimizerConfig {
  return momentum === 0 ? optimizerConfig({ form: 'sgd', lr }) : optimizerConfig({ form: 'pytorch', lr, momentum });
}

export function labTrainer(data: Dataset, kernels: Kernels, seed: number, batch: number, optimizer: OptimizerConfig): Trainer {
  return new Trainer({ model: { ...LAB_MODEL, hidden: [...LAB_MODEL.hidden] }, optimizer, data, batch, seed, evalEveryEpoch: false, backend: float32Backend(kernels) });
}

/** The `window.momentumLab.train` hook: one run of `steps` optimizer steps. */
export function trainSteps(data: Dataset, kernels: Kernels, r: TrainRequest): TrainOutcome {
  check(Number.isInteger(r.seed) && r.seed >= 0, 'seed', `must be an integer ≥ 0, got ${r.seed}`);
  check(Number.isInteger(r.steps) && r.steps >= 1 && r.steps <= 100_000, 'steps', `must be an integer in 1…100000, got ${r.steps}`);
  check(Number.isInteger(r.batch) && r.batch >= 1 && r.batch <= data.train.n, 'batch', `must be an integer in 1…${data.train.n}, got ${r.batch}`);
  check(Number.isFinite(r.lr) && r.lr > 0, 'lr', `must be a number > 0, got ${r.lr}`);
  check(Number.isFinite(r.momentum) && r.momentum >= 0 && r.momentum < 1, 'momentum', `must be in [0, 1), got ${r.momentum}`);
  const t = labTrainer(data, kernels, r.seed, r.batch, labOptimizer(r.lr, r.momentum));
  const losses: number[] = [];
  for (let k = 0; k < r.steps && !t.done; k++) losses.push(t.step().loss);
  const ev = t.evaluate(data.test);
  return { loss: losses[losses.length - 1]!, losses, testLoss: ev.loss, testAccuracy: ev.accuracy, paramsHash: float32Hash(t.model.store.params), kernels: t.backend.name };
}
