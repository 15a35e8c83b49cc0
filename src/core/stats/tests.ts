/**
 * Two-sample comparisons of means with t-based inference: the paired t-test (runs matched by seed), Welch's t-test
 * (unmatched runs), the two one-sided tests (TOST) for equivalence at a declared margin, and Holm's step-down
 * correction for a family of tests. Every difference is b − a.
 */
import { studentTCdf, studentTQuantile, studentTTwoSided } from './student-t.js';

export interface TTest {
  test: 'paired t' | 'Welch t';
  /** Pairs (paired) or the smaller group size (Welch). */
  n: number;
  df: number;
  /** Mean of b − a. */
  diff: number;
  /** Standard error of `diff`. */
  se: number;
  t: number;
  /** Two-sided p-value of H0: the means are equal. */
  pValue: number;
  /** Two-sided confidence interval for the difference at `level`. */
  ci: [number, number];
  level: number;
}

function mean(v: readonly number[]): number {
  return v.reduce((s, x) => s + x, 0) / v.length;
}

function variance(v: readonly number[]): number {
  const m = mean(v);
  return v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1);
}

/** t statistic, p and CI from a difference, its standard error and df; se = 0 gives t = ±∞ (or 0 for diff = 0). */
function fromEstimate(test: TTest['test'], n: number, diff: number, se: number, df: number, level: number): TTest {
  const t = se > 0 ? diff / se : diff === 0 ? 0 : Math.sign(diff) * Infinity;
  const pValue = se > 0 ? studentTTwoSided(t, df) : diff === 0 ? 1 : 0;
  const half = se > 0 ? studentTQuantile(1 - (1 - level) / 2, df) * se : 0;
  return { test, n, df, diff, se, t, pValue, ci: [diff - half, diff + half], level };
}

/** Paired t-test of b − a over matched pairs (Student 1908); needs n ≥ 2 pairs. */
export function pairedTTest(a: readonly number[], b: readonly number[], level = 0.95): TTest {
  if (a.length !== b.length) throw new RangeError(`pairedTTest: ${a.length} vs ${b.length} values; pairs must match`);
  if (a.length < 2) throw new RangeError(`pairedTTest: needs at least 2 pairs, got ${a.length}`);
  const d = a.map((x, i) => b[i]! - x);
  const n = d.length;
  return fromEstimate('paired t', n, mean(d), Math.sqrt(variance(d) / n), n - 1, level);
}

/** Welch's unequal-variance t-test of mean(b) − mean(a), Welch–Satterthwaite df; needs ≥ 2 values per group. */
export function welchTTest(a: readonly number[], b: readonly number[], level = 0.95): TTest {
  if (a.length < 2 || b.length < 2) throw new RangeError(`welchTTest: needs at least 2 values per group, got ${a.length} and ${b.length}`);
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  const se = Math.sqrt(va + vb);
  const df = se > 0 ? (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1)) : a.length + b.length - 2;
  return fromEstimate('Welch t', Math.min(a.length, b.length), mean(b) - mean(a), se, df, level);
}

export interface Equivalence {
  margin: number;
  /** p of H0: diff ≤ −margin (Schuirmann's lower one-sided test). */
  pLower: number;
  /** p of H0: diff ≥ +margin. */
  pUpper: number;
  /** TOST p-value: the larger of the two; equivalence at level α when below α. */
  pValue: number;
  /** The (1 − 2α) interval whose inclusion in (−margin, margin) is the same decision at α = 0.05: the 90% CI. */
  ci90: [number, number];
}

/**
 * Two one-sided tests (Schuirmann 1987; Lakens 2017) that the true difference lies inside (−margin, +margin),
 * from the estimate, its standard error and df of a paired or Welch t-test.
 */
export function tost(r: Pick<TTest, 'diff' | 'se' | 'df'>, margin: number): Equivalence {
  if (!(margin > 0)) throw new RangeError(`tost: margin must be > 0, got ${margin}`);
  let pLower: number;
  let pUpper: number;
  if (r.se > 0) {
    pLower = 1 - studentTCdf((r.diff + margin) / r.se, r.df);
    pUpper = studentTCdf((r.diff - margin) / r.se, r.df);
  } else {
    pLower = r.diff > -margin ? 0 : 1;
    pUpper = r.diff < margin ? 0 : 1;
  }
  const half = r.se > 0 ? studentTQuantile(0.95, r.df) * r.se : 0;
  return { margin, pLower, pUpper, pValue: Math.max(pLower, pUpper), ci90: [r.diff - half, r.diff + half] };
}

/**
 * Holm's (1979) step-down adjusted p-values, in the input order: sort ascending, multiply the i-th smallest
 * (i = 0…m−1) by m − i, carry the running maximum, cap at 1. Rejecting where adjusted p < α controls the
 * family-wise error at α.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
