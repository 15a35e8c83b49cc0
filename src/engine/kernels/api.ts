/**
 * The contract between the engine's layers and its compute kernels. Two implementations satisfy it:
 * `reference.ts` (plain TypeScript, obviously correct, the oracle for kernel tests) and the WebAssembly SIMD
 * kernels (fast path). Layers never touch WebAssembly directly.
 *
 * Memory rule: every Float32Array passed to a kernel must come from `alloc` of the same Kernels object
 * (the wasm implementation hands out views into its shared linear memory; the reference one plain arrays).
 * Views from `alloc` stay valid for the life of the Kernels object. All matrices are row-major, dense.
 */
export interface Kernels {
  readonly name: string;
  /** A zero-filled float32 buffer of n elements living in kernel memory. */
  alloc(n: number): Float32Array;
  /**
   * C[M×N] = op(A)·op(B) (+ C when accumulate), op(A) = A[M×K] or Aᵀ with A stored [K×M];
   * op(B) = B[K×N] or Bᵀ with B stored [N×K].
   */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, B: Float32Array, C: Float32Array, accumulate: boolean): void;
  /**
   * im2col for one image x[C×H×W] → cols[(C·kh·kw) × (outH·outW)], zero padding `pad`, stride `stride`,
   * outH = ⌊(H + 2pad − kh)/stride⌋ + 1 (likewise outW).
   */
  im2col(x: Float32Array, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number,
    cols: Float32Array): void;
  /** Adjoint of im2col: accumulates cols back into dx[C×H×W] (dx is overwritten, not added to). */
  col2im(cols: Float32Array, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number,
    dx: Float32Array): void;
  /** Releases worker threads, if any. */
  dispose(): void;
}

export function convOutputSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}
