/**
 * Toy problems with analytic gradients and explicit gradient-noise models, evaluated for many chains at once.
 * Buffers are structure-of-arrays: chain c, coordinate j lives at x[c·dim + j], so one optimizer step over all
 * chains is one element-wise pass over a flat buffer.
 *
 * The stochastic gradient oracle is g = ∇L(x) + σ·v (docs/theory.md §2.1); the random numbers ω it consumes are drawn
 * by the caller, so coupled runs can feed the same ω to SGD and SGDM (common random numbers).
 */
import { check } from '../util/errors.js';

export interface Problem {
  readonly name: string;
  /** Coordinates per chain. */
  readonly dim: number;
  /** Random numbers one oracle call consumes per chain, and their law (N(0,1) or U[0,1)). */
  readonly noise: { readonly kind: 'normal' | 'uniform'; readonly perChain: number };
  /** out = g(x; ω) for every chain: the stochastic gradient oracle. */
  oracle(x: Float64Array, omega: Float64Array, out: Float64Array): void;
  /** out = ∇L(x) for every chain (the drift of the SDE). */
  gradient(x: Float64Array, out: Float64Array): void;
  /** out[c] = L(x_c). */
  loss(x: Float64Array, out: Float64Array): void;
  /**
   * Gaussian-noise problems only: out += scale · Σ(x)^{1/2} z with z ~ N(0, I) of length chains·perChain, the
   * diffusion of dX = −∇L dt + (ησ²Σ)^{1/2} dW (Euler–Maruyama uses scale = σ√(η·dt)).
   */
  diffusion?(x: Float64Array, z: Float64Array, scale: number, out: Float64Array): void;
  /** σ of the oracle (g = ∇L + σ·Σ^{1/2}z) where the noise is Gaussian. */
  readonly sigma?: number;
  /** Plain data that rebuilds this problem with `makeProblem` (how worker threads receive it). */
  readonly spec: ProblemSpec;
}

export type ProblemSpec =
  | { kind: 'quadratic'; lambdas: number[]; s: number }
  | { kind: 'double-well'; sigma: number }
  | { kind: 'label-noise-uv'; delta: number }
  | { kind: 'uv'; delta: number; noiseU: number; noiseV: number }
  | { kind: 'linear-regression'; data: LinearRegressionData; batch: number };

export function makeProblem(spec: ProblemSpec): Problem {
  switch (spec.kind) {
    case 'quadratic':
      return diagonalQuadratic(spec.lambdas, spec.s);
    case 'double-well':
      return doubleWell(spec.sigma);
    case 'label-noise-uv':
      return labelNoiseUV(spec.delta);
    case 'uv':
      return noisyUV(spec.delta, spec.noiseU, spec.noiseV);
    case 'linear-regression':
      return linearRegression(spec.data, spec.batch);
  }
}

/**
 * L(x) = ½ Σ_j λ_j x_j², g = λ ⊙ x + s·z, z ~ N(0, I): the quadratic of the paper's warm-up (Lemma 2.4) with
 * any diagonal spectrum λ and isotropic noise scale s (Σ = I, σ = s).
 */
export function diagonalQuadratic(lambdas: readonly number[], s: number): Problem {
  check(lambdas.length > 0, 'lambda', 'needs at least one eigenvalue');
  lambdas.forEach((l, j) => check(Number.isFinite(l) && l >= 0, `lambda[${j}]`, `must be a finite number ≥ 0, got ${l}`));
  check(Number.isFinite(s) && s >= 0, 's', `noise scale must be ≥ 0, got ${s}`);
  const dim = lambdas.length;
  const lam = Float64Array.from(lambdas);
  return {
    name: `quadratic(λ=[${lambdas.length <= 4 ? lambdas.join(', ') : `${lambdas.length} values`}], s=${s})`,
    dim,
    noise: { kind: 'normal', perChain: dim },
    sigma: s,
    spec: { kind: 'quadratic', lambdas: [...lambdas], s },
    oracle(x, z, out) {
      const n = x.length;
      if (dim === 1) {
        const l0 = lam[0]!;
        for (let i = 0; i < n; i++) out[i] = l0 * x[i]! + s * z[i]!;
        return;
      }
      // Coordinates in groups of 8 (then 2, then 1) with their λ_j in locals, one pass over the chains per group:
      // V8 runs this ~2.3× faster than the plain double loop (whose inner loop has only `dim` trips). Same
      // arithmetic per element (λ_j·x + s·z), so the same bits.
      const lm = lam;
      let j = 0;
      for (; j + 7 < dim; j += 8) {
        const l0 = lm[j]!, l1 = lm[j + 1]!, l2 = lm[j + 2]!, l3 = lm[j + 3]!, l4 = lm[j + 4]!, l5 = lm[j + 5]!, l6 = lm[j + 6]!, l7 = lm[j + 7]!;
        for (let i = j; i < n; i += dim) {
          out[i] = l0 * x[i]! + s * z[i]!;
          out[i + 1] = l1 * x[i + 1]! + s * z[i + 1]!;
          out[i + 2] = l2 * x[i + 2]! + s * z[i + 2]!;
          out[i + 3] = l3 * x[i + 3]! + s * z[i + 3]!;
          out[i + 4] = l4 * x[i + 4]! + s * z[i + 4]!;
          out[i + 5] = l5 * x[i + 5]! + s * z[i + 5]!;
          out[i + 6] = l6 * x[i + 6]! + s * z[i + 6]!;
          out[i + 7] = l7 * x[i + 7]! + s * z[i + 7]!;
        }
      }
      for (; j + 1 < dim; j += 2) {
        const l0 = lm[j]!, l1 = lm[j + 1]!;
        for (let i = j; i < n; i += dim) {
          out[i] = l0 * x[i]! + s * z[i]!;
          out[i + 1] = l1 * x[i + 1]! + s * z[i + 1]!;
        }
      }
      for (; j < dim; j++) {
        const l0 = lm[j]!;
        for (let i = j; i < n; i += dim) out[i] = l0 * x[i]! + s * z[i]!;
      }
    },
    gradient(x, out) {
      for (let i = 0; i < x.length; i += dim) for (let j = 0; j < dim; j++) out[i + j] = lam[j]! * x[i + j]!;
    },
    loss(x, out) {
      for (let c = 0, i = 0; i < x.length; c++, i += dim) {
        let l = 0;
        for (let j = 0; j < dim; j++) l += lam[j]! * x[i + j]! * x[i + j]!;
        out[c] = 0.5 * l;
      }
    },
    diffusion(_x, z, scale, out) {
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + scale * z[i]!;
    },
  };
}

/** L(x) = (x² − 1)²/4, ∇L = x³ − x, g = ∇L + σ·z (Σ = 1): the double well of T2. */
export function doubleWell(sigma: number): Problem {
  check(Number.isFinite(sigma) && sigma >= 0, 'sigma', `must be ≥ 0, got ${sigma}`);
  return {
    name: `double-well(σ=${sigma})`,
    dim: 1,
    noise: { kind: 'normal', perChain: 1 },
    sigma,
    spec: { kind: 'double-well', sigma },
    oracle(x, z, out) {
      for (let i = 0; i < x.length; i++) {
        const xi = x[i]!;
        out[i] = xi * (xi * xi - 1) + sigma * z[i]!;
      }
    },
    gradient(x, out) {
      for (let i = 0; i < x.length; i++) out[i] = x[i]! * (x[i]! * x[i]! - 1);
    },
    loss(x, out) {
      for (let i = 0; i < x.length; i++) out[i] = 0.25 * (x[i]! * x[i]! - 1) ** 2;
    },
    diffusion(_x, z, scale, out) {
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + scale * z[i]!;
    },
  };
}

/**
 * Label-noise model of T4: L(u, v) = ½(uv − y)², y = 1 + δξ, ξ ~ N(0, 1). The oracle is the gradient at a fresh
 * label: g = (uv − y)·(v, u); its mean is ∇L̄ with L̄(u, v) = ½(uv − 1)², and its covariance δ²(v, u)(v, u)ᵀ equals
 * δ²·∇²L̄ on the manifold Γ = {uv = 1}. Coordinates per chain: (u, v). `loss` is L̄ (the noise-free loss).
 */
export function labelNoiseUV(delta: number): Problem {
  check(Number.isFinite(delta) && delta >= 0, 'delta', `must be ≥ 0, got ${delta}`);
  return {
    name: `label-noise uv(δ=${delta})`,
    dim: 2,
    noise: { kind: 'normal', perChain: 1 },
    sigma: delta,
    spec: { kind: 'label-noise-uv', delta },
    oracle(x, z, out) {
      for (let c = 0, i = 0; i < x.length; c++, i += 2) {
        const u = x[i]!, v = x[i + 1]!;
        const r = u * v - 1 - delta * z[c]!;
        out[i] = r * v;
        out[i + 1] = r * u;
      }
    },
    gradient(x, out) {
      for (let i = 0; i < x.length; i += 2) {
        const u = x[i]!, v = x[i + 1]!;
        const r = u * v - 1;
        out[i] = r * v;
        out[i + 1] = r * u;
      }
    },
    loss(x, out) {
      for (let c = 0, i = 0; i < x.length; c++, i += 2) out[c] = 0.5 * (x[i]! * x[i + 1]! - 1) ** 2;
    },
    diffusion(x, z, scale, out) {
      for (let c = 0, i = 0; i < x.length; c++, i += 2) {
        // Σ^{1/2}z for the rank-one Σ = (v, u)(v, u)ᵀ (unit δ): the noise is −(v, u)·ξ.
        out[i] = out[i]! - scale * x[i + 1]! * z[c]!;
        out[i + 1] = out[i + 1]! - scale * x[i]! * z[c]!;
      }
    },
  };
}

/**
 * The uv model with label noise plus independent coordinate noise: g = (uv − 1 − δξ₀)·(v, u) + (s_u ξ₁, s_v ξ₂).
 * Its covariance δ²(v, u)(v, u)ᵀ + diag(s_u², s_v²) is not proportional to the Hessian on Γ = {uv = 1}, so the slow
 * SDE keeps a noise term (docs/theory.md §3.5). `loss` is L̄ = ½(uv − 1)².
 */
export function noisyUV(delta: number, noiseU: number, noiseV: number): Problem {
  for (const [name, v] of [['delta', delta], ['noiseU', noiseU], ['noiseV', noiseV]] as const) {
    check(Number.isFinite(v) && v >= 0, name, `must be ≥ 0, got ${v}`);
  }
  return {
    name: `uv(δ=${delta}, s_u=${noiseU}, s_v=${noiseV})`,
    dim: 2,
    noise: { kind: 'normal', perChain: 3 },
    spec: { kind: 'uv', delta, noiseU, noiseV },
    oracle(x, z, out) {
      for (let c = 0, i = 0; i < x.length; c++, i += 2) {
        const u = x[i]!, v = x[i + 1]!;
        const r = u * v - 1 - delta * z[3 * c]!;
        out[i] = r * v + noiseU * z[3 * c + 1]!;
        out[i + 1] = r * u + noiseV * z[3 * c + 2]!;
      }
    },
    gradient(x, out) {
      for (let i = 0; i < x.length; i += 2) {
        const r = x[i]! * x[i + 1]! - 1;
        out[i] = r * x[i + 1]!;
        out[i + 1] = r * x[i]!;
      }
    },
    loss(x, out) {
      for (let c = 0, i = 0; i < x.length; c++, i += 2) out[c] = 0.5 * (x[i]! * x[i + 1]! - 1) ** 2;
    },
  };
}

/**
 * A noisy 2-D valley for trajectory plots: L(x, y) = ½(μx² + κy²) with κ ≫ μ (a long flat valley along x),
 * g = ∇L + s·z.
 */
export function noisyValley(mu = 0.05, kappa = 1, s = 1): Problem {
  const p = diagonalQuadratic([mu, kappa], s);
  return { ...p, name: `valley(μ=${mu}, κ=${kappa}, s=${s})` };
}

export interface LinearRegressionData {
  /** n × d inputs, row-major. */
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  /** Input covariance eigenvalues (diagonal): the Hessian spectrum of the population loss. */
  spectrum: Float64Array;
}

/**
 * Synthetic regression data of T5: x_i ~ N(0, diag(spectrum)), spectrum log-spaced in [λ_min, λ_max],
 * w* ~ N(0, I/d), y_i = x_iᵀw* + noise·ε_i.
 */
export function linearRegressionData(opts: { n: number; d: number; lambdaMin: number; lambdaMax: number; labelNoise: number;
  normals: (out: Float64Array) => Float64Array }): LinearRegressionData {
  const { n, d, lambdaMin, lambdaMax, labelNoise } = opts;
  const spectrum = new Float64Array(d);
  for (let j = 0; j < d; j++) spectrum[j] = d === 1 ? lambdaMax : lambdaMin * (lambdaMax / lambdaMin) ** (j / (d - 1));
  const X = opts.normals(new Float64Array(n * d));
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = X[i * d + j]! * Math.sqrt(spectrum[j]!);
  const w = opts.normals(new Float64Array(d));
  for (let j = 0; j < d; j++) w[j] = w[j]! / Math.sqrt(d);
  const eps = opts.normals(new Float64Array(n));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!;
    y[i] = s + labelNoise * eps[i]!;
  }
  return { X, y, n, d, spectrum };
}

/**
 * Training loss L(w) = (1/2n) Σ_i (x_iᵀw − y_i)² with the minibatch oracle g = (1/B) Σ_{i∈batch} x_i(x_iᵀw − y_i),
 * batch indices drawn uniformly with replacement from ω ~ U[0,1)^B.
 */
export function linearRegression(data: LinearRegressionData, batch: number): Problem {
  check(Number.isInteger(batch) && batch >= 1, 'batch', `must be an integer ≥ 1, got ${batch}`);
  const { X, y, n, d } = data;
  const residualSum = (w: Float64Array, off: number, row: number): number => {
    let s = -y[row]!;
    const r0 = row * d;
    for (let j = 0; j < d; j++) s += X[r0 + j]! * w[off + j]!;
    return s;
  };
  return {
    name: `linear-regression(n=${n}, d=${d}, B=${batch})`,
    dim: d,
    noise: { kind: 'uniform', perChain: batch },
    spec: { kind: 'linear-regression', data, batch },
    oracle(w, omega, out) {
      const inv = 1 / batch;
      for (let c = 0, off = 0; off < w.length; c++, off += d) {
        out.fill(0, off, off + d);
        for (let b = 0; b < batch; b++) {
          const row = Math.floor(omega[c * batch + b]! * n);
          const r = residualSum(w, off, row) * inv;
          const r0 = row * d;
          for (let j = 0; j < d; j++) out[off + j] = out[off + j]! + r * X[r0 + j]!;
        }
      }
    },
    gradient(w, out) {
      const inv = 1 / n;
      for (let off = 0; off < w.length; off += d) {
        out.fill(0, off, off + d);
        for (let row = 0; row < n; row++) {
          const r = residualSum(w, off, row) * inv;
          const r0 = row * d;
          for (let j = 0; j < d; j++) out[off + j] = out[off + j]! + r * X[r0 + j]!;
        }
      }
    },
    loss(w, out) {
      for (let c = 0, off = 0; off < w.length; c++, off += d) {
        let s = 0;
        for (let row = 0; row < n; row++) s += residualSum(w, off, row) ** 2;
        out[c] = s / (2 * n);
      }
    },
  };
}
