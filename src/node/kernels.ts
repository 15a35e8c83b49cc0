/**
 * The kernels on Node: reads build/kernels*.wasm, starts helper threads as worker_threads, and `openKernels`, the
 * one place that picks which kernels a run gets (MOMENTUM_LAB_KERNELS=native|simd|relaxed|reference, read only here;
 * `native` is the system BLAS for GEMM over the WebAssembly kernels, src/node/native-kernels.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Kernels } from '../core/engine/kernels/api.js';
import { createReferenceKernels } from '../core/engine/kernels/reference.js';
import {
  instantiateWasmKernels, MAX_THREADS, type KernelWorkerHandle, type KernelWorkerInit, type WasmKernelOptions, type WasmKernelSet, type WasmVariant,
} from '../core/engine/kernels/wasm.js';
import { check, UserError } from '../core/util/errors.js';
import { createNativeKernels, openNativeBlas } from './native-kernels.js';
import { packageRoot } from './package-root.js';

function wasmPath(variant: WasmVariant): string {
  return join(packageRoot(), 'build', variant === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels.wasm');
}

/** Whether this runtime accepts relaxed-SIMD (Node 20 needs --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  const p = wasmPath('relaxed');
  return existsSync(p) && WebAssembly.validate(readFileSync(p));
}

/**
 * The compiled kernels. 'auto' takes the relaxed-SIMD build when the runtime accepts it, after setting V8's
 * --experimental-wasm-relaxed-simd at run time where `enableFlag` (Node 20 rejects it otherwise). Relaxed-SIMD is
 * a finished standard (on by default from V8 11.4 / Node 22); the flag only unlocks it. Its f32x4.relaxed_madd is
 * a fused multiply-add on x86 with FMA (~25% faster GEMM), so results differ in rounding from the 'simd' build
 * (both are deterministic on one machine).
 */
function loadKernelModule(variant: 'auto' | WasmVariant, enableFlag = true): WebAssembly.Module {
  if (variant !== 'simd') {
    const p = wasmPath('relaxed');
    if (existsSync(p)) {
      const bytes = readFileSync(p);
      if (!WebAssembly.validate(bytes) && enableFlag) setFlagsFromString('--experimental-wasm-relaxed-simd');
      if (WebAssembly.validate(bytes)) return new WebAssembly.Module(bytes);
    }
    if (variant === 'relaxed') throw new UserError('relaxed-SIMD kernels unavailable (Node 20: run with --experimental-wasm-relaxed-simd; or run `npm run build`)');
  }
  const p = wasmPath('simd');
  if (!existsSync(p)) throw new UserError(`WebAssembly kernels not built: ${p} missing (run \`npm run build\`)`);
  return new WebAssembly.Module(readFileSync(p));
}

/**
 * Starts one kernel helper as a worker_thread (src/node/kernel-worker.ts). Referenced until it reports (so
 * awaiting `ready` keeps the process alive), then unref'd so an undisposed kernel set never keeps a process
 * from exiting.
 */
function spawnNodeKernelWorker(init: KernelWorkerInit): KernelWorkerHandle {
  const w = new Worker(new URL('./kernel-worker.js', import.meta.url), { workerData: init });
  const ready = new Promise<void>((resolve, reject) => {
    w.once('message', (m: { ok: boolean; message?: string }) => {
      w.unref();
      if (m.ok) resolve();
      else reject(new Error(`kernel helper thread could not instantiate the module: ${m.message}`));
    });
    w.once('error', (e) => { w.unref(); reject(e); });
  });
  return { ready, terminate: () => void w.terminate() };
}

export interface NodeWasmKernelOptions extends Omit<WasmKernelOptions, 'module' | 'spawnWorker' | 'threads'> {
  /** Threads, main thread included. Default: os.availableParallelism(); always 1 when run from .ts sources. */
  threads?: number;
  /** 'auto' (default) loads the relaxed-SIMD build when the runtime accepts it (see loadKernelModule). */
  variant?: 'auto' | WasmVariant;
  /** Default true, so every entry point picks the same build. */
  enableRelaxedSimdFlag?: boolean;
}

/**
 * WebAssembly kernels from build/; throws if they are not built. Resolves once the helper threads are up.
 * Run from .ts sources (tsx), a worker_thread would not get tsx's loader, so the kernels run on one thread there
 * (the same numbers: results do not depend on the thread count).
 */
export function createWasmKernels(opts: NodeWasmKernelOptions = {}): Promise<WasmKernelSet> {
  const { variant, enableRelaxedSimdFlag, threads, ...rest } = opts;
  const fromSource = import.meta.url.endsWith('.ts');
  return instantiateWasmKernels({
    ...rest,
    module: loadKernelModule(variant ?? 'auto', enableRelaxedSimdFlag ?? true),
    threads: fromSource ? 1 : threads ?? availableParallelism(),
    spawnWorker: spawnNodeKernelWorker,
  });
}

export type KernelChoice = 'auto' | WasmVariant | 'reference' | 'native';

/**
 * The kernels for one run. WebAssembly kernels are a fresh set (`owned`: the caller disposes it, which frees its
 * memory; a set shared by every run of a sweep would only grow). `variant` defaults to MOMENTUM_LAB_KERNELS
 * (native | simd | relaxed | reference), else 'auto'. When the WebAssembly kernels cannot be loaded, one warning line on
 * stderr names the reason and the reference kernels run instead; MOMENTUM_LAB_REQUIRE_WASM=1 makes that an error.
 * 'native' without its addon or a BLAS (or with MOMENTUM_LAB_NATIVE=0) runs the 'auto' WebAssembly kernels and
 * says so once per process on stderr.
 */
/** `owned`: the caller disposes `kernels` when done (a private set); otherwise they are shared. */
export interface OpenedKernels {
  kernels: Kernels;
  owned: boolean;
}

export async function openKernels(opts: { threads?: number; variant?: KernelChoice } = {}): Promise<OpenedKernels> {
  const { threads } = opts;
  if (threads !== undefined) {
    check(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS, 'threads', `must be an integer in 1..${MAX_THREADS}, got ${threads}`);
  }
  const variant = opts.variant ?? kernelChoiceFromEnv();
  if (variant === 'reference') return { kernels: createReferenceKernels(), owned: false };
  try {
    const blas = variant === 'native' ? openNativeBlas() : undefined;
    if (blas !== undefined && 'reason' in blas && !nativeFallbackSaid) {
      nativeFallbackSaid = true;
      process.stderr.write(`momentum-lab: native BLAS path unavailable (${blas.reason}); running on WASM\n`);
    }
    const wasm = await createWasmKernels({ ...(threads !== undefined ? { threads } : {}), variant: variant === 'native' ? 'auto' : variant });
    if (blas !== undefined && !('reason' in blas)) return { kernels: createNativeKernels(wasm, blas), owned: true };
    return { kernels: wasm, owned: true };
  } catch (e) {
    const reason = (e as Error)?.message ?? String(e);
    if (process.env['MOMENTUM_LAB_REQUIRE_WASM'] === '1') throw new UserError(`WebAssembly kernels unavailable: ${reason}`, 'MOMENTUM_LAB_REQUIRE_WASM');
    process.stderr.write(`momentum-lab: warning: WebAssembly kernels unavailable (${reason}); using the slow TypeScript reference kernels\n`);
    return { kernels: createReferenceKernels(), owned: false };
  }
}

let nativeFallbackSaid = false;

function kernelChoiceFromEnv(): KernelChoice {
  const env = process.env['MOMENTUM_LAB_KERNELS'];
  if (env === undefined || env === '') return 'auto';
  check(env === 'reference' || env === 'simd' || env === 'relaxed' || env === 'auto' || env === 'native', 'MOMENTUM_LAB_KERNELS',
    `must be native, simd, relaxed, reference or auto, got '${env}'`);
  return env;
}
