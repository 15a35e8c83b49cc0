/**
 * The advisor's rules: each a pure function from the measurements to `{ regime, decidedBy, evidence }`, the evidence
 * being the numbers the rule used. `decide` is the one place that picks the deciding rule; explain.ts words the result.
 *
 * Which part of the run does the probe see? The answer depends on the run's budget (epochs × ⌊n/B⌋ steps), which a
 * fixed-length probe covers entirely at large B and only at its start at small B. With the coupled SGD runs
 * (the shadows: same start, same minibatches) and their own sharpness, `decide` takes, in this order:
 *   1. the probe covered the whole budget → the coupled runs are the run itself and decide (`wholeRunRule`);
 *   2. otherwise B ≤ 2·B_noise → noise-dominated (`noiseScaleRule`): B_noise grows as the loss falls, so the probe's
 *      early value is a lower bound for the rest of the run, while the coupled runs' early gap is not representative
 *      (sharpness is highest early, and there SGD sits past its edge even where tuned SGD ends up tying);
 *   3. otherwise the shadow's sharpness and gap (`shadowRule`).
 * Where 2 says noise-dominated and 3 would say curvature-limited (`rulesDisagree`: B ≪ B_noise but SGD at η, and at
 * η/2, past its edge or behind early), the first 100 steps cannot tell a tie from a momentum win — the seen sweeps
 * had four ties and one SGDM win with that signature — so the probe repeats the coupled runs over the whole budget
 * (probe.ts WHOLE_RUN_MAX_STEPS) and rule 1 decides. This order was chosen after the batch-size sweeps of
 * `paper --full` and `paper --quick` had been seen; README reports it on those and on sweeps run afterwards that
 * played no part in choosing it.
 * Without the shadow's sharpness (plain-SGD configs, whose own λ_max is SGD's; or callers that only have SGDM's
 * λ_max), or when the probe itself diverged, the config's own run decides (`ownRunRule`); a coupled run without its
 * own sharpness then checks that verdict (`coupledProbeCheck`), the one step that may override a rule.
 */
import type { OptimizerForm } from '../optim/sgd.js';
import type { AdviceInput } from './verdict.js';
import {
  CURVATURE_LIMITED_ETA_LAMBDA, NOISE_BATCH_RATIO, NOISE_DOMINATED_ETA_LAMBDA, SGD_KEEPS_UP_TOLERANCE, SGD_STABILITY_LIMIT, SUGGESTED_MOMENTUM,
} from './rules-thresholds.js';
import { effectiveRates, meanSeedGap, sgdmStabilityLimit, shadowLossGap, stationarySplit, type CoupledSeed, type StationarySplit } from './rules-closed-form.js';

export type Regime = 'noise-dominated' | 'curvature-limited' | 'borderline';

/** The rules that can decide: the coupled runs over the whole budget, B against B_noise, the shadow's sharpness, or the config's own run. */
export type RuleName = 'whole-run' | 'noise-scale' | 'sgd-shadow' | 'own-run';

/** The coupled SGD run at η. `gap` = (SGD − SGDM)/|SGDM| evaluation loss, Infinity when it diverged. */
export interface ShadowRun {
  diverged: boolean; loss: number; sgdmLoss: number; gap: number;
  /** λ_max along its own trajectory and ηλ of it (null when not measured). */
  lambdaMax: number | null; etaLambda: number | null;
}

/** The coupled SGD run one grid step lower (η/2); `gap` against SGDM at η. */
export interface LowerShadowRun { eta: number; diverged: boolean; loss: number; gap: number; etaLambda: number | null }

/** What the rules read: the input's numbers and those derived from them once. */
export interface Measurements {
  batch: number; form: OptimizerForm;
  /** Effective (normalised) lr η, PyTorch lr γ, and β (0 for plain SGD). */
  eta: number; gamma: number; beta: number; usesMomentum: boolean;
  /** λ_max of the config's own run and ηλ of it, against SGD's edge 2 and SGDM's 2(1+β)/(1−β). */
  lambdaMax: number; etaLambda: number; sgdmLimit: number; sgdStable: boolean; sgdmStable: boolean;
  /** SGDM(SUGGESTED_MOMENTUM)'s edge: what momentum would offer a plain-SGD config. */
  suggestedSgdmLimit: number;
  bNoise: number | null; batchOverBNoise: number | null;
  stationary: StationarySplit | null;
  /** Bytes of the momentum buffer (paramCount × bytesPerParam), and what dropping it saves (0 without momentum). */
  bufferBytes: number; memoryBytesSaved: number;
  /** The config's own probe diverged or ended above its start. */
  probeDiverged: boolean;
  budget: number | null; probeSteps: number | null;
  /** The probe ran the whole budget; or whole-run seeds came with a shorter probe (run because its rules disagreed). */
  probeCovers: boolean; escalated: boolean;
  shadow: ShadowRun | null; lower: LowerShadowRun | null;
  /** Per-seed whole-run results (null when none were given). */
  seeds: CoupledSeed[] | null;
  /** The config has momentum and the shadow measured its own sharpness or diverged: the shadow-based rules apply. */
  shadowDecides: boolean;
}

export function measurements(m: AdviceInput): Measurements {
  const { eta, gamma, beta } = effectiveRates(m.lr, m.momentum, m.form);
  const etaLambda = eta * m.lambdaMax;
  const sgdmLimit = sgdmStabilityLimit(beta);
  const hasNoise = m.traceSigma !== undefined && m.gradNormSq !== undefined;
  const bNoise = hasNoise ? (m.gradNormSq! > 0 ? m.traceSigma! / m.gradNormSq! : Infinity) : null;
  const usesMomentum = beta > 0;
  const bufferBytes = m.paramCount * (m.bytesPerParam ?? 4);
  const sp = m.sgdProbe;
  const sgdLambda = sp !== undefined && sp.lambdaMax !== undefined && Number.isFinite(sp.lambdaMax) ? sp.lambdaMax : null;
  const budget = m.budgetSteps !== undefined && m.budgetSteps >= 1 ? m.budgetSteps : null;
  const probeCovers = budget !== null && m.probeSteps !== undefined && m.probeSteps >= budget;
  const lo = sp?.lower;
  return {
    batch: m.batch, form: m.form, eta, gamma, beta, usesMomentum,
    lambdaMax: m.lambdaMax, etaLambda, sgdmLimit, sgdStable: etaLambda < SGD_STABILITY_LIMIT, sgdmStable: etaLambda < sgdmLimit,
    suggestedSgdmLimit: sgdmStabilityLimit(SUGGESTED_MOMENTUM),
    bNoise, batchOverBNoise: bNoise === null ? null : m.batch / bNoise,
    stationary: m.traceSigma !== undefined ? stationarySplit(eta, beta, m.batch, Math.max(0, m.lambdaMax), Math.max(0, m.traceSigma), m.directions) : null,
    bufferBytes, memoryBytesSaved: usesMomentum ? bufferBytes : 0,
    probeDiverged: m.diverged === true,
    budget, probeSteps: m.probeSteps ?? null, probeCovers,
    escalated: !probeCovers && budget !== null && sp?.seeds !== undefined && sp.seeds.length > 0,
    shadow: sp === undefined ? null : {
      diverged: sp.diverged, loss: sp.loss, sgdmLoss: sp.sgdmLoss, gap: shadowLossGap(sp.diverged, sp.loss, sp.sgdmLoss),
      lambdaMax: sgdLambda, etaLambda: sgdLambda === null ? null : eta * sgdLambda,
    },
    lower: sp === undefined || lo === undefined ? null : {
      eta: lo.eta, diverged: lo.diverged, loss: lo.loss, gap: shadowLossGap(lo.diverged, lo.loss, sp.sgdmLoss),
      etaLambda: lo.lambdaMax === undefined ? null : lo.eta * lo.lambdaMax,
    },
    seeds: sp?.seeds !== undefined && sp.seeds.length > 0 ? sp.seeds : null,
    // SGD at η failing outright needs no sharpness.
    shadowDecides: usesMomentum && sp !== undefined && (sgdLambda !== null || sp.diverged),
  };
}

/** One SGD lr of the whole-run comparison: its mean gap behind SGDM over seeds, and on how many seeds it failed. */
export interface WholeRunGap { eta: number; gap: number; failed: number; perSeed: number[]; diverged: boolean }

export interface WholeRunResult {
  regime: Regime; decidedBy: 'whole-run';
  evidence: {
    budget: number; probeSteps: number | null; escalated: boolean;
    /** Seeds judged: the given whole-run seeds, else 1 (the probe's own coupled runs). */
    seeds: number;
    /** SGD at η, then at η/2 when it ran. */
    tried: WholeRunGap[];
    /** The SGD run that kept up on every seed (the smaller gap of the two), or null: curvature-limited. */
    kept: WholeRunGap | null;
  };
}

/**
 * The probe ran the whole budget of the run (large B: few steps), or the coupled runs were repeated over it: SGDM and
 * the coupled SGD runs at η and η/2 are the run itself, on the same batches from the same start, so they answer the
 * question directly — no sharpness or noise-scale extrapolation. SGD at either lr ending within
 * SGD_KEEPS_UP_TOLERANCE of SGDM's evaluation loss (on the mean over seeds when `seeds` is given; a seed where that
 * SGD run failed rules it out) → momentum marginal (use that lr); both diverged or behind → curvature-limited.
 * ηλ ≥ 2 along SGD's path does not veto: a run that stayed at its edge of stability and still kept up over its whole
 * budget is fine.
 */
export function wholeRunRule(x: Measurements): WholeRunResult {
  const s = x.shadow!;
  // Without per-seed results the probe is the one seed; its initial loss is unknown, so a failed run scores Infinity
  // — the one-seed gap is then exactly `shadowLossGap`.
  const all: CoupledSeed[] = x.seeds ?? [{
    seed: 0, initialLoss: Infinity, sgdm: { diverged: false, loss: s.sgdmLoss }, sgd: { diverged: s.diverged, loss: s.loss },
    lower: x.lower === null ? null : { diverged: x.lower.diverged, loss: x.lower.loss },
  }];
  const tried = [{ which: 'sgd' as const, at: x.eta }, ...(x.lower === null ? [] : [{ which: 'lower' as const, at: x.lower.eta }])]
    .flatMap(({ which, at }): WholeRunGap[] => { const g = meanSeedGap(all, which); return g === null ? [] : [{ eta: at, diverged: g.failed === all.length, ...g }]; });
  const kept = tried.filter((t) => t.failed === 0 && t.gap <= SGD_KEEPS_UP_TOLERANCE).sort((a, b) => a.gap - b.gap)[0] ?? null;
  return {
    regime: kept !== null ? 'noise-dominated' : 'curvature-limited', decidedBy: 'whole-run',
    evidence: { budget: x.budget!, probeSteps: x.probeSteps, escalated: x.escalated, seeds: all.length, tried, kept },
  };
}

export interface NoiseScaleResult {
  regime: 'noise-dominated'; decidedBy: 'noise-scale';
  evidence: { bNoise: number; batchOverBNoise: number; probeSteps: number | null; budget: number | null };
}

/**
 * The probe saw only the start of a longer run. Then B against the noise scale decides first (McCandlish et al.
 * 2018): B ≤ NOISE_BATCH_RATIO·B_noise means the optimal lr, even re-tuned, is ≤ 2/3 of the curvature-limited one
 * — noise, not curvature, limits the run — and since B_noise grows as the loss falls, what holds at the probe holds
 * for the rest of the run. The coupled runs compare the first probe steps, where sharpness is highest and the
 * momentum buffer is still warming up: reported, but they decide when B > NOISE_BATCH_RATIO·B_noise
 * (`shadowRule`), and when SGD at η diverged outright — then this lr is past SGD's stability limit (ηλ ≥ 2) and only
 * the shadow rule's look one grid step lower can call momentum marginal. null: the rule does not apply.
 */
export function noiseScaleRule(x: Measurements): NoiseScaleResult | null {
  if (x.batchOverBNoise === null || x.batchOverBNoise > NOISE_BATCH_RATIO || x.shadow!.diverged) return null;
  return { regime: 'noise-dominated', decidedBy: 'noise-scale', evidence: { bNoise: x.bNoise!, batchOverBNoise: x.batchOverBNoise, probeSteps: x.probeSteps, budget: x.budget } };
}

/** SGD at η/2 as the shadow rule judged it, when SGD at η was past its edge. */
export interface LowerJudged {
  eta: number; diverged: boolean; gap: number; etaLambda: number | null;
  /** Stable along its own trajectory (ηλ < 2) and within SGD_KEEPS_UP_TOLERANCE of SGDM at η. */
  keptUp: boolean;
}

export type ShadowEvidence =
  /** SGD at η diverged or reached ηλ ≥ 2 along its own trajectory; `lower`: the look one grid step lower. */
  | { case: 'past-edge'; diverged: boolean; etaLambda: number | null; loss: number; sgdmLoss: number; lower: LowerJudged | null }
  /** SGD at η stayed inside its edge but fell more than SGD_KEEPS_UP_TOLERANCE behind. */
  | { case: 'fell-behind'; gap: number; etaLambda: number }
  /** SGD at η kept up with ηλ ≤ NOISE_DOMINATED_ETA_LAMBDA, and B ≤ NOISE_BATCH_RATIO·B_noise (or B_noise unknown). */
  | { case: 'kept-up'; gap: number; etaLambda: number; batchOverBNoise: number | null }
  /** Kept up, but ηλ sits between NOISE_DOMINATED_ETA_LAMBDA and 2, or B > NOISE_BATCH_RATIO·B_noise: no prediction. */
  | { case: 'inconclusive'; gap: number; etaLambda: number; sharpnessBetween: boolean; batchOverNoise: boolean };

export interface ShadowResult { regime: Regime; decidedBy: 'sgd-shadow'; evidence: ShadowEvidence }

/**
 * The regime from the coupled SGD run at η (same start, same minibatches): SGD failed at η → curvature-limited
 * unless SGD one grid step lower (η/2) is stable and keeps up; SGD kept up well inside its stability region →
 * noise-dominated; SGD stable but behind → curvature-limited; otherwise borderline.
 */
export function shadowRule(x: Measurements): ShadowResult {
  const s = x.shadow!;
  const el = s.etaLambda;
  const result = (regime: Regime, evidence: ShadowEvidence): ShadowResult => ({ regime, decidedBy: 'sgd-shadow', evidence });
  if (s.diverged || el! >= SGD_STABILITY_LIMIT) {
    const past = { case: 'past-edge' as const, diverged: s.diverged, etaLambda: el, loss: s.loss, sgdmLoss: s.sgdmLoss };
    const lo = x.lower;
    if (lo === null) return result('curvature-limited', { ...past, lower: null });
    // Would SGD re-tuned one grid step lower do SGDM's job? Same batches, same start.
    const keptUp = lo.etaLambda !== null && lo.etaLambda < SGD_STABILITY_LIMIT && lo.gap <= SGD_KEEPS_UP_TOLERANCE;
    const lower = { eta: lo.eta, diverged: lo.diverged, gap: lo.gap, etaLambda: lo.etaLambda, keptUp };
    return result(keptUp ? 'noise-dominated' : 'curvature-limited', { ...past, lower });
  }
  if (s.gap > SGD_KEEPS_UP_TOLERANCE) return result('curvature-limited', { case: 'fell-behind', gap: s.gap, etaLambda: el! });
  const bon = x.batchOverBNoise;
  if (el! <= NOISE_DOMINATED_ETA_LAMBDA && (bon === null || bon <= NOISE_BATCH_RATIO)) {
    return result('noise-dominated', { case: 'kept-up', gap: s.gap, etaLambda: el!, batchOverBNoise: bon });
  }
  return result('borderline', {
    case: 'inconclusive', gap: s.gap, etaLambda: el!,
    sharpnessBetween: el! > NOISE_DOMINATED_ETA_LAMBDA, batchOverNoise: bon !== null && bon > NOISE_BATCH_RATIO,
  });
}

/**
 * The probe saw only the start of the run, B ≤ NOISE_BATCH_RATIO·B_noise (the noise-scale rule says
 * noise-dominated) and the coupled SGD runs say curvature-limited (`shadowRule`). On the seen sweeps this signature
 * came with ties (the full sweep's B = 32, 128; held-out 2's B = 32, 128) and with SGDM's one unpredicted win
 * (held-out 4, B = 32): the first 100 steps cannot tell them apart, so the probe repeats the coupled runs over the
 * whole budget when it may. Returns what the shadow rule alone says when they disagree, else null.
 */
export function rulesDisagree(x: Measurements): ShadowResult | null {
  if (x.probeCovers || x.shadow!.diverged || x.batchOverBNoise === null || !(x.batchOverBNoise <= NOISE_BATCH_RATIO)) return null;
  const alone = shadowRule(x);
  return alone.regime === 'curvature-limited' ? alone : null;
}

export type OwnRunEvidence =
  /** The probe diverged (or ended above its start); which stability limit ηλ_max is past decides the advice. */
  | { case: 'diverged'; etaLambda: number; sgdStable: boolean; sgdmStable: boolean; usesMomentum: boolean;
      /** A plain-SGD config that SGDM(SUGGESTED_MOMENTUM) would make stable. */
      momentumWouldStabilise: boolean }
  /** ηλ_max ≥ CURVATURE_LIMITED_ETA_LAMBDA. */
  | { case: 'curvature'; etaLambda: number; sgdStable: boolean; sgdmStable: boolean; usesMomentum: boolean }
  /** ηλ_max ≤ NOISE_DOMINATED_ETA_LAMBDA and B ≤ NOISE_BATCH_RATIO·B_noise (or B_noise unknown). */
  | { case: 'noise'; etaLambda: number; batchOverBNoise: number | null; usesMomentum: boolean }
  /** Neither: ηλ_max in between, or B > NOISE_BATCH_RATIO·B_noise. */
  | { case: 'between'; etaLambda: number; sharpnessBetween: boolean; batchOverNoise: boolean; usesMomentum: boolean };

export interface OwnRunResult { regime: Regime; decidedBy: 'own-run'; evidence: OwnRunEvidence }

/**
 * The regime from ηλ_max of the config's own run (docs/theory.md §3 thresholds, module comment of verdict.ts) and B against
 * B_noise; a diverged probe is noise-driven when ηλ_max is inside SGDM's deterministic stability region.
 */
export function ownRunRule(x: Measurements): OwnRunResult {
  const { etaLambda, sgdStable, sgdmStable, usesMomentum } = x;
  const bon = x.batchOverBNoise;
  const result = (regime: Regime, evidence: OwnRunEvidence): OwnRunResult => ({ regime, decidedBy: 'own-run', evidence });
  if (x.probeDiverged) {
    const momentumWouldStabilise = !usesMomentum && !sgdStable && etaLambda < x.suggestedSgdmLimit;
    const regime = momentumWouldStabilise || !sgdmStable ? 'curvature-limited' : 'noise-dominated';
    return result(regime, { case: 'diverged', etaLambda, sgdStable, sgdmStable, usesMomentum, momentumWouldStabilise });
  }
  if (etaLambda >= CURVATURE_LIMITED_ETA_LAMBDA) return result('curvature-limited', { case: 'curvature', etaLambda, sgdStable, sgdmStable, usesMomentum });
  if (etaLambda <= NOISE_DOMINATED_ETA_LAMBDA && (bon === null || bon <= NOISE_BATCH_RATIO)) {
    return result('noise-dominated', { case: 'noise', etaLambda, batchOverBNoise: bon, usesMomentum });
  }
  return result('borderline', {
    case: 'between', etaLambda, usesMomentum,
    sharpnessBetween: etaLambda > NOISE_DOMINATED_ETA_LAMBDA, batchOverNoise: bon !== null && bon > NOISE_BATCH_RATIO,
  });
}

export interface CoupledCheckResult {
  regime: Regime; check: 'coupled-probe';
  evidence: {
    /** What the check did to the own-run verdict. */
    case: 'kept-up' | 'fell-behind' | 'behind-marginal' | 'consistent';
    gap: number; loss: number; sgdmLoss: number;
  };
}

/**
 * A coupled SGD run at η without its own sharpness checks the own-run verdict: λ_max measured under SGDM says
 * curvature matters, but SGD kept up → borderline (sharpness adapts to the optimizer, edge of stability); SGD fell
 * behind → curvature-limited, said in those words; the numbers say marginal but SGD fell behind → borderline.
 * Applies to a momentum config whose probe trained and whose shadow did not decide; null otherwise.
 */
export function coupledProbeCheck(x: Measurements, ownRun: Regime): CoupledCheckResult | null {
  const s = x.shadow;
  if (s === null || !x.usesMomentum || x.probeDiverged || x.shadowDecides) return null;
  const result = (regime: Regime, c: CoupledCheckResult['evidence']['case']): CoupledCheckResult => ({
    regime, check: 'coupled-probe', evidence: { case: c, gap: s.gap, loss: s.loss, sgdmLoss: s.sgdmLoss },
  });
  if (ownRun === 'curvature-limited' && s.gap <= SGD_KEEPS_UP_TOLERANCE) return result('borderline', 'kept-up');
  if (ownRun === 'curvature-limited' && x.sgdmStable) return result('curvature-limited', 'fell-behind');
  if (ownRun === 'noise-dominated' && s.gap > SGD_KEEPS_UP_TOLERANCE) return result('borderline', 'behind-marginal');
  return result(ownRun, 'consistent');
}

export type RuleResult = WholeRunResult | NoiseScaleResult | ShadowResult | OwnRunResult;

/** The structured verdict: the deciding rule's result, the check that may have overridden it, and the disagreement. */
export interface Decision {
  regime: Regime;
  decidedBy: RuleName;
  rule: RuleResult;
  /** own-run only: the coupled probe's check of the rule (its regime is the verdict's). */
  coupledCheck: CoupledCheckResult | null;
  /** The probe saw only the start and its rules disagreed: the shadow rule's curvature-limited result (see `rulesDisagree`). */
  disagreement: ShadowResult | null;
}

/** Picks the deciding rule (order: module comment). */
export function decide(x: Measurements): Decision {
  if (x.probeDiverged || !x.shadowDecides) {
    const rule = ownRunRule(x);
    const coupledCheck = coupledProbeCheck(x, rule.regime);
    return { regime: coupledCheck?.regime ?? rule.regime, decidedBy: 'own-run', rule, coupledCheck, disagreement: null };
  }
  const rule = x.probeCovers || x.escalated ? wholeRunRule(x) : noiseScaleRule(x) ?? shadowRule(x);
  return { regime: rule.regime, decidedBy: rule.decidedBy, rule, coupledCheck: null, disagreement: rulesDisagree(x) };
}
