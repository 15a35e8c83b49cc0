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
export { createWasmKernels, createWasmKernelsSync, relaxedSimdSupported, type WasmKernelOptions } from './wasm.js';

let shared: Promise<Kernels> | null = null;

/** The process-wide default kernels (created on first call; options apply only to that first call). */
export function getKernels(opts?: WasmKernelOptions): Promise<Kernels> {
  shared ??= createWasmKernels(opts).catch((e: unknown) => {
    if (process.env['MOMENTUM_LAB_REQUIRE_WASM']) throw e;
    return createReferenceKernels();
  });
  return shared;
}

export default getKernels;
