/*
 * OPTIONAL KERNELS (for part B / layers; both implementations provide them, but check `k.biasAdd !== undefined`
 * etc. before use if you accept third-party Kernels). Exact signatures:
 *   allocInt32?(n): Int32Array                                          zero-filled int32 buffer in kernel memory
 *   biasAdd?(y, bias, outer, channels, inner): void                    y[o,c,i] += bias[c]   (y = [outer×channels×inner])
 *   biasGrad?(dy, dbias, outer, channels, inner): void                 dbias[c] += Σ_{o,i} dy[o,c,i]  (accumulates)
 *   reluForward?(x, y, n): void                                        y = x > 0 ? x : 0  (NaN → 0; y may alias x)
 *   reluBackward?(y, dy, dx, n): void                                  dx = y > 0 ? dy : 0 (dx may alias dy)
 *   maxPoolForward?(x, y, arg: Int32Array, planes, H, W, k, stride): void   no padding, out = ⌊(H−k)/stride⌋+1;
 *        y = window max (first maximum; a NaN wins), arg = flat index into x of that element (as MaxPool2d in layers/pool.ts)
 *   maxPoolBackward?(dy, arg, dx, planes, H, W, k, stride): void       dx = 0 then dx[arg[o]] += dy[o]
 *   softmaxCrossEntropy?(logits, labels: Int32Array, n, C, dlogits | null): number
 *        mean_i −log softmax(z_i)[y_i]; writes dlogits = (softmax − onehot)/n (same as engine/loss.ts)
 *   gemmBatch?(transA, transB, M, N, K, A, strideA, B, strideB, C, strideC, count, accumulate): void
 *        for i < count: C_i = op(A_i)·op(B_i) (+ C_i), X_i = X.subarray(i·strideX); stride 0 shares an operand.
 *        One threaded dispatch for a whole batch (e.g. conv forward: A = W, strideA = 0, B = cols, C = y);
 *        bit-identical to count separate gemm calls.
 *   gemmBatchSum?(transA, transB, M, N, K, A, strideA, B, strideB, C, count, accumulate): void
 *        C (+)= Σ_i op(A_i)·op(B_i) (conv weight gradient); bit-identical to calling gemm(…, C, accumulate) for
 *        i = 0 with `accumulate`, then i = 1, 2, … with accumulate = true.
 *   im2colBatch?(x, n, C, H, W, kh, kw, stride, pad, cols): void      cols[(C·kh·kw) × (n·oh·ow)], image i in columns
 *        [i·oh·ow, (i+1)·oh·ow) (the batched conv layout: one GEMM W·cols for the whole batch)
 *   col2imBatch?(cols, n, C, H, W, kh, kw, stride, pad, dx): void      adjoint of im2colBatch; dx[n×C×H×W] overwritten
 *   channelsToBatch?(src, bias | null, n, C, S, relu, y): void         y[i,c,j] = act(src[c,i,j] + bias[c]),
 *        src = [C × n × S] (the batched conv GEMM output), y = [n × C × S]; act = ReLU if relu (NaN kept) else identity
 *   batchToChannels?(dy, mask | null, n, C, S, dst, dbias | null): void  dst[c,i,j] = dy[i,c,j]·[mask[i,c,j] > 0]
 *        (mask = the ReLU output, or null for none); dbias[c] += Σ_{i,j} dst[c,i,j] when dbias is given
 *   mark?(): number / release?(mark): void                             arena scope: release(m) frees (and re-zeroes) everything
 *        allocated after m = mark(); views from that span must not be used afterwards. Wrap each training run
 *        that uses the shared getKernels() in mark/release, or a long sweep grows kernel memory without bound.
 *   sgdMomentumStep?(x, g, b, n, lr, beta): void                       b ← β·b + g; x ← x − lr·b (float64 math, bit-identical
 *        to src/optim's pytorch loop). Do not call it directly: use `fastOptimizerStep` (kernels/optimizer-step.ts),
 *        a drop-in for optimizerStep that takes this path only where it is exact and falls back otherwise.
 * Int32Array arguments must come from allocInt32 of the same Kernels (the wasm kernels read them from memory).
 * Threads (wasm): gemm, gemmBatch(Sum), im2colBatch/col2imBatch, channelsToBatch/batchToChannels, max pooling, ReLU
 * and sgdMomentumStep spread large calls over all threads; every result is bit-identical whatever the thread count
 * (maxPoolBackward: each arg entry must point into its own plane, as maxPoolForward writes it).
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
  /** The allocation high-water mark, for `release`. */
  mark?(): number;
  /** Frees every allocation made after `mark` (their views must no longer be used); later allocs are zero-filled. */
  release?(mark: number): void;
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
   * Mean softmax cross-entropy of logits [n × C] against labels (max-shifted log-sum-exp); writes
   * dL/dz = (softmax(z) − onehot(y))/n into dlogits when not null.
   */
  softmaxCrossEntropy?(logits: Float32Array, labels: Int32Array, n: number, C: number, dlogits: Float32Array | null): number;
  /** im2col of n images into cols[(C·kh·kw) × (n·oh·ow)], image i occupying columns i·oh·ow … (i+1)·oh·ow − 1. */
  im2colBatch?(x: Float32Array, n: number, C: number, H: number, W: number, kh: number, kw: number, stride: number,
    pad: number, cols: Float32Array): void;
  /** Adjoint of im2colBatch: dx[n × C × H × W] (overwritten) from cols in the batch layout. */
  col2imBatch?(cols: Float32Array, n: number, C: number, H: number, W: number, kh: number, kw: number, stride: number,
    pad: number, dx: Float32Array): void;
  /** y[i, c, j] = act(src[c, i, j] + bias[c]) for src [C × n × S] → y [n × C × S]; act = ReLU when relu (NaN kept). */
  channelsToBatch?(src: Float32Array, bias: Float32Array | null, n: number, C: number, S: number, relu: boolean, y: Float32Array): void;
  /** dst[c, i, j] = dy[i, c, j]·[mask[i, c, j] > 0] (mask null: no gate); dbias[c] += Σ_{i,j} dst[c, i, j] if dbias. */
  batchToChannels?(dy: Float32Array, mask: Float32Array | null, n: number, C: number, S: number, dst: Float32Array,
    dbias: Float32Array | null): void;
  /**
   * count GEMMs C_i = op(A_i)·op(B_i) (+ C_i) with A_i = A.subarray(i·strideA) (likewise B, C; a stride of 0
   * shares the operand; C strides must not overlap). Same results as count `gemm` calls, one thread dispatch.
   */
  gemmBatch?(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, strideA: number,
    B: Float32Array, strideB: number, C: Float32Array, strideC: number, count: number, accumulate: boolean): void;
  /** C (+)= Σ_{i<count} op(A_i)·op(B_i), images added in order i = 0, 1, … (same results as successive gemm calls). */
  gemmBatchSum?(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, strideA: number,
    B: Float32Array, strideB: number, C: Float32Array, count: number, accumulate: boolean): void;
  /**
   * PyTorch heavy-ball step without weight decay, dampening or Nesterov, after the first step:
   * b ← β·b + g; x ← x − lr·b, in float64 with the unrounded b in the x update, as src/optim's loop.
   */
  sgdMomentumStep?(x: Float32Array, g: Float32Array, b: Float32Array, n: number, lr: number, beta: number): void;
}

export function convOutputSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}
