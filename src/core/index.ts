/**
 * The core's public entry: optimizers, the engine (layers, kernels), models and training, data, the theory lab,
 * the advisor and utilities. Nothing here needs Node: a host supplies WebAssembly bytes, threads and files
 * (Node: src/node; a browser its own), so this module bundles for a browser (test/core/browser-bundle.test.ts).
 */
export * from './optim/index.js';
export * from './engine/backend.js';
export * from './engine/kernels/index.js';
export * from './engine/layers/index.js';
export * from './engine/loss.js';
export * from './engine/params.js';
export * from './nn/models.js';
export * from './nn/train.js';
export * from './nn/bench.js';
export * from './onnx/index.js';
export * from './data/index.js';
export * from './theory/index.js';
export * from './advisor/index.js';
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/stats.js';
export * from './stats/index.js';
// Names two folders export: the buffer type is the same in both; the advisor's stationaryLoss is another
// parametrisation of the theory lab's, reachable as `advisor.stationaryLoss`.
export type { FloatBuffer } from './optim/index.js';
export { stationaryLoss } from './theory/index.js';
export * as advisor from './advisor/index.js';
