/** Plain TypeScript kernels: the oracle the fast kernels are tested against. */
import { convOutputSize, type Kernels } from './api.js';

export function referenceGemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: ArrayLike<number>, B: ArrayLike<number>, C: { [i: number]: number }, accumulate: boolean): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let p = 0; p < K; p++) {
        const a = transA ? A[p * M + i]! : A[i * K + p]!;
        const b = transB ? B[j * K + p]! : B[p * N + j]!;
        s += a * b;
      }
      C[i * N + j] = accumulate ? C[i * N + j]! + s : s;
    }
  }
}

export function referenceIm2col(x: ArrayLike<number>, C: number, H: number, W: number, kh: number, kw: number,
  stride: number, pad: number, cols: { [i: number]: number }): void {
  const oh = convOutputSize(H, kh, stride, pad);
  const ow = convOutputSize(W, kw, stride, pad);
  for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
    const row = (c * kh + ki) * kw + kj;
    for (let y = 0; y < oh; y++) for (let z = 0; z < ow; z++) {
      const iy = y * stride - pad + ki;
      const iz = z * stride - pad + kj;
      cols[row * oh * ow + y * ow + z] = iy >= 0 && iy < H && iz >= 0 && iz < W ? x[(c * H + iy) * W + iz]! : 0;
    }
  }
}

export function referenceCol2im(cols: ArrayLike<number>, C: number, H: number, W: number, kh: number, kw: number,
  stride: number, pad: number, dx: { [i: number]: number; fill?: unknown }): void {
  const oh = convOutputSize(H, kh, stride, pad);
  const ow = convOutputSize(W, kw, stride, pad);
  for (let i = 0; i < C * H * W; i++) dx[i] = 0;
  for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
    const row = (c * kh + ki) * kw + kj;
    for (let y = 0; y < oh; y++) for (let z = 0; z < ow; z++) {
      const iy = y * stride - pad + ki;
      const iz = z * stride - pad + kj;
      if (iy >= 0 && iy < H && iz >= 0 && iz < W) dx[(c * H + iy) * W + iz] = dx[(c * H + iy) * W + iz]! + cols[row * oh * ow + y * ow + z]!;
    }
  }
}

type Out = { [i: number]: number };

function referenceBiasAdd(y: Out, bias: ArrayLike<number>, outer: number, channels: number, inner: number): void {
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const b = bias[c]!, base = (o * channels + c) * inner;
    for (let i = 0; i < inner; i++) y[base + i] = y[base + i]! + b;
  }
}

function referenceBiasGrad(dy: ArrayLike<number>, dbias: Out, outer: number, channels: number, inner: number): void {
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const base = (o * channels + c) * inner;
    let s = 0;
    for (let i = 0; i < inner; i++) s += dy[base + i]!;
    dbias[c] = dbias[c]! + s;
  }
}

function referenceReluForward(x: ArrayLike<number>, y: Out, n: number): void {
  for (let i = 0; i < n; i++) { const v = x[i]!; y[i] = v > 0 ? v : 0; }
}

function referenceReluBackward(y: ArrayLike<number>, dy: ArrayLike<number>, dx: Out, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
}

export function referenceMaxPoolForward(x: ArrayLike<number>, y: Out, arg: Out, planes: number, H: number, W: number,
  k: number, stride: number): void {
  const OH = convOutputSize(H, k, stride, 0), OW = convOutputSize(W, k, stride, 0);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      let best = -Infinity, bi = base + oy * stride * W + ox * stride;
      for (let ky = 0; ky < k; ky++) {
        const row = base + (oy * stride + ky) * W + ox * stride;
        for (let kx = 0; kx < k; kx++) {
          const v = x[row + kx]!;
          if (v > best || v !== v) { best = v; bi = row + kx; }
        }
      }
      y[o] = best; arg[o] = bi; o++;
    }
  }
}

function referenceMaxPoolBackward(dy: ArrayLike<number>, arg: ArrayLike<number>, dx: Out, planes: number,
  H: number, W: number, k: number, stride: number): void {
  const m = planes * convOutputSize(H, k, stride, 0) * convOutputSize(W, k, stride, 0);
  for (let i = 0; i < planes * H * W; i++) dx[i] = 0;
  for (let o = 0; o < m; o++) dx[arg[o]!] = dx[arg[o]!]! + dy[o]!;
}

/** Same loop, same operation order as pytorchStep's fast branch in src/core/optim/sgd.ts. */
function referenceSgdMomentumStep(x: Out, g: ArrayLike<number>, b: Out, n: number, lr: number, beta: number): void {
  const a = -lr;
  for (let i = 0; i < n; i++) {
    const bi = b[i]! * beta + g[i]!;
    b[i] = bi;
    x[i] = x[i]! + a * bi;
  }
}

export function createReferenceKernels(): Kernels {
  return {
    name: 'reference-ts',
    alloc: (n) => new Float32Array(n),
    gemm: referenceGemm,
    im2col: referenceIm2col,
    col2im: referenceCol2im,
    dispose: () => {},
    allocInt32: (n) => new Int32Array(n),
    biasAdd: referenceBiasAdd,
    biasGrad: referenceBiasGrad,
    reluForward: referenceReluForward,
    reluBackward: referenceReluBackward,
    maxPoolForward: referenceMaxPoolForward,
    maxPoolBackward: referenceMaxPoolBackward,
    sgdMomentumStep: referenceSgdMomentumStep,
  };
}
