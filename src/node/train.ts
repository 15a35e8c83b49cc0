/**
 * Training from Node: `train(config)` loads the dataset by name (src/node/data/load.ts), opens a private kernel set
 * and runs `trainOnData` (src/core/nn/train.ts). Used by the `train` command and the sweep tasks.
 */
import { float32Backend } from '../core/engine/backend.js';
import { createReferenceKernels, createWasmKernels, getKernels, type Kernels } from '../core/engine/kernels/index.js';
import type { Dataset } from '../core/data/dataset.js';
import { trainOnData, validateTrainConfig, type TrainConfig, type TrainHooks, type TrainResult } from '../core/nn/train.js';
import { check } from '../core/util/errors.js';
import { loadDataset } from './data/load.js';

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
  const { kernels, owned } = await kernelsFor(config.threads);
  try {
    return trainOnData(config, data, { backend: float32Backend(kernels), hooks });
  } finally {
    if (owned) kernels.dispose();
  }
}

/**
 * A fresh WebAssembly kernel set for one run (disposed by the caller; `owned`). The kernels' allocator never frees,
 * so a set shared by many runs in one process (a sweep) would grow its linear memory without bound; a private set
 * is released with its memory. Falls back to the shared `getKernels()` (reference TypeScript) if wasm is not built.
 * MOMENTUM_LAB_KERNELS=reference|simd is honoured as in getKernels.
 */
export async function kernelsFor(threads?: number): Promise<{ kernels: Kernels; owned: boolean }> {
  if (threads !== undefined) check(Number.isInteger(threads) && threads >= 1, 'threads', `must be a positive integer, got ${threads}`);
  const env = process.env['MOMENTUM_LAB_KERNELS'];
  if (env === 'reference') return { kernels: createReferenceKernels(), owned: false };
  try {
    return { kernels: await createWasmKernels({ ...(threads !== undefined ? { threads } : {}), ...(env === 'simd' ? { variant: 'simd' as const } : {}) }), owned: true };
  } catch {
    return { kernels: await getKernels(), owned: false };
  }
}
