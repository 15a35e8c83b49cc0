/**
 * Linear (llm.c's matmul_forward/backward), over the last dimension; leading dimensions are rows:
 *   forward   x [n, …, I] → y [n, …, O]      y = x·Wᵀ + b   (ReLU(·) when fused)
 *   backward  dy [n, …, O] → dx [n, …, I]    dx = dy·W,  dW += dyᵀ·x,  db += Σ_rows dy   (dy masked by y > 0 when fused)
 * Parameters: weight [O × I], bias [O], both U(−1/√I, 1/√I) as torch.nn.Linear.
 */
import type { Buf } from '../backend.js';
import { pytorchDefaultBound, type Param } from '../params.js';
import { Base, EMPTY, type BuildContext } from './base.js';

/** y = x·Wᵀ + b over the last dimension (W stored [out × in] as in PyTorch). */
export class Linear extends Base {
  readonly kind = 'linear';
  readonly weight: Param;
  readonly bias: Param | null;
  private readonly rows: number;
  private dyMasked: Buf = EMPTY;
  /** With `relu`, y = ReLU(x·Wᵀ + b) fused into the bias pass. */
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly outFeatures: number, bias = true, readonly relu = false) {
    const inF = inShape[inShape.length - 1]!;
    super(ctx.backend, inShape, [...inShape.slice(0, -1), outFeatures]);
    this.rows = this.inSize / inF;
    const bound = pytorchDefaultBound(inF);
    this.weight = ctx.store.declare(`${name}.weight`, [outFeatures, inF], { kind: 'uniform', bound });
    this.bias = bias ? ctx.store.declare(`${name}.bias`, [outFeatures], { kind: 'uniform', bound }, true) : null;
  }
  protected override allocExtra(capacity: number): void {
    if (this.relu) this.dyMasked = this.be.alloc(capacity * this.outSize);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const M = n * this.rows, O = this.outFeatures, I = this.inShape[this.inShape.length - 1]!;
    const y = this.out;
    this.be.gemm(false, true, M, O, I, x, this.weight.data, y, false);
    const k = this.kern;
    if (k !== null && k.biasAdd !== undefined && k.reluForward !== undefined) {
      if (this.bias !== null) k.biasAdd(y as Float32Array, this.bias.data as Float32Array, M, O, 1);
      if (this.relu) k.reluForward(y as Float32Array, y as Float32Array, M * O);
    } else if (this.bias !== null || this.relu) {
      const b = this.bias === null ? null : this.bias.data;
      for (let r = 0; r < M; r++) {
        const o = r * O;
        if (b !== null) for (let j = 0; j < O; j++) y[o + j] += b[j]!;
        if (this.relu) for (let j = 0; j < O; j++) { const v = y[o + j]!; y[o + j] = (v + Math.abs(v)) * 0.5; }
      }
    }
    return y;
  }
  backward(dyIn: Buf, n: number): Buf {
    const M = n * this.rows, O = this.outFeatures, I = this.inShape[this.inShape.length - 1]!;
    let dy = dyIn;
    const k = this.kern;
    if (this.relu) {
      // dy may be shared (residual branches), so the mask goes into a private buffer.
      const y = this.out, d = this.dyMasked;
      if (k?.reluBackward !== undefined) k.reluBackward(y as Float32Array, dyIn as Float32Array, d as Float32Array, M * O);
      else for (let i = 0; i < M * O; i++) d[i] = dyIn[i]! * +(y[i]! > 0);
      dy = d;
    }
    this.be.gemm(true, false, O, I, M, dy, this.x, this.weight.grad, true);
    if (this.bias !== null && k?.biasGrad !== undefined) k.biasGrad(dy as Float32Array, this.bias.grad as Float32Array, M, O, 1);
    else if (this.bias !== null) {
      const db = this.bias.grad;
      for (let r = 0; r < M; r++) {
        const o = r * O;
        for (let j = 0; j < O; j++) db[j] += dy[o + j]!;
      }
    }
    if (this.needsInputGrad) this.be.gemm(false, false, M, I, O, dy, this.weight.data, this.dx, false);
    return this.dx;
  }
}
