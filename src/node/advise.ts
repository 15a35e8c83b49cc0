/**
 * `adviseConfig`: the whole advisor for one config — build the problem (engine model on a dataset, or the T5
 * linear regression), run the probe with the config's own optimizer, return the measurements and the verdict.
 * The CLI (`momentum-lab advise`) and the paper suite (one call per batch size) both use it; a caller
 * that already has its own measurements uses `adviseFromMeasurements` (verdict.ts) directly.
 */
import { float32Backend } from '../core/engine/backend.js';
import type { Dataset } from '../core/data/dataset.js';
import { syntheticDataset } from '../core/data/synthetic.js';
import { budgetSteps } from '../core/nn/trainer.js';
import { optimizerConfig } from '../core/optim/sgd.js';
import { check } from '../core/util/errors.js';
import type { AdviseConfig } from '../core/advisor/config.js';
import { engineProblem, linearRegressionProblem, runProbe, type ProbeCheckpoint, type ProbeResult } from '../core/advisor/probe.js';
import { loadDataset } from './data/load.js';
import { openKernels } from './kernels.js';

export interface AdviseOptions {
  probeSteps: number;
  checkpoints?: number;
  lanczosSteps?: number;
  /** Seeds of the coupled comparison when the probe covers the run's whole budget (default core/advisor/probe.ts WHOLE_RUN_SEEDS). */
  wholeRunSeeds?: number;
  /** Budget steps up to which a probe whose rules disagree runs the whole-run comparison (default core/advisor/probe.ts WHOLE_RUN_MAX_STEPS). */
  wholeRunMaxSteps?: number;
  /** Kernel threads for engine models (default: the shared kernels, all cores). */
  threads?: number;
  /** An already loaded dataset (skips `loadDataset(config.dataset)`). */
  data?: Dataset;
  onCheckpoint?(c: ProbeCheckpoint): void;
}

/** Training examples of the T5 linear regression (docs/theory.md §5.5). */
const LINEAR_REGRESSION_TRAIN = 4096;

export async function adviseConfig(c: AdviseConfig, o: AdviseOptions): Promise<ProbeResult> {
  check(Number.isInteger(o.probeSteps) && o.probeSteps >= 1, 'probeSteps', `must be an integer ≥ 1, got ${o.probeSteps}`);
  const optimizer = optimizerConfig({ form: c.form, lr: c.lr, momentum: c.momentum });
  // The run's budget in optimizer steps, as `train` counts them.
  const budget = (n: number): { budgetSteps?: number } => (c.epochs === null ? {} : { budgetSteps: Math.max(1, budgetSteps(n, c.batch, c.epochs)) });
  const probe = {
    steps: o.probeSteps, batch: c.batch, optimizer, seed: c.seed,
    ...(o.checkpoints !== undefined ? { checkpoints: o.checkpoints } : {}),
    ...(o.lanczosSteps !== undefined ? { lanczosSteps: o.lanczosSteps } : {}),
    ...(o.wholeRunSeeds !== undefined ? { wholeRunSeeds: o.wholeRunSeeds } : {}),
    ...(o.wholeRunMaxSteps !== undefined ? { wholeRunMaxSteps: o.wholeRunMaxSteps } : {}),
    ...(o.onCheckpoint !== undefined ? { onCheckpoint: o.onCheckpoint } : {}),
  };
  check(o.wholeRunSeeds === undefined || (Number.isInteger(o.wholeRunSeeds) && o.wholeRunSeeds >= 1), 'seeds', `must be an integer ≥ 1, got ${o.wholeRunSeeds}`);
  if (c.problem === 'linear-regression') {
    const problem = linearRegressionProblem({ seed: c.seed });
    check(c.batch <= LINEAR_REGRESSION_TRAIN, 'batch', `must be ≤ ${LINEAR_REGRESSION_TRAIN} (the T5 training set), got ${c.batch}`);
    // Replicates: the same regression task, another minibatch order.
    const replicate = (i: number): ReturnType<typeof linearRegressionProblem> => linearRegressionProblem({ seed: c.seed, samplingSeed: c.seed + 1000 * i });
    return runProbe(problem, { ...probe, ...budget(LINEAR_REGRESSION_TRAIN), replicate });
  }
  // The advisor's "synthetic" is a small 8×8, 4-class set seeded by the config's seed (the registry's is 28×28).
  const data: Dataset = o.data ?? (c.dataset === 'synthetic'
    ? syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 4096, test: 256, seed: c.seed + 1 })
    : await loadDataset(c.dataset!, c.dataDir !== null ? { dataDir: c.dataDir } : {}));
  check(data.train.n >= c.batch, 'batch', `batch ${c.batch} is larger than the training split (${data.train.n} samples)`);
  const { kernels, owned } = await openKernels(o.threads !== undefined ? { threads: o.threads } : {});
  try {
    const build = (seed: number): ReturnType<typeof engineProblem> => engineProblem({
      model: c.model!, data, seed, backend: float32Backend(kernels), maxBatch: c.batch, inputs: c.inputs,
      ...(c.measureSamples !== null ? { measureSamples: c.measureSamples } : {}),
    });
    // Replicates of the whole-run comparison: another initialisation and batch order on the same data.
    return runProbe(build(c.seed), { ...probe, ...budget(data.train.n), replicate: (i) => build(c.seed + i) });
  } finally {
    if (owned) kernels.dispose();
  }
}
