/**
 * Many independent chains at once. Every optimizer update is `optimizerStep` from src/optim applied to one flat
 * chains×dim buffer (the update is element-wise, so one call steps all chains), and SVAG is `svagCombine` on two
 * oracle calls: the simulator adds no update rule of its own. Runs listed together are coupled: at every step
 * they consume the same random numbers ω (common random numbers, as in the ConvNetJS trainer demo).
 */
import { initOptimizer, optimizerStep, svagCombine, checkSvagLevel, type OptimizerConfig, type OptimizerState } from '../optim/index.js';
import { check } from '../util/errors.js';
import { NormalStream } from './normals.js';
import type { Problem } from './problems.js';

export interface SimulationSpec {
  problem: Problem;
  chains: number;
  /** Start point (length dim), the same for every chain. */
  x0: readonly number[];
  /** Optimizers run side by side on the same noise. */
  runs: readonly OptimizerConfig[];
  /** Steps to take (with SVAG, the already-stretched count). */
  steps: number;
  seed: number;
  /** SVAG level ℓ (1 = plain): gradient r₁g(ω¹) + r₂g(ω²) and lr × 1/ℓ. */
  svag?: number;
  /**
   * Called with the iterates of every run after k = 0, every, 2·every, … steps (and after the last step).
   * The buffers are live: copy what must be kept.
   */
  observe?: (k: number, xs: readonly Float64Array[], diverged: readonly Uint8Array[]) => void;
  every?: number;
  /** A chain with |x_j| above this (or NaN) is marked diverged and restarted at x0 (kept out of statistics); default 1e12. */
  divergenceBound?: number;
  /**
   * Steps between divergence checks (default 8; always also before `observe` and at the end). Chains are
   * independent, so a chain that overflows between checks harms no other; only its divergedAt is later.
   */
  guardEvery?: number;
}

export interface SimulationResult {
  xs: Float64Array[];
  /** Per run, per chain: 1 if the chain ever crossed the divergence bound. */
  diverged: Uint8Array[];
  /** Per run, per chain: step at which its divergence was detected (within guardEvery of the crossing), −1 if never. */
  divergedAt: Int32Array[];
}

function broadcast(x0: readonly number[], chains: number, dim: number): Float64Array {
  const x = new Float64Array(chains * dim);
  for (let c = 0; c < chains; c++) for (let j = 0; j < dim; j++) x[c * dim + j] = x0[j]!;
  return x;
}

function fillNoise(p: Problem, rng: NormalStream, out: Float64Array): void {
  if (p.noise.kind === 'normal') rng.fillNormal(out);
  else rng.fillUniform(out);
}

export function simulate(spec: SimulationSpec): SimulationResult {
  const { problem: p, chains, runs, steps } = spec;
  const dim = p.dim;
  check(Number.isInteger(chains) && chains >= 1, 'chains', `must be an integer ≥ 1, got ${chains}`);
  check(Number.isInteger(steps) && steps >= 0, 'steps', `must be an integer ≥ 0, got ${steps}`);
  check(spec.x0.length === dim, 'x0', `must have ${dim} coordinates, got ${spec.x0.length}`);
  const l = spec.svag ?? 1;
  checkSvagLevel(l, 'svag');
  const every = spec.every ?? 1;
  const bound = spec.divergenceBound ?? 1e12;
  const guardEvery = spec.guardEvery ?? 8;
  const n = chains * dim;
  const rng = new NormalStream(spec.seed);
  const omega = new Float64Array(chains * p.noise.perChain);
  const omega2 = l === 1 ? null : new Float64Array(chains * p.noise.perChain);
  const g = new Float64Array(n);
  const g2 = l === 1 ? null : new Float64Array(n);
  const xs = runs.map(() => broadcast(spec.x0, chains, dim));
  const states: OptimizerState[] = runs.map((c) => initOptimizer(c, n, 'float64'));
  const diverged = runs.map(() => new Uint8Array(chains));
  const divergedAt = runs.map(() => new Int32Array(chains).fill(-1));
  spec.observe?.(0, xs, diverged);
  for (let k = 0; k < steps; k++) {
    fillNoise(p, rng, omega);
    if (omega2 !== null) fillNoise(p, rng, omega2);
    for (let r = 0; r < runs.length; r++) {
      const x = xs[r]!;
      p.oracle(x, omega, g);
      if (omega2 !== null && g2 !== null) {
        p.oracle(x, omega2, g2);
        svagCombine(g, g2, l, g);
      }
      optimizerStep(runs[r]!, x, g, states[r]!, 1 / l);
    }
    const observeNow = (k + 1) % every === 0 || k + 1 === steps;
    if (observeNow || (k + 1) % guardEvery === 0) {
      for (let r = 0; r < runs.length; r++) guardDivergence(xs[r]!, states[r]!, dim, bound, spec.x0, diverged[r]!, divergedAt[r]!, k + 1);
    }
    if (observeNow && spec.observe !== undefined) spec.observe(k + 1, xs, diverged);
  }
  return { xs, diverged, divergedAt };
}

/** Marks and restarts chains whose iterate left [−bound, bound] (or became NaN), so no NaN reaches statistics. */
function guardDivergence(x: Float64Array, st: OptimizerState, dim: number, bound: number, x0: readonly number[],
  diverged: Uint8Array, divergedAt: Int32Array, k: number): void {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (!(a <= worst)) worst = a; // also catches NaN
  }
  if (worst <= bound) return;
  for (let c = 0, i = 0; i < x.length; c++, i += dim) {
    let bad = false;
    for (let j = 0; j < dim; j++) if (!(Math.abs(x[i + j]!) <= bound)) bad = true;
    if (!bad) continue;
    if (diverged[c] === 0) {
      diverged[c] = 1;
      divergedAt[c] = k;
    }
    for (let j = 0; j < dim; j++) {
      x[i + j] = x0[j]!;
      if (st.buffer !== null) st.buffer[i + j] = 0;
    }
  }
}

export interface SdeSpec {
  problem: Problem;
  chains: number;
  x0: readonly number[];
  /** η of the diffusion coefficient (ησ²Σ)^{1/2}; σ is the problem's. */
  eta: number;
  /** Euler–Maruyama time step and horizon T (steps = round(T/dt)). */
  dt: number;
  T: number;
  seed: number;
  observe?: (t: number, x: Float64Array) => void;
  every?: number;
}

/** Euler–Maruyama for dX = −∇L dt + (ησ²Σ)^{1/2} dW: X ← X − ∇L(X)·dt + σ√(η·dt)·Σ^{1/2}z. */
export function simulateSde(spec: SdeSpec): Float64Array {
  const p = spec.problem;
  check(p.diffusion !== undefined && p.sigma !== undefined, 'problem', `${p.name} has no Gaussian diffusion term for an SDE`);
  check(spec.dt > 0 && spec.T >= 0, 'dt', `needs dt > 0 and T ≥ 0, got dt=${spec.dt}, T=${spec.T}`);
  const steps = Math.round(spec.T / spec.dt);
  const n = spec.chains * p.dim;
  const x = broadcast(spec.x0, spec.chains, p.dim);
  const drift = new Float64Array(n);
  const z = new Float64Array(spec.chains * p.noise.perChain);
  const rng = new NormalStream(spec.seed);
  const scale = p.sigma! * Math.sqrt(spec.eta * spec.dt);
  const every = spec.every ?? 1;
  spec.observe?.(0, x);
  for (let k = 0; k < steps; k++) {
    p.gradient(x, drift);
    for (let i = 0; i < n; i++) drift[i] = -spec.dt * drift[i]!;
    rng.fillNormal(z);
    p.diffusion!(x, z, scale, drift);
    for (let i = 0; i < n; i++) x[i] = x[i]! + drift[i]!;
    if ((k + 1) % every === 0 || k + 1 === steps) spec.observe?.((k + 1) * spec.dt, x);
  }
  return x;
}

/** Mean and standard error over chains of a per-chain statistic, skipping chains flagged in `skip`. */
export function meanAndError(values: Float64Array, skip?: Uint8Array): { mean: number; se: number; count: number } {
  let s = 0, s2 = 0, m = 0;
  for (let c = 0; c < values.length; c++) {
    if (skip !== undefined && skip[c] !== 0) continue;
    const v = values[c]!;
    s += v;
    s2 += v * v;
    m++;
  }
  if (m === 0) return { mean: NaN, se: NaN, count: 0 };
  const mean = s / m;
  const variance = m > 1 ? Math.max(0, (s2 - m * mean * mean) / (m - 1)) : 0;
  return { mean, se: Math.sqrt(variance / m), count: m };
}
