/**
 * Closed forms behind the advisor's rules: the stationary loss of SGD and normalised SGDM on the local quadratic
 * model (docs/theory.md §3, §4), their stability limits, the effective lr of a config, and the gaps of the coupled SGD runs.
 */
import type { OptimizerForm } from '../optim/sgd.js';
import { fmt } from './explain.js';

/** (SGD − SGDM)/|SGDM| evaluation loss of a coupled SGD shadow: > 0 behind, < 0 ahead, Infinity when it diverged. */
export function shadowLossGap(diverged: boolean, loss: number, sgdmLoss: number): number {
  return diverged ? Infinity : (loss - sgdmLoss) / Math.abs(sgdmLoss);
}

/**
 * One seed of the whole-run coupled comparison (the probe covered the run's budget): final evaluation losses of
 * SGDM and of the SGD runs at η and η/2 from the same start on the same batches, with the loss before training.
 */
export interface CoupledSeed {
  seed: number;
  sgdm: { diverged: boolean; loss: number };
  sgd: { diverged: boolean; loss: number };
  lower: { diverged: boolean; loss: number } | null;
  initialLoss: number;
}

/**
 * A run that diverged or ended no better than it started scores the initial loss — as a diverged run in the sweeps
 * scores chance accuracy — so a mean over seeds stays finite and one failed seed weighs what it would in the sweep.
 */
export function scoredLoss(r: { diverged: boolean; loss: number }, initialLoss: number): number {
  return r.diverged || !Number.isFinite(r.loss) ? initialLoss : Math.min(r.loss, initialLoss);
}

/**
 * The whole-run gap of SGD (at η, or at η/2 with `lower`) behind SGDM over seeds: (mean SGD − mean SGDM)/mean SGDM of
 * the scored losses; with one seed and no failure it is that seed's `shadowLossGap`. Also says on how many seeds the
 * SGD run failed.
 */
export function meanSeedGap(seeds: readonly CoupledSeed[], which: 'sgd' | 'lower'): { gap: number; failed: number; perSeed: number[] } | null {
  const rows = seeds.flatMap((s) => { const r = which === 'sgd' ? s.sgd : s.lower; return r === null ? [] : [{ s, r }]; });
  if (rows.length === 0 || rows.length !== seeds.length) return null;
  const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
  const sgdm = rows.map(({ s }) => scoredLoss(s.sgdm, s.initialLoss));
  const sgd = rows.map(({ s, r }) => scoredLoss(r, s.initialLoss));
  return {
    gap: (mean(sgd) - mean(sgdm)) / Math.abs(mean(sgdm)),
    failed: rows.filter(({ r }) => r.diverged).length,
    perSeed: rows.map((_, i) => (sgd[i]! - sgdm[i]!) / Math.abs(sgdm[i]!)),
  };
}

/** Normalised SGDM's threshold on ηλ: 2(1+β)/(1−β) (38 at β = 0.9); PyTorch form γλ < 2(1+β). */
export function sgdmStabilityLimit(beta: number): number {
  return (2 * (1 + beta)) / (1 - beta);
}

/** docs/theory.md §3.1: stationary E[L] of normalised SGDM (β = 0: SGD) on λx²/2 with noise variance s²; Infinity if unstable. */
export function stationaryLoss(eta: number, lambda: number, beta: number, s2: number): number {
  const denom = 1 - (eta * lambda * (1 - beta)) / (2 * (1 + beta));
  return denom > 0 ? (eta * s2) / 4 / denom : Infinity;
}

/**
 * Stationary loss under SVAG level ℓ (docs/theory.md §4.3: lr η/ℓ for ℓ× the steps, noise ×ℓ per step): the noise-induced
 * term ηs²/4 is unchanged and the curvature-induced one is divided by ℓ, E[L]∞ = (ηs²/4)/(1 − ηλ(1−β)/(2ℓ(1+β))).
 * The SVAG ℓ sweep is therefore the experiment that separates the two parts of the split.
 */
export function svagStationaryLoss(eta: number, lambda: number, beta: number, s2: number, l: number): number {
  return stationaryLoss(eta / l, lambda, beta, s2 * l);
}

/** The effective (normalised) lr η and the PyTorch lr γ of a config: η = γ/(1−β) for pytorch/keras (constant lr). */
export function effectiveRates(lr: number, momentum: number, form: OptimizerForm): { eta: number; gamma: number; beta: number } {
  const beta = form === 'sgd' ? 0 : momentum;
  if (form === 'normalized') return { eta: lr, gamma: lr * (1 - beta), beta };
  return { eta: lr / (1 - beta), gamma: lr, beta };
}

export interface DirectionNoise {
  /** Eigenvalue (Ritz value) of the direction. */
  lambda: number;
  /** Per-example gradient variance along it, vᵀΣv. */
  variance: number;
}

export interface StationarySplit {
  /** Σ_i ηs_i²/4 = η·tr Σ/(4B): the noise-induced stationary loss, the same for SGD and SGDM. */
  noiseInduced: number;
  /** Curvature-induced stationary loss of SGD at η (estimate or upper bound, see `basis`). */
  curvatureInducedSgd: number;
  /** Same for SGDM at (η, β). */
  curvatureInducedSgdm: number;
  /** (SGD − SGDM)/SGD total stationary loss: the share momentum removes. */
  momentumRemovesFraction: number;
  basis: string;
  /**
   * Along the sharpest direction with noise variance s² (the top measured direction, else all of tr Σ/B): SGD and
   * SGDM stationary losses under SVAG ℓ = 1, 2, 4, 8 — the gap closes as ℓ grows when curvature causes it.
   */
  svagSharpest: { l: number; sgd: number; sgdm: number }[];
}

/** Stationary split on the local quadratic model; exact for the given directions, worst-case for the rest. */
export function stationarySplit(eta: number, beta: number, batch: number, lambdaMax: number, traceSigma: number, directions: DirectionNoise[] = []): StationarySplit {
  const noiseInduced = (eta * traceSigma) / (4 * batch);
  let sgd = 0, sgdm = 0, covered = 0;
  for (const d of directions) {
    const s2 = Math.max(0, d.variance) / batch;
    covered += s2;
    sgd += stationaryLoss(eta, d.lambda, 0, s2);
    sgdm += stationaryLoss(eta, d.lambda, beta, s2);
  }
  // Remaining noise, all placed at the largest remaining curvature (upper bound on its curvature-induced part).
  const rest = Math.max(0, traceSigma / batch - covered);
  const lamRest = directions.length > 0 ? Math.min(...directions.map((d) => d.lambda)) : lambdaMax;
  if (rest > 0) {
    sgd += stationaryLoss(eta, Math.max(0, lamRest), 0, rest);
    sgdm += stationaryLoss(eta, Math.max(0, lamRest), beta, rest);
  }
  const basis = directions.length > 0
    ? `exact for the top ${directions.length} Hessian directions; the remaining noise bounded at λ = ${fmt(lamRest)}`
    : 'upper bound: all gradient noise placed along the sharpest direction';
  const top = directions.length > 0 ? directions.reduce((a, d) => (d.lambda > a.lambda ? d : a)) : { lambda: lambdaMax, variance: traceSigma };
  const s2top = Math.max(0, top.variance) / batch;
  const svagSharpest = [1, 2, 4, 8].map((l) => ({ l, sgd: svagStationaryLoss(eta, top.lambda, 0, s2top, l), sgdm: svagStationaryLoss(eta, top.lambda, beta, s2top, l) }));
  return {
    noiseInduced,
    svagSharpest,
    curvatureInducedSgd: sgd - noiseInduced,
    curvatureInducedSgdm: sgdm - noiseInduced,
    momentumRemovesFraction: Number.isFinite(sgd) ? (sgd - sgdm) / sgd : 1,
    basis,
  };
}
