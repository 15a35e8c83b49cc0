/**
 * The numeric backend a model runs on: a buffer type plus the GEMM / im2col kernels layers call.
 * float32 wraps a `Kernels` implementation (reference TS or WebAssembly SIMD); float64 runs the same layer code
 * over Float64Array with the reference im2col loops and a packed GEMM that rounds exactly as the reference one
 * (kernels/gemm-f64.ts). It is the path gradient checks and the advisor's HVPs use (central finite differences need
 * double precision to be meaningful).
 */
import type { Kernels } from './kernels/api.js';
import { createReferenceKernels, referenceCol2im, referenceIm2col } from './kernels/reference.js';
import { gemmF64 } from './kernels/gemm-f64.js';

export type Buf = Float32Array | Float64Array;
export type Precision = 'float32' | 'float64';

export interface Backend {
  readonly precision: Precision;
  readonly name: string;
  /** Zero-filled buffer in kernel memory (every buffer passed to gemm/im2col/col2im must come from here). */
  alloc(n: number): Buf;
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Buf, B: Buf, C: Buf, accumulate: boolean): void;
  im2col(x: Buf, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, cols: Buf): void;
  col2im(cols: Buf, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, dx: Buf): void;
  readonly kernels: Kernels | null;
}

export function float32Backend(kernels: Kernels = createReferenceKernels()): Backend {
  return {
    precision: 'float32',
    name: kernels.name,
    kernels,
    alloc: (n) => kernels.alloc(n),
    gemm: (ta, tb, M, N, K, A, B, C, acc) => kernels.gemm(ta, tb, M, N, K, A as Float32Array, B as Float32Array, C as Float32Array, acc),
    im2col: (x, C, H, W, kh, kw, s, p, cols) => kernels.im2col(x as Float32Array, C, H, W, kh, kw, s, p, cols as Float32Array),
    col2im: (cols, C, H, W, kh, kw, s, p, dx) => kernels.col2im(cols as Float32Array, C, H, W, kh, kw, s, p, dx as Float32Array),
  };
}

export function float64Backend(): Backend {
  return {
    precision: 'float64',
    name: 'reference-f64',
    kernels: null,
    alloc: (n) => new Float64Array(n),
    gemm: gemmF64,
    im2col: referenceIm2col,
    col2im: referenceCol2im,
  };
}
