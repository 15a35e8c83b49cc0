/**
 * Bit-identity record of the training paths: a handful of small runs (MLP and CNN on the embedded MNIST digits, SVAG
 * ℓ = 2, resume from a mid-run snapshot, the sweep's `train` task with a hold-out, pre-training + K-shot fine-tuning,
 * an advisor probe on an engine model with its whole-run comparison, the T5 linear-regression probe, `adviseConfig`
 * on synthetic data). Every number is printed at full precision (JSON's shortest round-trip form) with a hash of the
 * final parameters; timings are left out. Two builds of the code agree exactly when their outputs are equal:
 *   node --import tsx bench/trainer-identity.ts > a.txt   (…change the code…)   diff a.txt <(node --import tsx …)
 * Kernels: WebAssembly with one thread (same threads ⇒ same sums).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32Backend } from '../src/core/engine/backend.js';
import { parseModelSpec } from '../src/core/nn/models.js';
import { optimizerConfig } from '../src/core/optim/index.js';
import { engineProblem, linearRegressionProblem, runProbe } from '../src/core/advisor/probe.js';
import type { ResolvedRunConfig } from '../src/experiments/config.js';
import type { RunContext } from '../src/experiments/task.js';
import type { CheckpointData } from '../src/experiments/checkpoint.js';
import { runTrain } from '../src/experiments/tasks/train.js';
import { runFinetune } from '../src/experiments/tasks/finetune.js';
import { trainOnData, type TrainSnapshot } from '../src/core/nn/train.js';
import { train } from '../src/node/train.js';
import { openKernels } from '../src/node/kernels.js';
import { loadDataset } from '../src/node/data/load.js';
import { adviseConfig } from '../src/node/advise.js';

/** FNV-1a over the bytes of a buffer: a short fingerprint of final parameters. */
function fnv(buf: Float32Array | Float64Array): string {
  const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

const TIMING = new Set(['seconds', 'trainSeconds', 'samplesPerSec', 'wallSeconds']);
function print(name: string, value: unknown): void {
  const s = JSON.stringify(value, (k, v: unknown) => (TIMING.has(k) ? undefined : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  process.stdout.write(`${name}: ${s}\n`);
}

function fakeContext(log: unknown[], saved: CheckpointData[] = []): RunContext {
  return {
    hash: 'identity',
    onStep: (step, metrics) => log.push({ step, ...metrics }),
    onEpoch: (epoch, metrics, step) => log.push({ epoch, step, ...metrics }),
    progress: () => {},
    checkpoint: { every: 0, save: (d) => saved.push(d), load: () => null },
  };
}

function runConfig(task: string, params: Record<string, unknown>, extra: Partial<ResolvedRunConfig>): ResolvedRunConfig {
  return {
    task, seed: 2, params, optimizer: optimizerConfig({ lr: 0.05, momentum: 0.9 }), batchSize: 32, svag: 1, evalEvery: 0, checkpointEvery: 0,
    divergence: { factor: 1e6 }, ...extra,
  };
}

const sgdm = optimizerConfig({ lr: 0.05, momentum: 0.9 });
let hash = '';
const onFinish = (p: Float32Array | Float64Array): void => { hash = fnv(p); };

// 1. MLP and CNN on the embedded MNIST digits (standardised inputs, per-epoch evaluation).
const mlp = await train({ dataset: 'mnist', model: 'mlp', optimizer: sgdm, batch: 64, epochs: 3, seed: 1, threads: 1, maxSteps: 300, testLimit: 1000 }, { onFinish });
print('mlp', { ...mlp, params: hash });
const cnn = await train({ dataset: 'mnist', model: 'cnn', optimizer: sgdm, batch: 32, epochs: 1, seed: 1, threads: 1, maxSteps: 60, testLimit: 300 }, { onFinish });
print('cnn', { ...cnn, params: hash });

// 2. SVAG ℓ = 2 (two batches per step, lr/2, steps ×2).
const svag = await train({ dataset: 'mnist', model: 'mlp', optimizer: optimizerConfig({ lr: 0.1, momentum: 0.9 }), batch: 64, epochs: 1, seed: 5, svag: 2, threads: 1, maxSteps: 100, testLimit: 500 }, { onFinish });
print('svag2', { ...svag, params: hash });

// 3. Resume from the step-40 snapshot of a dropout MLP run (deep copy of the snapshot).
const mnist = await loadDataset('mnist');
const { kernels, owned } = await openKernels({ threads: 1 });
const backend = float32Backend(kernels);
const drop = { dataset: undefined, model: parseModelSpec({ kind: 'mlp', hidden: [64], dropout: 0.2 }), optimizer: sgdm, batch: 64, epochs: 2, seed: 7, maxSteps: 120, testLimit: 500, checkpointEvery: 40 };
let mid: TrainSnapshot | null = null;
const copy = (s: TrainSnapshot): TrainSnapshot => structuredClone({ ...s, params: s.params.slice(), modelState: s.modelState.map((b) => b.slice()), optimizer: { step: s.optimizer.step, buffer: s.optimizer.buffer?.slice() ?? null } });
const full = trainOnData(drop, mnist, { backend, hooks: { onFinish, onCheckpoint: (s) => { if (s.step === 40) mid = copy(s); } } });
print('resume/full', { ...full, params: hash });
const resumed = trainOnData({ ...drop, resume: mid! }, mnist, { backend, hooks: { onFinish } });
print('resume/resumed', { ...resumed, params: hash });

// 4. The sweep's train task with a hold-out of 1000 samples, and pre-training + K-shot fine-tuning.
const log: unknown[] = [];
const task = await runTrain(runConfig('train', { dataset: 'mnist', model: 'mlp', epochs: 1, validation: 1000, evalLimit: 500, threads: 1 }, { steps: 100 }), fakeContext(log));
print('task/train', { task, log });
const dir = mkdtempSync(join(tmpdir(), 'ml-identity-'));
try {
  const weights = join(dir, 'pre.ckpt');
  const preLog: unknown[] = [];
  const pre = await runFinetune(runConfig('finetune', { dataset: 'mnist', model: 'mlp', classes: [0, 1, 2, 3, 4], weightsOut: weights, threads: 1 }, { steps: 80 }), fakeContext(preLog));
  print('task/pretrain', { pre, preLog });
  const ftLog: unknown[] = [];
  const ft = await runFinetune(runConfig('finetune', { dataset: 'mnist', model: 'mlp', classes: [5, 6, 7, 8, 9], kShot: 10, epochs: 4, weightsIn: weights, threads: 1 }, { seed: 13, batchSize: 16 }), fakeContext(ftLog));
  print('task/finetune', { ft, ftLog });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// 5. The advisor's probe on an engine MLP, covering its budget (so with the coupled whole-run seeds).
const build = (seed: number): ReturnType<typeof engineProblem> => engineProblem({ model: parseModelSpec({ kind: 'mlp', hidden: [32] }), data: mnist, seed, backend, maxBatch: 64, measureSamples: 64 });
const probe = runProbe(build(3), { steps: 40, budgetSteps: 40, batch: 64, optimizer: sgdm, checkpoints: 2, lanczosSteps: 6, microbatches: 4, seed: 3, wholeRunSeeds: 2, replicate: (i) => build(3 + i) });
print('probe/engine', probe);
const short = runProbe(build(4), { steps: 20, batch: 64, optimizer: optimizerConfig({ form: 'normalized', lr: 0.5, momentum: 0.9 }), checkpoints: 2, lanczosSteps: 6, microbatches: 4, seed: 4 });
print('probe/engine-short', short);
if (owned) kernels.dispose();

// 6. The T5 linear-regression probe with its whole-run replicates.
const lin = runProbe(linearRegressionProblem({ seed: 0 }), {
  steps: 200, budgetSteps: 200, batch: 32, optimizer: sgdm, seed: 0, replicate: (i) => linearRegressionProblem({ seed: 0, samplingSeed: 1000 * i }),
});
print('probe/linear-regression', lin);

// 7. adviseConfig end to end on the synthetic set.
const adv = await adviseConfig({
  problem: null, model: parseModelSpec('mlp'), dataset: 'synthetic', dataDir: null, batch: 64, lr: 0.1, momentum: 0.9, form: 'pytorch',
  seed: 0, measureSamples: 64, inputs: 'standardize', epochs: 0.5,
}, { probeSteps: 20, checkpoints: 2, lanczosSteps: 6, wholeRunSeeds: 2, threads: 1 });
print('advise/synthetic', adv);
