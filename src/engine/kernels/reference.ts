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

export function createReferenceKernels(): Kernels {
  return {
    name: 'reference-ts',
    alloc: (n) => new Float32Array(n),
    gemm: referenceGemm,
    im2col: referenceIm2col,
    col2im: referenceCol2im,
    dispose: () => {},
  };
}
