/**
 * Sharpness: the top Hessian eigenvalue λ_max of a loss, from Hessian-vector products only.
 *
 * Everything here works on an abstract HVP `hvp(v, out)` (out ← ∇²L·v, float64 vectors), so the same code runs on
 * an exact quadratic, on an analytic R-operator, or on `finiteDifferenceHvp` wrapped around any gradient function
 * (the engine's models, a synthetic problem). λ_max matters because of the stability thresholds of docs/theory.md §3.2:
 * SGD needs ηλ < 2, normalised SGDM ηλ < 2(1+β)/(1−β).
 */
import { Rng } from '../util/rng.js';
import { axpy, dot, norm2, randomUnitVector, scale, symmetricEigen, type FloatBuffer } from './linalg.js';

/** out ← H·v for a fixed symmetric H (the Hessian at fixed parameters and a fixed batch). */
export type Hvp = (v: Float64Array, out: Float64Array) => void;

/** grad ← ∇L(params); returns L (or nothing). Must be deterministic: fixed batch, no dropout, BN in eval mode. */
export type GradFn = (params: FloatBuffer, grad: FloatBuffer) => number | void;

export interface EigenEstimate {
  /** The eigenvalue estimate (Rayleigh quotient / Ritz value). */
  value: number;
  /** Its unit eigenvector estimate. */
  vector: Float64Array;
  /** ‖Hv − λv‖ for the returned pair (computed by Lanczos from the recurrence, by power iteration exactly). */
  residual: number;
  /** Hessian-vector products spent. */
  hvpCalls: number;
  converged: boolean;
}

export interface PowerIterationOptions {
  maxIterations?: number;
  /** Stop when |λ_k − λ_{k−1}| ≤ tol·|λ_k|. */
  tol?: number;
  seed?: number;
  start?: Float64Array;
}

/**
 * Power iteration v ← Hv/‖Hv‖ with Rayleigh quotient λ = vᵀHv. Converges to the eigenvalue of largest
 * magnitude (signed), at rate |λ₂/λ₁| per step; for the algebraically largest eigenvalue of an indefinite
 * Hessian, or for a fast answer on a clustered spectrum, use `lanczos`.
 */
export function powerIteration(hvp: Hvp, n: number, opts: PowerIterationOptions = {}): EigenEstimate {
  const maxIt = opts.maxIterations ?? 100;
  const tol = opts.tol ?? 1e-6;
  const rng = new Rng(opts.seed ?? 1);
  const v = opts.start !== undefined ? Float64Array.from(opts.start) : randomUnitVector(n, () => rng.normal());
  scale(1 / norm2(v), v);
  const hv = new Float64Array(n);
  let lambda = NaN;
  let calls = 0;
  let converged = false;
  for (let it = 0; it < maxIt; it++) {
    hvp(v, hv);
    calls++;
    const next = dot(v, hv);
    const hnorm = norm2(hv);
    if (hnorm === 0) {
      lambda = 0;
      converged = true;
      break;
    }
    const done = Number.isFinite(lambda) && Math.abs(next - lambda) <= tol * Math.abs(next);
    lambda = next;
    if (done) {
      converged = true;
      break;
    }
    for (let i = 0; i < n; i++) v[i] = hv[i]! / hnorm;
  }
  // Residual of the returned pair, one more product (the loop's last v may have been replaced by Hv/‖Hv‖).
  hvp(v, hv);
  calls++;
  lambda = dot(v, hv);
  axpy(-lambda, v, hv);
  return { value: lambda, vector: v, residual: norm2(hv), hvpCalls: calls, converged };
}

export interface LanczosOptions {
  /** Krylov dimension k (HVPs spent); default min(n, 20). */
  steps?: number;
  seed?: number;
  start?: Float64Array;
  /** How many top Ritz vectors to form (each costs k·n flops); default 1. */
  vectors?: number;
  /** Stop early when the top Ritz pair's residual bound ≤ tol·|θ₁|; default 1e-10. */
  tol?: number;
}

export interface LanczosResult {
  /** Ritz values θ₁ ≥ θ₂ ≥ … of the k×k tridiagonal T (approximate the extreme eigenvalues of H). */
  values: Float64Array;
  /** Residual bounds ‖Hy_i − θ_i y_i‖ = β_k·|s_{k,i}| for each Ritz value (exact arithmetic, full reorthogonalisation). */
  residuals: Float64Array;
  /** The top `vectors` Ritz vectors y_i = Q s_i, unit norm. */
  ritzVectors: Float64Array[];
  /** Krylov dimension actually used (less than requested on invariant-subspace breakdown or early convergence). */
  steps: number;
  hvpCalls: number;
  top: EigenEstimate;
}

/**
 * Lanczos tridiagonalisation with full reorthogonalisation (classical Gram–Schmidt applied twice against every
 * previous Lanczos vector, "twice is enough" — Giraud et al. 2005), which keeps Q orthonormal to working precision
 * so Ritz values do not duplicate (no ghost eigenvalues). Memory is k·n float64 — meant for small k (≤ ~50).
 * The extreme Ritz values converge far faster than power iteration: error ~ exp(−4k·√(gap/spread)) (Kaniel–Paige).
 */
export function lanczos(hvp: Hvp, n: number, opts: LanczosOptions = {}): LanczosResult {
  const kMax = Math.max(1, Math.min(n, opts.steps ?? 20));
  const tol = opts.tol ?? 1e-10;
  const rng = new Rng(opts.seed ?? 1);
  const q0 = opts.start !== undefined ? Float64Array.from(opts.start) : randomUnitVector(n, () => rng.normal());
  scale(1 / norm2(q0), q0);
  const Q: Float64Array[] = [q0];
  const alpha: number[] = [];
  const beta: number[] = [];
  const w = new Float64Array(n);
  let calls = 0;
  let lastBeta = 0;
  let eig = symmetricEigen(new Float64Array([0]), 1);
  for (let j = 0; j < kMax; j++) {
    const q = Q[j]!;
    hvp(q, w);
    calls++;
    const a = dot(q, w);
    alpha.push(a);
    for (let pass = 0; pass < 2; pass++) {
      for (const qi of Q) axpy(-dot(qi, w), qi, w);
    }
    const b = norm2(w);
    lastBeta = b;
    const k = alpha.length;
    eig = tridiagonalEigen(alpha, beta, k);
    const topResidual = b * Math.abs(eig.vectors[(k - 1) * k]!);
    const scaleT = Math.max(...alpha.map(Math.abs), ...beta, b);
    // Breakdown: the Krylov space is invariant under H, so its Ritz values are exact eigenvalues.
    if (b <= 1e-12 * scaleT || j === kMax - 1 || topResidual <= tol * Math.abs(eig.values[0]!)) break;
    beta.push(b);
    const next = Float64Array.from(w);
    scale(1 / b, next);
    Q.push(next);
  }
  const k = alpha.length;
  const residuals = new Float64Array(k);
  for (let i = 0; i < k; i++) residuals[i] = lastBeta * Math.abs(eig.vectors[(k - 1) * k + i]!);
  const want = Math.max(1, Math.min(k, opts.vectors ?? 1));
  const ritzVectors: Float64Array[] = [];
  for (let i = 0; i < want; i++) {
    const y = new Float64Array(n);
    for (let j = 0; j < k; j++) axpy(eig.vectors[j * k + i]!, Q[j]!, y);
    scale(1 / norm2(y), y);
    ritzVectors.push(y);
  }
  const top: EigenEstimate = {
    value: eig.values[0]!,
    vector: ritzVectors[0]!,
    residual: residuals[0]!,
    hvpCalls: calls,
    converged: residuals[0]! <= Math.max(tol, 1e-6) * Math.abs(eig.values[0]!),
  };
  return { values: eig.values, residuals, ritzVectors, steps: k, hvpCalls: calls, top };
}

function tridiagonalEigen(alpha: readonly number[], beta: readonly number[], k: number): ReturnType<typeof symmetricEigen> {
  const T = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    T[i * k + i] = alpha[i]!;
    if (i + 1 < k) {
      T[i * k + i + 1] = beta[i]!;
      T[(i + 1) * k + i] = beta[i]!;
    }
  }
  return symmetricEigen(T, k);
}

export interface FiniteDifferenceHvpOptions {
  /** Relative step c in ε = c·(1 + ‖θ‖₂)/‖v‖₂; default `defaultRelativeStep(precision)`. */
  relativeStep?: number;
}

/**
 * Default relative step c of the central difference, by parameter precision.
 *
 * float64: c = 1e-9, far below the smooth-function optimum u^{1/3} ≈ 6e-6 (Nocedal & Wright §8.1), on purpose.
 * Piecewise-linear units (ReLU, max-pool) make a finite difference see spurious "kink" curvature from every unit
 * that switches sign within ±εv; that term grows as ε shrinks until no unit switches at all, and a rare switch
 * gives a random spike. Measured (bench/diag-fd-step.ts, 784-64-10 ReLU MLP, 256 samples): c = 1e-4 → λ_max 29,
 * 1e-5 → 66, 1e-6 … 1e-10 → 0.819557 (the a.e. Hessian); a 784-256-256-10 ReLU MLP probe (advise, 256 samples)
 * still showed a spike (449 between 1.5 and 18) at c = 1e-7, none at 1e-9. The price is rounding error
 * ≈ u·‖∇L‖/ε ≈ 1e-8 relative on smooth models (tanh MLP vs its exact R-operator: 6e-8).
 *
 * float32: c = 1e-3. Measured on the same MLP with tanh: c = 4.9e-3 (= u^{1/3}) gives 7e-5 relative error in
 * λ_max against float64, 1e-3 gives 3e-6. float32 cannot reach a step small enough for ReLU networks; compute
 * the HVP of those on a float64 copy of the model instead.
 */
export function defaultRelativeStep(precision: 'float32' | 'float64'): number {
  return precision === 'float32' ? 1e-3 : 1e-9;
}

export interface FiniteDifferenceHvp {
  hvp: Hvp;
  /** The step ε used for a direction of norm ‖v‖. */
  stepFor(vNorm: number): number;
  /** Gradient evaluations spent (two per HVP). */
  gradCalls(): number;
}

/**
 * H·v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / (2ε), at fixed parameters θ (copied now; later changes to `params` are not
 * seen). Works in the parameters' own precision (a float32 model is perturbed in float32), returns float64.
 * The error is O(ε²·‖∇³L‖) + O(u·‖∇L‖/ε) for smooth losses; see `defaultRelativeStep` for non-smooth ones.
 */
export function finiteDifferenceHvp(grad: GradFn, params: FloatBuffer, opts: FiniteDifferenceHvpOptions = {}): FiniteDifferenceHvp {
  const f32 = params instanceof Float32Array;
  const c = opts.relativeStep ?? defaultRelativeStep(f32 ? 'float32' : 'float64');
  const theta = f32 ? Float32Array.from(params) : Float64Array.from(params);
  const thetaNorm = norm2(theta);
  const n = theta.length;
  const plus = f32 ? new Float32Array(n) : new Float64Array(n);
  const minus = f32 ? new Float32Array(n) : new Float64Array(n);
  const gPlus = f32 ? new Float32Array(n) : new Float64Array(n);
  const gMinus = f32 ? new Float32Array(n) : new Float64Array(n);
  let calls = 0;
  const stepFor = (vNorm: number): number => (c * (1 + thetaNorm)) / vNorm;
  const hvp: Hvp = (v, out) => {
    const vn = norm2(v);
    if (vn === 0) {
      out.fill(0);
      return;
    }
    const eps = stepFor(vn);
    for (let i = 0; i < n; i++) {
      plus[i] = theta[i]! + eps * v[i]!;
      minus[i] = theta[i]! - eps * v[i]!;
    }
    grad(plus, gPlus);
    grad(minus, gMinus);
    calls += 2;
    if (f32) {
      // The step actually taken differs from εv by float32 rounding; dividing by the realised half-step along v
      // (projected) removes the first-order part of that error.
      let num = 0;
      for (let i = 0; i < n; i++) num += (plus[i]! - minus[i]!) * v[i]!;
      const realised = num / (vn * vn);
      for (let i = 0; i < n; i++) out[i] = (gPlus[i]! - gMinus[i]!) / realised;
    } else {
      const inv = 1 / (2 * eps);
      for (let i = 0; i < n; i++) out[i] = (gPlus[i]! - gMinus[i]!) * inv;
    }
  };
  return { hvp, stepFor, gradCalls: () => calls };
}

export interface SharpnessOptions extends LanczosOptions {
  method?: 'lanczos' | 'power';
  /** Power iteration only. */
  maxIterations?: number;
}

/** λ_max of H by Lanczos (default, 20 HVPs) or power iteration. */
export function topHessianEigenvalue(hvp: Hvp, n: number, opts: SharpnessOptions = {}): EigenEstimate {
  if (opts.method === 'power') {
    const p: PowerIterationOptions = { maxIterations: opts.maxIterations ?? 100, tol: opts.tol ?? 1e-6, seed: opts.seed ?? 1 };
    if (opts.start !== undefined) p.start = opts.start;
    return powerIteration(hvp, n, p);
  }
  return lanczos(hvp, n, opts).top;
}
