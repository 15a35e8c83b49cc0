/**
 * The engine's compute kernels: the contract (api.ts), the TypeScript reference, the WebAssembly kernels built
 * from bytes the host supplies, and the host's kernel opener that training code calls.
 */
export type { Kernels } from './api.js';
export { convOutputSize } from './api.js';
export { createReferenceKernels } from './reference.js';
export {
  instantiateWasmKernels, runKernelWorker, MAX_THREADS,
  type KernelWorkerHandle, type KernelWorkerInit, type SpawnKernelWorker, type WasmKernelOptions, type WasmKernelSet, type WasmVariant,
} from './wasm.js';
export { fastOptimizerStep } from './optimizer-step.js';
