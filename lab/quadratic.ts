/**
 * The noisy quadratic of the paper's warm-up (Lemma 2.4), L = λx²/2 with g = λx + sξ: SGD and normalised SGDM
 * run on the same noise ξ (common random numbers), with the closed forms they are compared with.
 *   simulateStationary  one seeded run of the core simulator (the `window.momentumLab.simulate` hook)
 *   LiveQuadratic       the same update rules stepped a few hundred steps per frame for the live view
 */
import { optimizerConfig, initOptimizer, optimizerStep, svagCombine, type OptimizerConfig, type OptimizerState } from '../src/core/optim/index.js';
import { noiseInducedLoss, normalizedStabilityThreshold, stationaryLoss } from '../src/core/theory/closed-forms.js';
import { NormalStream } from '../src/core/theory/normals.js';
import { diagonalQuadratic } from '../src/core/theory/problems.js';
import { meanAndError, simulate } from '../src/core/theory/simulate.js';
import { check } from '../src/core/util/errors.js';

/** Normalised SGDM at (η, β): m ← βm + (1−β)g, x ← x − ηm; plain SGD at β = 0 (the theory lab's convention). */
export function quadraticOptimizer(eta: number, beta: number): OptimizerConfig {
  return beta === 0 ? optimizerConfig({ form: 'sgd', lr: eta }) : optimizerConfig({ form: 'normalized', lr: eta, momentum: beta });
}

export interface StationaryRequest {
  eta: number; beta: number; lambda: number; s: number; chains: number; steps: number; seed: number;
}

export interface StationaryResult {
  /** Time-average of L over steps ⌊steps/2⌋+1 … steps, mean over chains, and its Monte-Carlo standard error. */
  meanLoss: number;
  se: number;
  /** (ηs²/4)/(1 − ηλ(1−β)/(2(1+β))), or NaN past the stability threshold. */
  closedForm: number;
  /** Chain-steps per second of the simulation (chains × steps / wall time). */
  chainStepsPerSecond: number;
}

export function simulateStationary(r: StationaryRequest): StationaryResult {
  for (const k of ['eta', 'lambda', 's'] as const) check(Number.isFinite(r[k]) && r[k] > 0, k, `must be a number > 0, got ${r[k]}`);
  check(Number.isFinite(r.beta) && r.beta >= 0 && r.beta < 1, 'beta', `must be in [0, 1), got ${r.beta}`);
  check(Number.isInteger(r.chains) && r.chains >= 2, 'chains', `must be an integer ≥ 2, got ${r.chains}`);
  check(Number.isInteger(r.steps) && r.steps >= 2, 'steps', `must be an integer ≥ 2, got ${r.steps}`);
  check(Number.isInteger(r.seed) && r.seed >= 0, 'seed', `must be an integer ≥ 0, got ${r.seed}`);
  const from = Math.floor(r.steps / 2);
  const sums = new Float64Array(r.chains);
  const half = 0.5 * r.lambda;
  const t0 = performance.now();
  simulate({
    problem: diagonalQuadratic([r.lambda], r.s), chains: r.chains, x0: [0], runs: [quadraticOptimizer(r.eta, r.beta)], steps: r.steps, seed: r.seed,
    observe(k, xs) {
      if (k <= from) return;
      const x = xs[0]!;
      for (let c = 0; c < x.length; c++) sums[c] = sums[c]! + half * x[c]! * x[c]!;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const { mean, se } = meanAndError(sums.map((v) => v / (r.steps - from)));
  return { meanLoss: mean, se, closedForm: closedForm(r.eta, r.beta, r.lambda, r.s, 1), chainStepsPerSecond: (r.chains * r.steps) / seconds };
}

/** The stationary loss, NaN where no stationary law exists (past 2(1+β)/(1−β)). */
export function closedForm(eta: number, beta: number, lambda: number, s: number, l: number): number {
  return eta * lambda / l < normalizedStabilityThreshold(beta) ? stationaryLoss(eta, beta, lambda, s, l) : NaN;
}

export interface LiveParams {
  eta: number; beta: number;
  /** The largest curvature λ_max; with `dims` > 1 the spectrum is `spectrum(lambda, dims)`. */
  lambda: number;
  dims: number;
  s: number;
  /** Minibatch size: the gradient noise of a mean of B samples has scale s/√B. */
  batch: number;
  /** SVAG level ℓ: lr η/ℓ, noise ×√ℓ per step, ℓ× the steps. */
  l: number;
  chains: number; seed: number;
}

/** Condition number of the live view's spectrum: λ_j runs log-spaced from λ_max down to λ_max/SPREAD. */
export const SPREAD = 100;

/** λ_j = λ_max · SPREAD^(−j/(d−1)), j = 0 … d−1 (just λ_max when d = 1). */
export function spectrum(lambdaMax: number, dims: number): number[] {
  return Array.from({ length: dims }, (_, j) => (dims === 1 ? lambdaMax : lambdaMax * SPREAD ** (-j / (dims - 1))));
}

/** What the live view shows beside its curves. */
export interface LiveTheory {
  noiseScale: number;
  sgd: number;
  sgdm: number;
  floor: number;
  /** ηλ_max/ℓ against the thresholds 2 (SGD) and 2(1+β)/(1−β) (normalised SGDM). */
  etaLambda: number;
  sgdThreshold: number;
  sgdmThreshold: number;
  /** Curvature-induced share q = ηλ/(2ℓ) of SGD's stationary loss: noise-dominated while it is small. */
  regime: 'noise-dominated' | 'curvature-limited' | 'SGD unstable' | 'both unstable';
}

/** Below this curvature-induced share the SGD–SGDM gap is under ~10% of the loss: the noise floor dominates. */
const NOISE_DOMINATED = 0.1;

/**
 * The coordinates are independent (diagonal Hessian, isotropic noise), so each closed form is the sum of the 1-D
 * ones over the spectrum, and the floor is d·ηs²/4.
 */
export function liveTheory(p: LiveParams): LiveTheory {
  const noiseScale = p.s / Math.sqrt(p.batch), lambdas = spectrum(p.lambda, p.dims);
  const sum = (beta: number): number => lambdas.reduce((acc, l) => acc + closedForm(p.eta, beta, l, noiseScale, p.l), 0);
  const etaLambda = p.eta * p.lambda / p.l;
  const sgdThreshold = 2, sgdmThreshold = normalizedStabilityThreshold(p.beta);
  const regime = etaLambda >= sgdmThreshold ? 'both unstable' : etaLambda >= sgdThreshold ? 'SGD unstable'
    : etaLambda / 2 < NOISE_DOMINATED ? 'noise-dominated' : 'curvature-limited';
  return {
    noiseScale, etaLambda, sgdThreshold, sgdmThreshold, regime,
    sgd: sum(0), sgdm: sum(p.beta), floor: p.dims * noiseInducedLoss(p.eta, noiseScale),
  };
}

/**
 * SGD and normalised SGDM stepped together on one noise stream, with prefix sums of their mean loss per step.
 * Buffers hold chains × d values, coordinate j of chain c at c·d + j (the simulator's layout).
 */
export class LiveQuadratic {
  readonly runs: OptimizerConfig[];
  private readonly xs: Float64Array[];
  private readonly states: OptimizerState[];
  private readonly g: Float64Array;
  private readonly g2: Float64Array;
  private readonly z: Float64Array;
  private readonly z2: Float64Array;
  private readonly stream: NormalStream;
  private readonly noise: number;
  /** λ of each buffer position. */
  private readonly lam: Float64Array;
  /** prefix[r][k] = Σ_{i ≤ k} mean loss of run r after step i. */
  private prefix: Float64Array[];
  readonly diverged = [false, false];
  step = 0;

  constructor(readonly p: LiveParams) {
    this.runs = [quadraticOptimizer(p.eta, 0), quadraticOptimizer(p.eta, p.beta)];
    const d = p.dims, n = p.chains * d, lambdas = spectrum(p.lambda, d);
    this.lam = Float64Array.from({ length: n }, (_, i) => lambdas[i % d]!);
    this.xs = this.runs.map(() => new Float64Array(n));
    this.states = this.runs.map((c) => initOptimizer(c, n, 'float64'));
    this.g = new Float64Array(n); this.g2 = new Float64Array(n);
    this.z = new Float64Array(n); this.z2 = new Float64Array(n);
    this.stream = new NormalStream(p.seed);
    this.noise = p.s / Math.sqrt(p.batch);
    this.prefix = this.runs.map(() => new Float64Array(1024));
  }

  advance(steps: number): void {
    const { l, chains } = this.p, s = this.noise, lam = this.lam, n = lam.length;
    for (let k = 0; k < steps; k++) {
      this.stream.fillNormal(this.z);
      if (l !== 1) this.stream.fillNormal(this.z2);
      if (this.step + 1 >= this.prefix[0]!.length) this.prefix = this.prefix.map((a) => { const b = new Float64Array(a.length * 2); b.set(a); return b; });
      for (let r = 0; r < this.runs.length; r++) {
        const x = this.xs[r]!, g = this.g, g2 = this.g2;
        let loss = NaN;
        if (!this.diverged[r]) {
          for (let i = 0; i < n; i++) g[i] = lam[i]! * x[i]! + s * this.z[i]!;
          if (l !== 1) {
            for (let i = 0; i < n; i++) g2[i] = lam[i]! * x[i]! + s * this.z2[i]!;
            svagCombine(g, g2, l, g);
          }
          optimizerStep(this.runs[r]!, x, g, this.states[r]!, 1 / l);
          let sum = 0;
          for (let i = 0; i < n; i++) sum += lam[i]! * x[i]! * x[i]!;
          loss = 0.5 * sum / chains;
          if (!(loss < 1e100)) this.diverged[r] = true;
        }
        const pr = this.prefix[r]!;
        pr[this.step + 1] = pr[this.step]! + loss;
      }
      this.step++;
    }
  }

  /** Mean loss of run r averaged over steps ⌊k/2⌋+1 … k (k = steps taken): the stationary estimate so far. */
  halfAverage(r: number, k = this.step): number {
    if (k < 2) return NaN;
    const from = Math.floor(k / 2), pr = this.prefix[r]!;
    return (pr[k]! - pr[from]!) / (k - from);
  }
}
