/*
 * OPTIONAL KERNELS (both implementations provide them, but check `k.biasAdd !== undefined`
 * etc. before use if you accept third-party Kernels). Exact signatures:
 *   allocInt32?(n): Int32Array                                          zero-filled int32 buffer in kernel memory
 *   biasAdd?(y, bias, outer, channels, inner): void                    y[o,c,i] += bias[c]   (y = [outer×channels×inner])
 *   biasGrad?(dy, dbias, outer, channels, inner): void                 dbias[c] += Σ_{o,i} dy[o,c,i]  (accumulates)
 *   reluForward?(x, y, n): void                                        y = x > 0 ? x : 0  (NaN → 0; y may alias x)
 *   reluBackward?(y, dy, dx, n): void                                  dx = y > 0 ? dy : 0 (dx may alias dy)
 *   maxPoolForward?(x, y, arg: Int32Array, planes, H, W, k, stride): void   no padding, out = ⌊(H−k)/stride⌋+1;
 *        y = window max (first maximum; a NaN wins), arg = flat index into x of that element (as MaxPool2d in layers/pool.ts)
 *   maxPoolBackward?(dy, arg, dx, planes, H, W, k, stride): void       dx = 0 then dx[arg[o]] += dy[o]
 *   sgdMomentumStep?(x, g, b, n, lr, beta): void                       b ← β·b + g; x ← x − lr·b (float64 math, bit-identical
 *        to src/core/optim's pytorch loop). Do not call it directly: use `fastOptimizerStep` (kernels/optimizer-step.ts),
 *        a drop-in for optimizerStep that takes this path only where it is exact and falls back otherwise.
 * Int32Array arguments must come from allocInt32 of the same Kernels (the wasm kernels read them from memory).
 * Threads (wasm): gemm, max pooling, ReLU and sgdMomentumStep spread large calls over all threads; every result
 * is bit-identical whatever the thread count (maxPoolBackward: each arg entry must point into its own plane, as
 * maxPoolForward writes it).
 */
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

  // ----- optional kernels (see the block comment at the top of this file) -----
  /** A zero-filled int32 buffer of n elements living in kernel memory (argmax indices, labels). */
  allocInt32?(n: number): Int32Array;
  /** y[o, c, i] += bias[c] for y viewed as [outer × channels × inner] (Linear: inner = 1; conv NCHW: inner = H·W). */
  biasAdd?(y: Float32Array, bias: Float32Array, outer: number, channels: number, inner: number): void;
  /** dbias[c] += Σ_{o,i} dy[o, c, i] (accumulates, like parameter gradients). */
  biasGrad?(dy: Float32Array, dbias: Float32Array, outer: number, channels: number, inner: number): void;
  /** y[i] = x[i] > 0 ? x[i] : 0 for i < n (NaN → 0). y may be x. */
  reluForward?(x: Float32Array, y: Float32Array, n: number): void;
  /** dx[i] = y[i] > 0 ? dy[i] : 0 for i < n, y the ReLU output. dx may be dy. */
  reluBackward?(y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  /**
   * Max pooling without padding over `planes` planes of H×W: y[p, oy, ox] = max of the k×k window at
   * (oy·stride, ox·stride) (first maximum in row-major order; a NaN wins), arg = flat index into x of that element.
   */
  maxPoolForward?(x: Float32Array, y: Float32Array, arg: Int32Array, planes: number, H: number, W: number,
    k: number, stride: number): void;
  /** dx[0 .. planes·H·W) = 0, then dx[arg[o]] += dy[o] for every output o. */
  maxPoolBackward?(dy: Float32Array, arg: Int32Array, dx: Float32Array, planes: number, H: number, W: number,
    k: number, stride: number): void;
  /**
   * PyTorch heavy-ball step without weight decay, dampening or Nesterov, after the first step:
   * b ← β·b + g; x ← x − lr·b, in float64 with the unrounded b in the x update, as src/core/optim's loop.
   */
  sgdMomentumStep?(x: Float32Array, g: Float32Array, b: Float32Array, n: number, lr: number, beta: number): void;
}

export function convOutputSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}
