/**
 * Normalisation layers (llm.c's layernorm_forward/backward for LayerNorm); the output has the input's shape:
 *   BatchNorm  x [n, C, …spatial] → y, statistics per channel over n·spatial values;  dy → dx, dγ [C], dβ [C]
 *   LayerNorm  x [n, …, D] → y, statistics per row of D values;                         dy → dx, dγ [D], dβ [D]
 */
import type { Buf } from '../backend.js';
import type { Param } from '../params.js';
import { Base, type BuildContext } from './base.js';

/**
 * BatchNorm over channel 0 of [C, ...spatial] (BatchNorm1d on [C], BatchNorm2d on [C, H, W]), PyTorch semantics:
 * train mode normalises with the biased batch variance and updates running_mean/var with momentum 0.1, using the
 * unbiased variance (·m/(m−1), m = n·spatial) for running_var; eval mode uses the running statistics. eps = 1e-5.
 */
export class BatchNorm extends Base {
  readonly kind = 'batchnorm';
  readonly weight: Param;
  readonly bias: Param;
  readonly runningMean: Buf;
  readonly runningVar: Buf;
  private readonly C: number;
  private readonly S: number;
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private lastTrain = true;
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly momentum = 0.1, readonly eps = 1e-5) {
    super(ctx.backend, inShape, inShape);
    this.C = inShape[0]!;
    this.S = this.inSize / this.C;
    this.weight = ctx.store.declare(`${name}.weight`, [this.C], { kind: 'constant', value: 1 }, true);
    this.bias = ctx.store.declare(`${name}.bias`, [this.C], { kind: 'constant', value: 0 }, true);
    this.runningMean = ctx.backend.alloc(this.C);
    this.runningVar = ctx.backend.alloc(this.C);
    this.runningVar.fill(1);
    this.mean = new Float64Array(this.C);
    this.invStd = new Float64Array(this.C);
  }
  override stateBuffers(): Buf[] {
    return [this.runningMean, this.runningVar];
  }
  forward(x: Buf, n: number, train: boolean): Buf {
    this.x = x;
    this.lastTrain = train;
    const { C, S } = this;
    const y = this.out, g = this.weight.data, b = this.bias.data;
    const m = n * S;
    for (let c = 0; c < C; c++) {
      let mu: number, istd: number;
      if (train) {
        // One pass with a shift K = first element (the "shifted data" variance, exact in float64 for float32 data
        // far beyond the cancellation that plain Σx² − m·μ² would suffer).
        const K = x[c * S]!;
        let s = 0, s2 = 0;
        for (let i = 0; i < n; i++) {
          const o = (i * C + c) * S;
          for (let j = 0; j < S; j++) { const d = x[o + j]! - K; s += d; s2 += d * d; }
        }
        mu = K + s / m;
        const v = Math.max(s2 - (s * s) / m, 0);
        const varB = v / m;
        istd = 1 / Math.sqrt(varB + this.eps);
        this.runningMean[c] = (1 - this.momentum) * this.runningMean[c]! + this.momentum * mu;
        this.runningVar[c] = (1 - this.momentum) * this.runningVar[c]! + this.momentum * (m > 1 ? (v / (m - 1)) : varB);
      } else {
        mu = this.runningMean[c]!;
        istd = 1 / Math.sqrt(this.runningVar[c]! + this.eps);
      }
      this.mean[c] = mu;
      this.invStd[c] = istd;
      const a = g[c]! * istd, bb = b[c]! - mu * a;
      for (let i = 0; i < n; i++) { const o = (i * C + c) * S; for (let j = 0; j < S; j++) y[o + j] = x[o + j]! * a + bb; }
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const { C, S } = this;
    const x = this.x, dx = this.dx, g = this.weight.data, dg = this.weight.grad, db = this.bias.grad;
    const m = n * S;
    for (let c = 0; c < C; c++) {
      const mu = this.mean[c]!, istd = this.invStd[c]!;
      let sdy = 0, sdyx = 0;
      for (let i = 0; i < n; i++) {
        const o = (i * C + c) * S;
        for (let j = 0; j < S; j++) { const d = dy[o + j]!; sdy += d; sdyx += d * (x[o + j]! - mu) * istd; }
      }
      dg[c] += sdyx;
      db[c] += sdy;
      if (!this.needsInputGrad) continue;
      const gi = g[c]! * istd;
      if (this.lastTrain) {
        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
        const mdy = sdy / m, mdyx = sdyx / m;
        for (let i = 0; i < n; i++) {
          const o = (i * C + c) * S;
          for (let j = 0; j < S; j++) dx[o + j] = gi * (dy[o + j]! - mdy - (x[o + j]! - mu) * istd * mdyx);
        }
      } else {
        for (let i = 0; i < n; i++) { const o = (i * C + c) * S; for (let j = 0; j < S; j++) dx[o + j] = gi * dy[o + j]!; }
      }
    }
    return dx;
  }
}

/** LayerNorm over the last dimension D (eps 1e-5, affine), as torch.nn.LayerNorm(D). */
export class LayerNorm extends Base {
  readonly kind = 'layernorm';
  readonly weight: Param;
  readonly bias: Param;
  private readonly D: number;
  private mean = new Float64Array(0);
  private rstd = new Float64Array(0);
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly eps = 1e-5) {
    super(ctx.backend, inShape, inShape);
    this.D = inShape[inShape.length - 1]!;
    this.weight = ctx.store.declare(`${name}.weight`, [this.D], { kind: 'constant', value: 1 }, true);
    this.bias = ctx.store.declare(`${name}.bias`, [this.D], { kind: 'constant', value: 0 }, true);
  }
  protected override allocExtra(capacity: number): void {
    const rows = (capacity * this.inSize) / this.D;
    this.mean = new Float64Array(rows);
    this.rstd = new Float64Array(rows);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const D = this.D, rows = (n * this.inSize) / D, y = this.out, w = this.weight.data, b = this.bias.data;
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      let s = 0;
      for (let j = 0; j < D; j++) s += x[o + j]!;
      const mu = s / D;
      let v = 0;
      for (let j = 0; j < D; j++) { const d = x[o + j]! - mu; v += d * d; }
      const rs = 1 / Math.sqrt(v / D + this.eps);
      this.mean[r] = mu; this.rstd[r] = rs;
      for (let j = 0; j < D; j++) y[o + j] = (x[o + j]! - mu) * rs * w[j]! + b[j]!;
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const D = this.D, rows = (n * this.inSize) / D, x = this.x, dx = this.dx;
    const w = this.weight.data, dw = this.weight.grad, db = this.bias.grad;
    for (let r = 0; r < rows; r++) {
      const o = r * D, mu = this.mean[r]!, rs = this.rstd[r]!;
      let sdn = 0, sdnx = 0;
      for (let j = 0; j < D; j++) {
        const xh = (x[o + j]! - mu) * rs, d = dy[o + j]!, dn = d * w[j]!;
        sdn += dn; sdnx += dn * xh;
        dw[j] += d * xh; db[j] += d;
      }
      const mdn = sdn / D, mdnx = sdnx / D;
      for (let j = 0; j < D; j++) {
        const xh = (x[o + j]! - mu) * rs;
        dx[o + j] = (dy[o + j]! * w[j]! - mdn - xh * mdnx) * rs;
      }
    }
    return dx;
  }
}
