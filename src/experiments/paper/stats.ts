/**
 * How the paper suite compares SGD with SGDM: runs matched by seed (the same seed gives both the same initialisation
 * and minibatch order), a paired t-test of SGDM − SGD with its 95% CI, TOST equivalence at a declared margin δ,
 * and Holm's correction across the comparisons of one claim. Each comparison ends in one of three outcomes:
 *   equivalent   — TOST shows |SGDM − SGD| < δ at 5% (the 90% CI lies inside (−δ, δ));
 *   different    — otherwise, the paired test rejects "no difference" at 5% after Holm's correction over the
 *                  claim's family (the 95% CI excludes 0 at the corrected level);
 *   inconclusive — neither: the seeds cannot tell.
 * Equivalence is checked first: δ is the declared size below which a gap does not matter, so a gap that is both
 * significant and inside ±δ (tight seeds, tiny gap) counts as equivalent; both p-values are recorded either way.
 * TOST needs no multiplicity correction when a claim asks for equivalence everywhere (an intersection–union test).
 */
import { holmAdjust, pairedTTest, tost, type TTest } from '../../core/stats/index.js';
import { summarize, type Summary } from '../../core/util/stats.js';

export { summarize, type Summary } from '../../core/util/stats.js';

/** The declared equivalence margin δ: 1 percentage point of accuracy. */
export const DEFAULT_MARGIN = 0.01;
export const ALPHA = 0.05;

export type Outcome = 'different' | 'equivalent' | 'inconclusive';

/** Final accuracies of SGD and SGDM on the same seeds, position by position. */
export interface PairedRuns { seeds: number[]; sgd: number[]; sgdm: number[] }

/** One comparison as claims.json records it; differences are SGDM − SGD. */
export interface Comparison {
  test: TTest['test'];
  n: number;
  diff: number;
  ci95: [number, number];
  /** Two-sided p of "no difference", before correction. */
  pValue: number;
  /** Holm-adjusted p over the claim's family. */
  pHolm: number;
  /** TOST p at `margin`. */
  pEquivalence: number;
  margin: number;
  outcome: Outcome;
}

export function formatSummary(s: Summary, digits = 4): string {
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
}

/** Pairs two seed → accuracy maps on the seeds both have, in ascending seed order. */
export function pairBySeed(sgd: ReadonlyMap<number, number>, sgdm: ReadonlyMap<number, number>): PairedRuns {
  const seeds = [...sgd.keys()].filter((s) => sgdm.has(s)).sort((a, b) => a - b);
  return { seeds, sgd: seeds.map((s) => sgd.get(s)!), sgdm: seeds.map((s) => sgdm.get(s)!) };
}

/** Compares each member of a family (one claim's batch sizes, ℓ levels or K values), Holm-corrected across it. */
export function compareFamily(family: readonly PairedRuns[], margin = DEFAULT_MARGIN): Comparison[] {
  const tests = family.map((r) => (r.seeds.length >= 2 ? pairedTTest(r.sgd, r.sgdm) : null));
  const adjusted = holmAdjust(tests.map((t) => t?.pValue ?? 1));
  return tests.map((t, i) => {
    if (t === null) {
      const n = family[i]!.seeds.length;
      const diff = n === 1 ? family[i]!.sgdm[0]! - family[i]!.sgd[0]! : NaN;
      return { test: 'paired t', n, diff, ci95: [NaN, NaN], pValue: NaN, pHolm: NaN, pEquivalence: NaN, margin, outcome: 'inconclusive' };
    }
    const eq = tost(t, margin);
    const outcome: Outcome = eq.pValue < ALPHA ? 'equivalent' : adjusted[i]! < ALPHA ? 'different' : 'inconclusive';
    return { test: t.test, n: t.n, diff: t.diff, ci95: t.ci, pValue: t.pValue, pHolm: adjusted[i]!, pEquivalence: eq.pValue, margin, outcome };
  });
}

/** The summaries a chart or table shows next to a comparison. */
export function summaries(r: PairedRuns): { sgd: Summary; sgdm: Summary } {
  return { sgd: summarize(r.sgd), sgdm: summarize(r.sgdm) };
}
