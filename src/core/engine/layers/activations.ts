/**
 * Element-wise activations (llm.c's gelu_forward/backward): x [n, …] → y [n, …] of the same shape, dy → dx.
 * ReLU and Tanh compute the derivative from the kept output y; GELU keeps Φ(x) and x.
 */
import type { Buf } from '../backend.js';
import { Base, EMPTY, type BuildContext } from './base.js';

export class ReLU extends Base {
  readonly kind = 'relu';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, inShape); }
  // Branch-free forms: (v + |v|)/2 is exact and ~4× faster than `v > 0 ? v : 0` on unpredictable signs.
  forward(x: Buf, n: number): Buf {
    const y = this.out, m = n * this.inSize;
    if (this.kern?.reluForward !== undefined) this.kern.reluForward(x as Float32Array, y as Float32Array, m);
    else for (let i = 0; i < m; i++) { const v = x[i]!; y[i] = (v + Math.abs(v)) * 0.5; }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const y = this.out, dx = this.dx, m = n * this.inSize;
    if (this.kern?.reluBackward !== undefined) this.kern.reluBackward(y as Float32Array, dy as Float32Array, dx as Float32Array, m);
    else for (let i = 0; i < m; i++) dx[i] = dy[i]! * +(y[i]! > 0);
    return dx;
  }
}

export class Tanh extends Base {
  readonly kind = 'tanh';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, inShape); }
  forward(x: Buf, n: number): Buf {
    const y = this.out, m = n * this.inSize;
    for (let i = 0; i < m; i++) y[i] = Math.tanh(x[i]!);
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const y = this.out, dx = this.dx, m = n * this.inSize;
    for (let i = 0; i < m; i++) { const t = y[i]!; dx[i] = dy[i]! * (1 - t * t); }
    return dx;
  }
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf to ~1e-15: Maclaurin series for |x| < 2.5, continued fraction for erfc beyond (both double-precision
 * accurate there), so GELU and its gradient match torch's exact-erf GELU in float64 gradient checks.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)^k x^(2k+1) / (k!(2k+1))
    const x2 = x * x;
    let term = x, sum = x;
    for (let k = 1; k < 60; k++) {
      term *= -x2 / k;
      const t = term / (2 * k + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return x > 0 ? 1 : -1;
  // erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) evaluated by Lentz's method.
  const tiny = 1e-300;
  let f = ax, C = ax, D = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    D = ax + a * D; if (D === 0) D = tiny; D = 1 / D;
    C = ax + a / C; if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/**
 * erf with absolute error < 1.2e-7 (Numerical Recipes' Chebyshev fit of erfc), below float32 resolution and ~3×
 * faster than `erf`; the float32 path uses it, the float64 path (gradient checks, torch fixtures) the exact one.
 */
export function erfFast(x: number): number {
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** GELU(x) = x·Φ(x) with the exact erf (torch.nn.GELU() default); GELU'(x) = Φ(x) + x·φ(x). Φ is kept for backward. */
export class GELU extends Base {
  readonly kind = 'gelu';
  private cdf: Buf = EMPTY;
  constructor(ctx: BuildContext, inShape: readonly number[]) {
    super(ctx.backend, inShape, inShape);
  }
  protected override allocExtra(capacity: number): void {
    this.cdf = this.be.alloc(capacity * this.inSize);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const y = this.out, cdf = this.cdf, m = n * this.inSize;
    if (this.be.precision === 'float32') {
      for (let i = 0; i < m; i++) { const v = x[i]!, p = 0.5 * (1 + erfFast(v * SQRT1_2)); cdf[i] = p; y[i] = v * p; }
    } else {
      for (let i = 0; i < m; i++) { const v = x[i]!, p = 0.5 * (1 + erf(v * SQRT1_2)); cdf[i] = p; y[i] = v * p; }
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const x = this.x, dx = this.dx, cdf = this.cdf, m = n * this.inSize;
    for (let i = 0; i < m; i++) {
      const v = x[i]!;
      dx[i] = dy[i]! * (cdf[i]! + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
    }
    return dx;
  }
}
