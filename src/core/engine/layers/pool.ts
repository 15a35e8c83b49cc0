/**
 * Pooling over NCHW images, no padding:
 *   MaxPool2d, AvgPool2d  x [n, C, H, W] → y [n, C, OH, OW]   OH = ⌊(H − k)/stride⌋ + 1;  dy → dx [n, C, H, W]
 *   GlobalAvgPool         x [n, C, H, W] → y [n, C];  dy [n, C] → dx [n, C, H, W] (each dy spread as dy/(H·W))
 */
import { convOutputSize } from '../kernels/api.js';
import { referenceMaxPoolForward } from '../kernels/reference.js';
import type { Buf } from '../backend.js';
import { Base, type BuildContext } from './base.js';

/** Max pooling (no padding); the gradient goes to the first maximal element of each window, as in PyTorch. */
export class MaxPool2d extends Base {
  readonly kind = 'maxpool2d';
  private arg: Int32Array<ArrayBufferLike> = new Int32Array(0);
  constructor(ctx: BuildContext, inShape: readonly number[], readonly k: number, readonly stride = k) {
    const [C, H, W] = inShape as [number, number, number];
    super(ctx.backend, inShape, [C, convOutputSize(H, k, stride, 0), convOutputSize(W, k, stride, 0)]);
  }
  protected override allocExtra(capacity: number): void {
    const kern = this.kern;
    this.arg = kern?.allocInt32 !== undefined && kern.maxPoolForward !== undefined ? kern.allocInt32(capacity * this.outSize) : new Int32Array(capacity * this.outSize);
  }
  forward(x: Buf, n: number): Buf {
    const kern = this.kern;
    if (kern !== null && kern.maxPoolForward !== undefined && kern.allocInt32 !== undefined) {
      const [C, H, W] = this.inShape as [number, number, number];
      kern.maxPoolForward(x as Float32Array, this.out as Float32Array, this.arg, n * C, H, W, this.k, this.stride);
      return this.out;
    }
    // float64 path (gradient checks): the plain loop of the reference kernels, first maximum kept, NaN wins.
    const [C, H, W] = this.inShape as [number, number, number];
    referenceMaxPoolForward(x, this.out, this.arg, n * C, H, W, this.k, this.stride);
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const dx = this.dx, arg = this.arg, kern = this.kern;
    if (kern !== null && kern.maxPoolBackward !== undefined && kern.allocInt32 !== undefined) {
      const [C, H, W] = this.inShape as [number, number, number];
      kern.maxPoolBackward(dy as Float32Array, arg, dx as Float32Array, n * C, H, W, this.k, this.stride);
      return dx;
    }
    dx.fill(0, 0, n * this.inSize);
    const m = n * this.outSize;
    for (let o = 0; o < m; o++) dx[arg[o]!] += dy[o]!;
    return dx;
  }
}

/** Average pooling (no padding). */
export class AvgPool2d extends Base {
  readonly kind = 'avgpool2d';
  constructor(ctx: BuildContext, inShape: readonly number[], readonly k: number, readonly stride = k) {
    const [C, H, W] = inShape as [number, number, number];
    super(ctx.backend, inShape, [C, convOutputSize(H, k, stride, 0), convOutputSize(W, k, stride, 0)]);
  }
  forward(x: Buf, n: number): Buf {
    const [, H, W] = this.inShape as [number, number, number];
    const [C, OH, OW] = this.outShape as [number, number, number];
    const { k, stride } = this;
    const inv = 1 / (k * k);
    let o = 0;
    for (let p = 0; p < n * C; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
        let s = 0;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) s += x[base + (oy * stride + ky) * W + ox * stride + kx]!;
        this.out[o++] = s * inv;
      }
    }
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const [, H, W] = this.inShape as [number, number, number];
    const [C, OH, OW] = this.outShape as [number, number, number];
    const { k, stride } = this;
    const dx = this.dx, inv = 1 / (k * k);
    dx.fill(0, 0, n * this.inSize);
    let o = 0;
    for (let p = 0; p < n * C; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
        const g = dy[o++]! * inv;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) dx[base + (oy * stride + ky) * W + ox * stride + kx] += g;
      }
    }
    return dx;
  }
}

/** [C, H, W] → [C]: mean over the spatial positions. */
export class GlobalAvgPool extends Base {
  readonly kind = 'globalavgpool';
  constructor(ctx: BuildContext, inShape: readonly number[]) {
    super(ctx.backend, inShape, [inShape[0]!]);
  }
  forward(x: Buf, n: number): Buf {
    const S = this.inSize / this.outSize, inv = 1 / S;
    for (let p = 0; p < n * this.outSize; p++) {
      let s = 0;
      for (let j = 0; j < S; j++) s += x[p * S + j]!;
      this.out[p] = s * inv;
    }
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const S = this.inSize / this.outSize, inv = 1 / S;
    for (let p = 0; p < n * this.outSize; p++) {
      const g = dy[p]! * inv;
      for (let j = 0; j < S; j++) this.dx[p * S + j] = g;
    }
    return this.dx;
  }
}
