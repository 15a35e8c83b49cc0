/**
 * Kernel selection. `getKernels()` returns one shared WebAssembly kernel set (relaxed-SIMD when the runtime
 * accepts it, threads = os.availableParallelism()), or the plain TypeScript reference kernels when the .wasm
 * files are not built; `kernels.name` says which (e.g. `wasm-relaxed-simd-2t`, `reference-ts`).
 */
import type { Kernels } from './api.js';
import { createReferenceKernels } from './reference.js';
import { createWasmKernels, type WasmKernelOptions } from './wasm.js';

export type { Kernels } from './api.js';
export { convOutputSize } from './api.js';
export { createReferenceKernels } from './reference.js';
export { createWasmKernels, createWasmKernelsSync, relaxedSimdSupported, type WasmKernelOptions, type WasmKernelSet } from './wasm.js';

let shared: Promise<Kernels> | null = null;

/**
 * The process-wide default kernels (created on first call; options apply only to that first call). Like
 * createWasmKernels it enables relaxed-SIMD on Node 20 (see WasmKernelOptions.enableRelaxedSimdFlag); set
 * MOMENTUM_LAB_KERNELS=simd to force the plain SIMD build, =reference for the TypeScript oracle.
 */
export function getKernels(opts?: WasmKernelOptions): Promise<Kernels> {
  const env = process.env['MOMENTUM_LAB_KERNELS'];
  if (env === 'reference') return (shared ??= Promise.resolve(createReferenceKernels()));
  const o: WasmKernelOptions = { ...(env === 'simd' ? { variant: 'simd' } : {}), ...opts };
  shared ??= createWasmKernels(o).catch((e: unknown) => {
    if (process.env['MOMENTUM_LAB_REQUIRE_WASM']) throw e;
    process.emitWarning(`WebAssembly kernels unavailable, using the slow TypeScript reference: ${(e as Error).message}`);
    return createReferenceKernels();
  });
  return shared;
}

export default getKernels;
