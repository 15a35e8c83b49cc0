/**
 * Training from Node: `train(config)` loads the dataset by name (src/node/data/load.ts), opens a private kernel set
 * and runs `trainOnData` (src/core/nn/train.ts). Used by the `train` command and the sweep tasks.
 */
import { float32Backend } from '../core/engine/backend.js';
import type { Dataset } from '../core/data/dataset.js';
import { trainOnData, validateTrainConfig, type TrainConfig, type TrainHooks, type TrainResult } from '../core/nn/train.js';
import { loadDataset } from './data/load.js';
import { openKernels } from './kernels.js';

export interface NodeTrainConfig extends TrainConfig {
  /** A dataset name for `loadDataset` (fashion-mnist, mnist, cifar10, synthetic) or an already loaded dataset. */
  dataset?: string | Dataset;
  dataDir?: string;
  cacheDir?: string;
  /** Kernel threads (default: all cores); each run gets its own kernel set. Same threads ⇒ bit-identical runs. */
  threads?: number;
}

/**
 * The programmatic entry point (used by the CLI and the experiment runner): loads `config.dataset`, picks the fast
 * kernels (WebAssembly SIMD, reference TypeScript if not built), trains, evaluates, and returns the metrics.
 */
export async function train(config: NodeTrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  validateTrainConfig(config);
  const ds = config.dataset ?? 'fashion-mnist';
  const data: Dataset = typeof ds === 'string'
    ? await loadDataset(ds, { ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}), ...(config.cacheDir !== undefined ? { cacheDir: config.cacheDir } : {}) })
    : ds;
  const { kernels, owned } = await openKernels(config.threads !== undefined ? { threads: config.threads } : {});
  try {
    return trainOnData(config, data, { backend: float32Backend(kernels), hooks });
  } finally {
    if (owned) kernels.dispose();
  }
}
