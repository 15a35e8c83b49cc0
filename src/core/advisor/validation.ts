/**
 * Validation of the advisor against a batch-size sweep: for each batch size the sweep says which optimiser
 * won (SGD at η = γ/(1−β) vs SGDM, each at its tuned lr, over seeds) and the advisor gave a regime; they agree when
 *   curvature-limited  ↔ SGDM better than SGD beyond seed noise,
 *   noise-dominated    ↔ no difference beyond seed noise, or SGD better.
 * 'borderline' makes no prediction: it is counted as an abstention, never as agreement.
 */
import type { Regime, Verdict } from './verdict.js';
import { differenceStandardError, differenceThreshold, summarize } from '../util/stats.js';

/**
 * A difference counts as real when it exceeds SEED_NOISE_Z standard errors of the difference of the two seed means
 * (Welch: √(s₁²/n₁ + s₂²/n₂)); 2 ≈ a two-sided 95% test under normal seed noise.
 */
export const SEED_NOISE_Z = 2;

/** Same shape as the paper suite's `Summary` (src/experiments/paper/stats.ts), so its rows can be passed as they are. */
export interface SeedSummary {
  /** Mean of the final metric over seeds. */
  mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  std: number;
  /** Seeds. */
  n: number;
}

export interface NoiseRule {
  /** Standard errors of the difference a gap must exceed; default SEED_NOISE_Z. */
  z?: number;
  /** A gap at or below this is never called real (e.g. the suite's ACCURACY_FLOOR); default 0. */
  floor?: number;
}

export type Outcome = 'momentum-better' | 'tie' | 'sgd-better';

export interface SweepPoint {
  batch: number;
  /** The advisor's verdict (or just its regime) for the SGDM config at this batch size. */
  verdict: Verdict | Regime;
  sgd: SeedSummary;
  sgdm: SeedSummary;
  /** true for accuracy, false for loss. */
  higherIsBetter: boolean;
}

export interface PointAgreement {
  batch: number;
  regime: Regime;
  outcome: Outcome;
  /** (SGDM − SGD) in the "better" direction, its standard error, and the gap that counts as real. */
  advantage: number;
  standardError: number;
  threshold: number;
  agrees: boolean | null;
}

export function seedSummary(values: readonly number[]): SeedSummary {
  if (values.length === 0) throw new Error('seedSummary: no values');
  return summarize(values);
}

export function outcomeOf(p: SweepPoint, rule: NoiseRule = {}): { outcome: Outcome; advantage: number; standardError: number; threshold: number } {
  const sign = p.higherIsBetter ? 1 : -1;
  const advantage = sign * (p.sgdm.mean - p.sgd.mean);
  const standardError = differenceStandardError(p.sgd, p.sgdm);
  const threshold = differenceThreshold(p.sgd, p.sgdm, rule.z ?? SEED_NOISE_Z, rule.floor ?? 0);
  const outcome: Outcome = advantage > threshold ? 'momentum-better' : advantage < -threshold ? 'sgd-better' : 'tie';
  return { outcome, advantage, standardError, threshold };
}

export function regimeAgrees(regime: Regime, outcome: Outcome): boolean | null {
  if (regime === 'borderline') return null;
  return regime === 'curvature-limited' ? outcome === 'momentum-better' : outcome !== 'momentum-better';
}

export interface SweepAgreement {
  points: PointAgreement[];
  decided: number;
  agreed: number;
  abstained: number;
  /** agreed / decided (NaN when every point abstained). */
  rate: number;
  disagreements: PointAgreement[];
}

/** Per-batch-size agreement and the overall rate, for the paper report and README. */
export function sweepAgreement(points: readonly SweepPoint[], rule: NoiseRule = {}): SweepAgreement {
  const rows = points.map((p): PointAgreement => {
    const regime = typeof p.verdict === 'string' ? p.verdict : p.verdict.regime;
    const o = outcomeOf(p, rule);
    return { batch: p.batch, regime, ...o, agrees: regimeAgrees(regime, o.outcome) };
  });
  const decided = rows.filter((r) => r.agrees !== null);
  const agreed = decided.filter((r) => r.agrees === true).length;
  return {
    points: rows, decided: decided.length, agreed, abstained: rows.length - decided.length,
    rate: decided.length > 0 ? agreed / decided.length : NaN,
    disagreements: decided.filter((r) => r.agrees === false),
  };
}
