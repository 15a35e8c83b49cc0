/**
 * The native fast path on Node: GEMM through the system's CBLAS (native/blas.c, an N-API addon that dlopens
 * OpenBLAS, BLIS, MKL or any libblas.so.3 with cblas_sgemm at run time), every other kernel through the WebAssembly
 * kernels it wraps. The addon reads and writes the WebAssembly memory in place: a Float32Array from `alloc` is
 * handed to sgemm as it is, with no copy.
 *
 * Which GEMMs go native (the per-shape rule): those with M·N·K ≥ `minNativeWork` (default 16³ = 4096). Below that
 * the call costs more than the arithmetic on either path (a 16×16×16 GEMM is ~1 µs) and the WebAssembly kernel is
 * as fast; above it OpenBLAS wins on every shape of the MLP and CNN (bench/gemm.ts measures both).
 *
 * Threads: the BLAS thread count is set to `threads` before each call whenever another kernel set changed it
 * (OpenBLAS keeps one count per process). The WebAssembly helpers and the BLAS threads never run at once: a GEMM
 * returns before the next elementwise kernel starts, and idle WebAssembly helpers sleep in Atomics.wait.
 *
 * Determinism: with the same BLAS library, build and thread count, runs are bit-identical; across backends
 * (WebAssembly vs native, or two BLAS libraries) results agree to float32 rounding only.
 */
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type { Kernels } from '../core/engine/kernels/api.js';
import type { WasmKernelSet } from '../core/engine/kernels/wasm.js';
import { packageRoot } from './package-root.js';

interface Addon {
  open(paths: string[], tuned: boolean): { path: string; config: string; setsThreads: boolean } | { error: string };
  setThreads(n: number): void;
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, B: Float32Array, C: Float32Array, accumulate: boolean): void;
}

/** The BLAS a process opened: where from, what it says of itself, and a short name for kernel names. */
export interface NativeBlas {
  readonly addon: Addon;
  readonly path: string;
  /** openblas_get_config() where the library has it ("OpenBLAS 0.3.21 DYNAMIC_ARCH … Haswell"), else ''. */
  readonly config: string;
  /** 'openblas', 'blis', 'mkl' or the library's file name without lib/.so. */
  readonly library: string;
}

/**
 * Sonames tried in order when MOMENTUM_LAB_BLAS is not set. libblas.so.3 counts only when it has a thread-count
 * setter (an OpenBLAS, BLIS or MKL behind Debian's alternatives): the reference BLAS there is slower than WASM.
 */
export const BLAS_CANDIDATES = [
  'libopenblas.so.0', 'libopenblas.so', 'libblis.so.4', 'libblis.so', 'libmkl_rt.so.2', 'libmkl_rt.so', 'libblas.so.3', 'libopenblas.dylib',
];

export const ADDON_PATH = (): string => join(packageRoot(), 'native', 'build', 'Release', 'blas.node');

let opened: NativeBlas | { reason: string } | undefined;

/**
 * Loads the addon and opens a BLAS, once per thread (the library itself once per process): MOMENTUM_LAB_BLAS (a path
 * or soname, taken as it is) if set, else the first of BLAS_CANDIDATES that loads, exports cblas_sgemm and can set its
 * thread count. `{ reason }` when the addon is not built, MOMENTUM_LAB_NATIVE=0,
 * or no BLAS is found. OpenBLAS reads OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment when it loads.
 */
export function openNativeBlas(): NativeBlas | { reason: string } {
  if (opened !== undefined) return opened;
  if (process.env['MOMENTUM_LAB_NATIVE'] === '0') return (opened = { reason: 'MOMENTUM_LAB_NATIVE=0' });
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH()) as Addon;
  } catch {
    return (opened = { reason: 'the addon is not built (native/build/Release/blas.node; `node scripts/build-native.mjs` builds it)' });
  }
  const env = process.env['MOMENTUM_LAB_BLAS'];
  const given = env !== undefined && env !== '';
  const r = given ? addon.open([env], false) : addon.open(BLAS_CANDIDATES, true);
  if ('error' in r) {
    return (opened = { reason: given ? `MOMENTUM_LAB_BLAS=${env} is not a CBLAS (${r.error})` : `no tuned CBLAS found (${r.error}; install libopenblas0-pthread)` });
  }
  return (opened = { addon, path: r.path, config: r.config, library: libraryName(r.path, r.config) });
}

function libraryName(path: string, config: string): string {
  if (config.startsWith('OpenBLAS')) return 'openblas';
  const file = basename(path).toLowerCase();
  for (const n of ['openblas', 'blis', 'mkl']) if (file.includes(n)) return n;
  return file.replace(/^lib/, '').replace(/\.(so|dylib).*$/, '');
}

let blasThreads = 0;

export interface NativeKernelOptions {
  /** BLAS threads (the WebAssembly set keeps its own count). Default: the WebAssembly set's. */
  threads?: number;
  /** GEMMs with M·N·K below this run on the WebAssembly kernels. Default 4096 (16³). */
  minNativeWork?: number;
}

/** Kernels that run GEMM on `blas` and everything else on `wasm`; disposing them disposes `wasm`. */
export function createNativeKernels(wasm: WasmKernelSet, blas: NativeBlas, opts: NativeKernelOptions = {}): Kernels {
  const threads = opts.threads ?? wasm.threads;
  const minWork = opts.minNativeWork ?? 4096;
  const { addon } = blas;
  return {
    name: `native-${blas.library}-${threads}t+${wasm.name}`,
    alloc: (n) => wasm.alloc(n),
    gemm(transA, transB, M, N, K, A, B, C, accumulate) {
      if (M * N * K < minWork) { wasm.gemm(transA, transB, M, N, K, A, B, C, accumulate); return; }
      if (blasThreads !== threads) { addon.setThreads(threads); blasThreads = threads; }
      addon.sgemm(transA, transB, M, N, K, A, B, C, accumulate);
    },
    im2col: (x, C, H, W, kh, kw, stride, pad, cols) => wasm.im2col(x, C, H, W, kh, kw, stride, pad, cols),
    col2im: (cols, C, H, W, kh, kw, stride, pad, dx) => wasm.col2im(cols, C, H, W, kh, kw, stride, pad, dx),
    dispose: () => wasm.dispose(),
    allocInt32: (n) => wasm.allocInt32(n),
    biasAdd: (y, bias, outer, channels, inner) => wasm.biasAdd(y, bias, outer, channels, inner),
    biasGrad: (dy, dbias, outer, channels, inner) => wasm.biasGrad(dy, dbias, outer, channels, inner),
    reluForward: (x, y, n) => wasm.reluForward(x, y, n),
    reluBackward: (y, dy, dx, n) => wasm.reluBackward(y, dy, dx, n),
    maxPoolForward: (x, y, arg, planes, H, W, k, stride) => wasm.maxPoolForward(x, y, arg, planes, H, W, k, stride),
    maxPoolBackward: (dy, arg, dx, planes, H, W, k, stride) => wasm.maxPoolBackward(dy, arg, dx, planes, H, W, k, stride),
    sgdMomentumStep: (x, g, b, n, lr, beta) => wasm.sgdMomentumStep(x, g, b, n, lr, beta),
  };
}
