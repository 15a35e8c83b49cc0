/**
 * The paper's claims as verdicts computed from measurements. Each function takes SGD/SGDM accuracies paired by
 * seed (stats.ts) and returns the statement, the numbers, the criterion in words and a verdict. Nothing here runs
 * training: the suite measures, these functions judge, so the judging is unit-tested on its own.
 */
import { DEFAULT_MARGIN, compareFamily, formatSummary, summaries, type Comparison, type PairedRuns } from './stats.js';
import type { SweepAgreement } from '../../core/advisor/validation.js';

export type Verdict = 'supported' | 'not supported' | 'inconclusive';

export interface Claim {
  id: string;
  statement: string;
  criterion: string;
  verdict: Verdict;
  /** One line saying why this verdict, in numbers. */
  reason: string;
  measurements: Record<string, unknown>[];
  /** The text claim's pre-training, measured on held-out text (nats per masked token). */
  pretraining?: { mlmLoss: number; unigramLoss: number; steps: number };
}

/**
 * Where the advisor's own sweep agreement calls two accuracies apart (core/advisor/validation.ts `sweepAgreement`):
 * a gap at or below 0.5 pp never counts. The paper's claims use the paired tests of stats.ts instead.
 */
export const ACCURACY_FLOOR = 0.005;

const pp = (x: number): string => `${(100 * x).toFixed(2)} pp`;
const pv = (p: number): string => (p < 1e-4 ? p.toExponential(1) : p.toPrecision(2));
const said = (c: Comparison): string => `${c.diff >= 0 ? '+' : ''}${pp(c.diff)} [${pp(c.ci95[0])}, ${pp(c.ci95[1])}], p_Holm ${pv(c.pHolm)}, p_TOST ${pv(c.pEquivalence)}, n ${c.n}`;
const outcomeWord = (c: Comparison): string => (c.outcome !== 'different' ? c.outcome : c.diff > 0 ? 'different (SGDM higher)' : 'different (SGD higher)');

/** How every comparison of SGD with SGDM is judged; quoted in each claim's criterion and in the report. */
export function statisticsRule(margin: number): string {
  return `SGDM − SGD paired by seed (same initialisation and minibatch order): "equivalent" when two one-sided t-tests put the difference inside ±${pp(margin)} at 5% (the declared margin δ), else "different" when the paired t-test rejects no difference at 5% after Holm's correction across the claim's comparisons, else "inconclusive"`;
}

function measurement(key: string, value: number, runs: PairedRuns, c: Comparison, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { sgd, sgdm } = summaries(runs);
  return {
    [key]: value, ...extra, sgd: formatSummary(sgd), sgdm: formatSummary(sgdm), sgdMean: sgd.mean, sgdStd: sgd.std, sgdmMean: sgdm.mean, sgdmStd: sgdm.std,
    seeds: runs.seeds.join(' '), diff: c.diff, ci95: c.ci95, pValue: c.pValue, pHolm: c.pHolm, pEquivalence: c.pEquivalence, test: c.test, margin: c.margin, n: c.n, outcome: c.outcome,
  };
}

export interface BatchRow { batch: number; runs: PairedRuns }

/** The batch sizes whose comparison is still inconclusive: the suite runs the next stage of seeds there. */
export function inconclusiveBatches(rows: readonly BatchRow[], margin = DEFAULT_MARGIN): number[] {
  const cs = compareFamily(rows.map((r) => r.runs), margin);
  return rows.filter((_, i) => cs[i]!.outcome === 'inconclusive').map((r) => r.batch);
}

/** Claim 1a (Thm 3.5 on networks): at matched small effective lr, SGD(η) and SGDM(η) agree, more closely as η falls. */
export function matchedLrClaim(rows: readonly (BatchRow & { eta: number })[], margin = DEFAULT_MARGIN): Claim {
  const sorted = [...rows].sort((a, b) => a.batch - b.batch || a.eta - b.eta);
  const cs = compareFamily(sorted.map((r) => r.runs), margin);
  const base = {
    id: 'matched-lr',
    statement: 'Thm 3.5 on networks: at the same small effective lr η = γ/(1−β), SGD and SGDM (β = 0.9) reach the same accuracy, and their gap shrinks as η decreases.',
    criterion: `On the tuning grid at its smallest effective lrs, every (B, η) comparison of validation accuracy is "equivalent" (${statisticsRule(margin)}), and the mean over B of |SGDM − SGD| at the smallest η is at most that at the largest of these η.`,
    measurements: sorted.map((r, i) => measurement('batch', r.batch, r.runs, cs[i]!, { eta: r.eta })),
  };
  if (sorted.length === 0) return { ...base, verdict: 'inconclusive', reason: 'no matched-lr runs' };
  const etas = [...new Set(sorted.map((r) => r.eta))].sort((a, b) => a - b);
  const meanGap = (eta: number): number => {
    const at = cs.filter((_, i) => sorted[i]!.eta === eta).map((c) => Math.abs(c.diff));
    return at.reduce((s, x) => s + x, 0) / at.length;
  };
  const small = meanGap(etas[0]!);
  const large = meanGap(etas[etas.length - 1]!);
  const shrinks = small <= large;
  const trend = `mean |gap| ${pp(small)} at η = ${etas[0]} vs ${pp(large)} at η = ${etas[etas.length - 1]}`;
  const different = sorted.filter((_, i) => cs[i]!.outcome === 'different');
  const open = sorted.filter((_, i) => cs[i]!.outcome === 'inconclusive');
  if (different.length > 0) return { ...base, verdict: 'not supported', reason: `different at ${different.map((r) => `B = ${r.batch}, η = ${r.eta} (${said(cs[sorted.indexOf(r)]!)})`).join('; ')}; ${trend}` };
  if (open.length > 0) return { ...base, verdict: 'inconclusive', reason: `inconclusive at ${open.map((r) => `B = ${r.batch}, η = ${r.eta}`).join('; ')} (the others equivalent within ±${pp(margin)}); ${trend}` };
  if (!shrinks) return { ...base, verdict: 'not supported', reason: `all ${sorted.length} equivalent within ±${pp(margin)}, but the gap does not shrink: ${trend}` };
  return { ...base, verdict: 'supported', reason: `all ${sorted.length} (B, η) equivalent within ±${pp(margin)} (largest |gap| ${pp(Math.max(...cs.map((c) => Math.abs(c.diff))))}); ${trend}` };
}

/** SGD's stability edge: gradient descent on a quadratic diverges past ηλ_max = 2. */
export const STABILITY_EDGE = 2;
/** At B ≤ B_noise the minibatch gradient's noise is at least as large as its signal (McCandlish et al. 2018). */
export const NOISE_LIMITED_BATCH_RATIO = 1;

export type Regime = 'curvature-limited' | 'noise-limited' | 'unclassified';

/** What the regime rule reads: SGD's sharpness at its own tuned η (a probe), and B against the measured B_noise. */
export interface RegimeMeasure { sgdEta: number; sgdEtaLambda: number | null; sgdDiverged: boolean; batchOverBNoise: number | null }

/** The rule fixed before the runs: past the stability edge ⇒ curvature-limited; inside it with B ≤ B_noise ⇒ noise-limited. */
export function regimeOf(m: RegimeMeasure): Regime {
  if (m.sgdDiverged || (m.sgdEtaLambda !== null && m.sgdEtaLambda > STABILITY_EDGE)) return 'curvature-limited';
  if (m.sgdEtaLambda !== null && m.batchOverBNoise !== null && m.batchOverBNoise <= NOISE_LIMITED_BATCH_RATIO) return 'noise-limited';
  return 'unclassified';
}

export const REGIME_RULE = `a batch size is curvature-limited when SGD at its own tuned η sits past its stability edge (ηλ_max along SGD > ${STABILITY_EDGE}, or SGD diverges there, measured by a probe of that run), noise-limited when it is inside the edge (ηλ_max ≤ ${STABILITY_EDGE}) and B ≤ ${NOISE_LIMITED_BATCH_RATIO === 1 ? '' : `${NOISE_LIMITED_BATCH_RATIO}·`}B_noise, and unclassified otherwise (no prediction)`;

/** Claim 1b (the paper's ImageNet batch-size sweep, as the paper states it): momentum's tuned advantage follows the regime. */
export function batchSizeClaim(rows: readonly (BatchRow & RegimeMeasure)[], margin = DEFAULT_MARGIN): Claim {
  const sorted = [...rows].sort((a, b) => a.batch - b.batch);
  const cs = compareFamily(sorted.map((r) => r.runs), margin);
  const regimes = sorted.map(regimeOf);
  const base = {
    id: 'batch-size',
    statement: 'Tuned SGDM beats tuned SGD (β = 0.9, each at its own best effective lr) only where training is curvature-limited; where it is noise-limited the two are equivalent.',
    criterion: `Rule fixed in advance: ${REGIME_RULE}. Prediction: "different" with SGDM higher at curvature-limited B, "equivalent" at noise-limited B (${statisticsRule(margin)}). Supported when every classified B matches and both regimes occur; not supported when any contradicts.`,
    measurements: sorted.map((r, i) => measurement('batch', r.batch, r.runs, cs[i]!, { regime: regimes[i], sgdEta: r.sgdEta, sgdEtaLambda: r.sgdDiverged ? 'diverged' : r.sgdEtaLambda, batchOverBNoise: r.batchOverBNoise })),
  };
  if (sorted.length === 0) return { ...base, verdict: 'inconclusive', reason: 'no batch sizes measured' };
  const judged = sorted.map((r, i) => {
    const c = cs[i]!;
    const regime = regimes[i]!;
    const match = regime === 'curvature-limited' ? (c.outcome === 'different' && c.diff > 0 ? true : c.outcome === 'inconclusive' ? null : false)
      : regime === 'noise-limited' ? (c.outcome === 'equivalent' ? true : c.outcome === 'inconclusive' ? null : false) : null;
    return { batch: r.batch, regime, c, match };
  });
  const line = judged.map((j) => `B = ${j.batch} ${j.regime}: ${outcomeWord(j.c)}`).join('; ');
  if (judged.some((j) => j.match === false)) return { ...base, verdict: 'not supported', reason: `against the prediction at B = ${judged.filter((j) => j.match === false).map((j) => `${j.batch} (${j.regime}, ${said(j.c)})`).join(', ')} — ${line}` };
  if (judged.some((j) => j.regime !== 'unclassified' && j.match === null)) return { ...base, verdict: 'inconclusive', reason: `no contradiction, but undecided at B = ${judged.filter((j) => j.regime !== 'unclassified' && j.match === null).map((j) => j.batch).join(', ')} — ${line}` };
  const missing = (['curvature-limited', 'noise-limited'] as const).filter((g) => !regimes.includes(g));
  if (missing.length > 0) return { ...base, verdict: 'inconclusive', reason: `the sweep reached no ${missing.join(' and no ')} batch size — ${line}` };
  return { ...base, verdict: 'supported', reason: line };
}

/** Claim 1c: the same sweep under a stricter reading: every B but the largest equivalent, the largest different. */
export function batchSizeStrictClaim(rows: readonly BatchRow[], margin = DEFAULT_MARGIN): Claim {
  const sorted = [...rows].sort((a, b) => a.batch - b.batch);
  const cs = compareFamily(sorted.map((r) => r.runs), margin);
  const base = {
    id: 'batch-size/stricter',
    statement: 'A stricter reading of the batch-size claim, not the paper\'s wording: tuned SGD and SGDM are equivalent at every batch size but the largest, and SGDM is ahead only at the largest.',
    criterion: `Every B but the largest "equivalent" and the largest "different" with SGDM higher (${statisticsRule(margin)}).`,
    measurements: sorted.map((r, i) => measurement('batch', r.batch, r.runs, cs[i]!)),
  };
  if (sorted.length < 2) return { ...base, verdict: 'inconclusive', reason: 'needs at least two batch sizes' };
  const line = sorted.map((r, i) => `B = ${r.batch}: ${outcomeWord(cs[i]!)}`).join('; ');
  const last = cs[cs.length - 1]!;
  const smallOff = cs.slice(0, -1).some((c) => c.outcome === 'different');
  const largeOff = last.outcome === 'equivalent' || (last.outcome === 'different' && last.diff < 0);
  if (smallOff || largeOff) return { ...base, verdict: 'not supported', reason: line };
  if (cs.some((c) => c.outcome === 'inconclusive')) return { ...base, verdict: 'inconclusive', reason: line };
  return { ...base, verdict: 'supported', reason: line };
}

/** Claim 2 (the paper's CIFAR-10 SVAG experiment): SGDM > SGD at ℓ = 1; at the largest ℓ the two are equivalent. */
export function svagClaim(rows: readonly { l: number; runs: PairedRuns }[], margin = DEFAULT_MARGIN): Claim {
  const sorted = [...rows].sort((a, b) => a.l - b.l);
  const cs = compareFamily(sorted.map((r) => r.runs), margin);
  const base = {
    id: 'svag',
    statement: 'At large batch, SGDM beats SGD (same effective lr, SGDM\'s best) at ℓ = 1, and the gap closes as the SVAG level ℓ grows (SVAG removes the curvature-induced part of the noise that momentum was helping with).',
    criterion: `At ℓ = 1 "different" with SGDM higher; at the largest ℓ "equivalent" (${statisticsRule(margin)}, Holm across the ℓ levels).`,
    measurements: sorted.map((r, i) => measurement('l', r.l, r.runs, cs[i]!)),
  };
  if (sorted.length < 2 || sorted[0]!.l !== 1) return { ...base, verdict: 'inconclusive', reason: 'needs ℓ = 1 and at least one larger ℓ' };
  const first = cs[0]!;
  const last = cs[cs.length - 1]!;
  const line = sorted.map((r, i) => `ℓ = ${r.l}: ${outcomeWord(cs[i]!)} ${said(cs[i]!)}`).join('; ');
  const firstAhead = first.outcome === 'different' && first.diff > 0;
  if (firstAhead && last.outcome === 'equivalent') return { ...base, verdict: 'supported', reason: line };
  const firstOff = first.outcome === 'equivalent' || (first.outcome === 'different' && first.diff < 0);
  if (firstOff || last.outcome === 'different') return { ...base, verdict: 'not supported', reason: line };
  return { ...base, verdict: 'inconclusive', reason: line };
}

/** Claim 3 (the paper's RoBERTa few-shot fine-tuning): SGD and SGDM equivalent at every K. */
export function fineTuneClaim(rows: readonly { k: number; runs: PairedRuns }[], margin = DEFAULT_MARGIN): Claim {
  const sorted = [...rows].sort((a, b) => a.k - b.k);
  const cs = compareFamily(sorted.map((r) => r.runs), margin);
  const base = {
    id: 'fine-tuning',
    statement: 'When fine-tuning a pre-trained network with a small learning rate (K examples per class, 5 data seeds), SGD and SGDM reach the same accuracy.',
    criterion: `For every K, test accuracy "equivalent" (${statisticsRule(margin)}, pairs = data seeds, Holm across K); each optimiser's lr chosen per K on a K-shot validation split.`,
    measurements: sorted.map((r, i) => measurement('k', r.k, r.runs, cs[i]!)),
  };
  if (sorted.length === 0) return { ...base, verdict: 'inconclusive', reason: 'no fine-tuning results' };
  const line = sorted.map((r, i) => `K = ${r.k}: ${outcomeWord(cs[i]!)} ${said(cs[i]!)}`).join('; ');
  if (cs.some((c) => c.outcome === 'different')) return { ...base, verdict: 'not supported', reason: line };
  if (cs.some((c) => c.outcome === 'inconclusive')) return { ...base, verdict: 'inconclusive', reason: line };
  return { ...base, verdict: 'supported', reason: line };
}

/** How far above the majority class and the random-initialisation control the pre-trained K-shot accuracy must be. */
export const PRETRAINING_MATTERS_MARGIN = 0.02;

/**
 * Claim 3b (the paper's RoBERTa few-shot fine-tuning, on text): after masked-LM pre-training, prompt-based K-shot
 * fine-tuning with SGD and SGDM reaches the same test accuracy at every (task, K). Judged only where pre-training
 * matters: held-out MLM loss below the unigram baseline, and at the smallest K the prompt model's mean accuracy
 * (both optimisers) ahead of the majority class and of the same model from random initialisation.
 */
export function textFineTuneClaim(
  rows: readonly { task: string; k: number; runs: PairedRuns }[],
  controls: readonly { task: string; variant: string; k: number; accuracies: number[] }[],
  tasks: readonly { task: string; majority: number }[],
  pretraining: { mlmLoss: number; unigramLoss: number; steps: number },
  margin = DEFAULT_MARGIN,
): Claim {
  const cs = compareFamily(rows.map((r) => r.runs), margin);
  const avg = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const base = {
    id: 'fine-tuning-text',
    statement: 'When a masked language model pre-trained on text is fine-tuned K-shot through a prompt (LM-BFF / MeZO style) with a small learning rate, SGD and SGDM (β = 0.9, matched effective lr) reach the same accuracy.',
    criterion: `Pre-training must matter first: held-out MLM loss below the unigram baseline, and at the smallest K the prompt model's mean test accuracy at least ${pp(PRETRAINING_MATTERS_MARGIN)} above both the majority class and the same model fine-tuned from random initialisation (else inconclusive). Then for every (task, K), test accuracy "equivalent" (${statisticsRule(margin)}, pairs = data seeds, Holm across all (task, K)); each optimiser's lr chosen per (task, K) on a K-shot validation sample.`,
    measurements: rows.map((r, i) => ({ task: r.task, ...measurement('k', r.k, r.runs, cs[i]!) })),
    pretraining,
  };
  if (rows.length === 0) return { ...base, verdict: 'inconclusive', reason: 'no fine-tuning results' };
  const gaps: string[] = [];
  if (!(pretraining.mlmLoss < pretraining.unigramLoss)) gaps.push(`held-out MLM loss ${pretraining.mlmLoss.toFixed(3)} is not below the unigram ${pretraining.unigramLoss.toFixed(3)}`);
  for (const t of tasks) {
    const first = rows.filter((r) => r.task === t.task).sort((a, b) => a.k - b.k)[0];
    if (first === undefined) continue;
    const prompt = avg([...first.runs.sgd, ...first.runs.sgdm]);
    const random = controls.find((c) => c.task === t.task && c.variant === 'random-init' && c.k === first.k);
    if (prompt < t.majority + PRETRAINING_MATTERS_MARGIN) gaps.push(`${t.task} K = ${first.k}: ${pp(prompt)} is not ${pp(PRETRAINING_MATTERS_MARGIN)} above the majority class ${pp(t.majority)}`);
    if (random === undefined) gaps.push(`${t.task} K = ${first.k}: no random-initialisation control`);
    else if (prompt < avg(random.accuracies) + PRETRAINING_MATTERS_MARGIN) gaps.push(`${t.task} K = ${first.k}: ${pp(prompt)} is not ${pp(PRETRAINING_MATTERS_MARGIN)} above random initialisation ${pp(avg(random.accuracies))}`);
  }
  const line = rows.map((r, i) => `${r.task} K = ${r.k}: ${outcomeWord(cs[i]!)} ${said(cs[i]!)}`).join('; ');
  if (gaps.length > 0) return { ...base, verdict: 'inconclusive', reason: `pre-training does not matter enough to judge fine-tuning: ${gaps.join('; ')} — ${line}` };
  if (cs.some((c) => c.outcome === 'different')) return { ...base, verdict: 'not supported', reason: line };
  if (cs.some((c) => c.outcome === 'inconclusive')) return { ...base, verdict: 'inconclusive', reason: line };
  return { ...base, verdict: 'supported', reason: line };
}

/** Claim 4: a theory-lab check passes at its defaults (its own criterion is quoted). */
export function theoryClaim(check: string, pass: boolean, criterion: string, rows: Record<string, unknown>[], seconds: number): Claim {
  return {
    id: `theory/${check}`,
    statement: THEORY_STATEMENTS[check] ?? `theory check ${check}`,
    criterion,
    verdict: pass ? 'supported' : 'not supported',
    reason: `${pass ? 'passed' : 'failed'} (${rows.length} rows, ${seconds.toFixed(1)} s)`,
    measurements: rows,
  };
}

const THEORY_STATEMENTS: Record<string, string> = {
  stationary: 'On a noisy quadratic, the stationary loss of SGD and normalised SGDM is ηs²/4 (noise-induced, the same for both) plus a curvature-induced term that momentum shrinks (docs/theory.md §3.1).',
  'weak-approx': 'Thm 3.5: SGDM and SGD at η̄ stay weakly close over O(1/η) steps; the weak error vanishes as η/(1−β) → 0.',
  coupling: 'Run on the same noise, SGD and SGDM differ by O(√(η/(1−β))) with constant β/√(1+β).',
  'slow-sde': 'Thm 4.5: over O(1/η²) steps SGD and SGDM follow the same slow SDE (label-noise sharpness reduction), unlike noise-free GD.',
  svag: 'SVAG keeps the noise-induced term and divides the curvature-induced term by ℓ: the stationary loss follows (ηs²/4)/(1 − ηλ/(2ℓ)).',
  'curvature-vs-noise': 'Linear regression (T5): at large batch and lr SGD diverges where SGDM does not (curvature-limited), SVAG ℓ ≥ 2 removes the difference, and at small batch noise drives both.',
  stability: 'Deterministic stability thresholds: GD ηλ < 2, normalised GDM ηλ < 2(1+β)/(1−β).',
};

/** Claim 5: memory — SGDM keeps one extra float32 per parameter; SGD keeps none. */
export function memoryClaim(rows: { model: string; parameters: number; sgdStateBytes: number; sgdmStateBytes: number; sgdPeakRss?: number | null; sgdmPeakRss?: number | null }[]): Claim {
  const ok = rows.length > 0 && rows.every((r) => r.sgdStateBytes === 0 && r.sgdmStateBytes === 4 * r.parameters);
  return {
    id: 'memory',
    statement: 'Momentum costs one parameter-sized buffer: SGDM\'s optimiser state is 4 bytes per float32 parameter, SGD\'s is zero — the memory the advisor says you save when momentum has marginal value.',
    criterion: 'optimizer state bytes measured on the built models: SGD = 0 and SGDM = 4 × parameters; peak RSS of a short training run is reported alongside.',
    verdict: ok ? 'supported' : 'not supported',
    reason: rows.map((r) => {
      const rss = r.sgdPeakRss != null && r.sgdmPeakRss != null ? ` (peak RSS ${(r.sgdPeakRss / 2 ** 20).toFixed(0)} → ${(r.sgdmPeakRss / 2 ** 20).toFixed(0)} MiB)` : '';
      return `${r.model}: ${(r.sgdmStateBytes / 2 ** 20).toFixed(2)} MiB of momentum for ${r.parameters.toLocaleString('en-US')} parameters${rss}`;
    }).join('; '),
    measurements: rows,
  };
}

/** Agreement the advisor's verdicts must reach on the batch sizes where it made a call (it may abstain: borderline). */
export const ADVISOR_AGREEMENT_TARGET = 0.75;

/** The momentum advisor against the batch-size sweep: its regime per B vs which optimiser won. */
export function advisorClaim(a: SweepAgreement, probes: Record<string, unknown>[]): Claim {
  const measurements = a.points.map((p, i) => ({
    ...probes[i], outcome: p.outcome, advantage: p.advantage, threshold: p.threshold,
    agrees: p.agrees === null ? 'abstained' : p.agrees ? 'yes' : 'NO',
  }));
  const rate = a.decided > 0 ? a.agreed / a.decided : NaN;
  const base = {
    id: 'advisor',
    statement: 'momentum-lab\'s advisor (not a claim of the paper): a probe of SGDM at each batch size (100 steps or the run\'s whole budget, with coupled SGD runs at η and η/2, λ_max and B_noise; the coupled runs repeated over the whole budget where a shorter probe\'s rules disagree) predicts whether momentum wins there — "curvature-limited" where SGDM beats SGD, "noise-dominated" where they tie.',
    criterion: `agreement ≥ ${100 * ADVISOR_AGREEMENT_TARGET}% on the batch sizes where the advisor decided (borderline = abstain), outcomes judged beyond max(2 SE, ${ACCURACY_FLOOR}).`,
    measurements,
  };
  const summary = `${a.agreed}/${a.decided} decided batch sizes agree${a.abstained > 0 ? `, ${a.abstained} abstained` : ''}${a.disagreements.length > 0 ? `; disagrees at B = ${a.disagreements.map((d) => d.batch).join(', ')}` : ''}`;
  if (a.decided === 0) return { ...base, verdict: 'inconclusive', reason: `every batch size abstained (${a.abstained})` };
  return { ...base, verdict: rate >= ADVISOR_AGREEMENT_TARGET ? 'supported' : 'not supported', reason: `agreement ${(100 * rate).toFixed(0)}%: ${summary}` };
}
