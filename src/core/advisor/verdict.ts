/**
 * The momentum advisor's verdict: is momentum worth its memory for this (B, lr, β, form)?
 *
 * The paper's thesis (docs/theory.md §3.1, the paper's Lemma 2.4 warm-up): on the local quadratic model, per eigen-direction with
 * curvature λ and per-step gradient-noise variance s² (= vᵀΣv/B for minibatch B), normalised SGDM at effective lr η
 * has the stationary loss
 *     E[L]∞ = (η s²/4) / (1 − ηλ(1−β)/(2(1+β)))
 * — a noise-induced part ηs²/4 that SGD and SGDM share, and a curvature-induced remainder. SGD (β = 0) has
 * (ηs²/4)/(1 − ηλ/2): the curvature-induced share of its stationary loss is exactly ηλ/2, and that is the share
 * momentum can remove. Deterministic stability: SGD needs ηλ < 2, normalised SGDM ηλ < 2(1+β)/(1−β)
 * (PyTorch form γλ < 2(1+β)). So ηλ_max is the decisive number, and the batch size against the simple noise scale
 * B_noise = tr Σ/|∇L|² (McCandlish et al. 2018) says whether a tuned lr would be noise-limited (B ≤ 2·B_noise: the
 * optimal lr is ≤ 2/3 of the curvature-limited one) or could grow until curvature — and momentum — matter.
 * A coupled SGD run at η on the same batches (the probe's shadow) then confirms or corrects the sharpness rule.
 *
 * Which λ_max? Sharpness adapts to the optimizer that trains (edge of stability, Cohen et al. 2021): along SGDM's own
 * trajectory λ_max rises toward SGDM's edge 2(1+β)/((1−β)η), so ηλ_max measured there is ≫ 2 whenever SGDM's lr is
 * large — even where SGD at the same η would train fine in a flatter region. The question "does momentum matter at
 * this η" is a question about SGD at η, so when the probe ran the SGD shadow and measured λ_max along the shadow's own
 * trajectory, the regime is decided by that number (ηλ_sgd against SGD's edge 2) and by the shadow's outcome (diverged,
 * fell behind, kept up) — `shadowRule` in rules.ts. SGDM's λ_max is then only reported (and used for the stationary split).
 * Without the shadow's sharpness (plain-SGD configs, whose own λ_max is SGD's; or callers that only have SGDM's
 * λ_max) the thresholds of rules-thresholds.ts apply to the λ_max given.
 *
 * Which part of the run the probe saw (the whole budget, or only its start), and so which rule decides, is explained
 * in rules.ts; the words of the verdict are in explain.ts.
 */
import type { OptimizerForm } from '../optim/sgd.js';
import { decide, measurements, type Decision, type Regime, type RuleName } from './rules.js';
import { explain } from './explain.js';
import type { CoupledSeed, DirectionNoise, StationarySplit } from './rules-closed-form.js';
import { CURVATURE_LIMITED_ETA_LAMBDA, NOISE_BATCH_RATIO, NOISE_DOMINATED_ETA_LAMBDA, SGD_KEEPS_UP_TOLERANCE, SGD_STABILITY_LIMIT } from './rules-thresholds.js';

export * from './rules-thresholds.js';
export * from './rules-closed-form.js';
export * from './rules.js';
export { explain, formatBytes, formatVerdict } from './explain.js';

export interface AdviceInput {
  batch: number;
  /** lr as the form defines it: γ for pytorch/keras/sgd, η for normalized. */
  lr: number;
  momentum: number;
  form: OptimizerForm;
  /** Top Hessian eigenvalue (use the largest seen along a probe: sharpness rises during training). */
  lambdaMax: number;
  /** tr Σ of the per-example gradient covariance (unbiased estimate). */
  traceSigma?: number;
  /** |∇L|² (unbiased estimate). */
  gradNormSq?: number;
  /** Trainable parameters (momentum buffer entries). */
  paramCount: number;
  /** Bytes per buffer entry; 4 (float32) by default. */
  bytesPerParam?: number;
  /** Training loss at the measurement, to express the stationary terms relative to it. */
  loss?: number;
  /** Top eigen-directions with their gradient variance, for a sharper stationary split than the worst-case bound. */
  directions?: DirectionNoise[];
  /** Whether the probe (running this config, with its momentum) diverged. */
  diverged?: boolean;
  /**
   * Optimizer steps of the run being advised on (its budget: epochs × ⌊n/B⌋) and steps the probe took. When the probe
   * covered the whole budget, the coupled SGD shadows are the run itself and decide (`wholeRunRule`); otherwise the
   * probe saw only the start of training (see `noiseScaleRule`). Unknown budget = a run longer than the probe.
   */
  budgetSteps?: number;
  probeSteps?: number;
  /**
   * The coupled SGD probe at η: whether it diverged (or did not train), both final evaluation losses (probe.ts `evaluationLoss`), and λ_max
   * measured along the SGD run's own trajectory (the largest over its checkpoints). With `lambdaMax` the regime is
   * decided by the shadow (see the module comment); without it, by `lambdaMax` of the config's own run.
   */
  sgdProbe?: {
    diverged: boolean; loss: number; sgdmLoss: number; lambdaMax?: number;
    /**
     * A second coupled SGD run one factor-2 grid step lower (η/2): consulted only when SGD at η is past its edge.
     * Stable there (η/2·λ < 2 along its own trajectory) and keeping up with SGDM at η → momentum is marginal: SGD
     * re-tuned one grid step down does the same job.
     */
    lower?: { eta: number; diverged: boolean; loss: number; lambdaMax?: number };
    /**
     * The coupled comparison over the run's whole budget on every seed run (the probe's seed first): from the probe
     * itself when it covered the budget, or run after a shorter probe whose rules disagreed (`rulesDisagree`). The
     * whole-run rule then judges the mean over seeds (`meanSeedGap`) instead of the probe's own coupled runs.
     */
    seeds?: CoupledSeed[];
  };
}

export interface Verdict {
  regime: Regime;
  recommendation: string;
  reasons: string[];
  numbers: {
    batch: number;
    form: OptimizerForm;
    gamma: number;
    eta: number;
    beta: number;
    lambdaMax: number;
    etaLambdaMax: number;
    /** λ_max along the coupled SGD run's own trajectory and ηλ of it (null when not measured). */
    sgdLambdaMax: number | null;
    sgdEtaLambdaMax: number | null;
    /** Which sharpness decided the regime: the SGD shadow's, or the config's own run's. */
    sharpnessBasis: 'sgd-shadow' | 'own-run';
    /** Which rule decided: the coupled runs over the whole budget, B against B_noise, the shadow's sharpness, or ηλ of the own run. */
    decidedBy: RuleName;
    /**
     * The probe saw only the start of the run and its rules disagreed: B ≤ 2·B_noise said noise-dominated while the
     * coupled SGD runs said curvature-limited (`rulesDisagree` in rules.ts).
     */
    rulesDisagree: boolean;
    /** The whole-run comparison decided although the probe was shorter than the budget (it was run because the rules disagreed). */
    wholeRunEscalated: boolean;
    budgetSteps: number | null;
    probeSteps: number | null;
    /** Seeds behind the whole-run comparison (null unless it decided), and its mean gaps of SGD at η and η/2. */
    wholeRunSeeds: number | null;
    wholeRunGaps: { eta: number; gap: number; failed: number; perSeed: number[] }[] | null;
    sgdLimit: number;
    sgdmLimit: number;
    sgdStable: boolean;
    sgdmStable: boolean;
    /** ηλ_max/2: the curvature-induced share of SGD's stationary loss along the sharpest direction. */
    curvatureShareSharpest: number;
    bNoise: number | null;
    batchOverBNoise: number | null;
    traceSigma: number | null;
    gradNormSq: number | null;
    stationary: StationarySplit | null;
    /** noiseInduced / loss, when the loss is known. */
    noiseInducedOverLoss: number | null;
    thresholds: { curvatureLimitedEtaLambda: number; noiseDominatedEtaLambda: number; noiseBatchRatio: number; sgdKeepsUpTolerance: number };
  };
  /** Bytes of the momentum buffer that switching to SGD frees (0 if the config has no momentum). */
  memoryBytesSaved: number;
  /** The structured verdict: the deciding rule with the numbers it used, the check that may have overridden it, the disagreement. */
  decision: Decision;
}

/**
 * The verdict from measured numbers — what `momentum-lab advise` prints after its probe, and what the paper suite
 * calls once per batch size of the sweep: the rules decide (rules.ts `decide`), explain.ts words the decision.
 */
export function adviseFromMeasurements(m: AdviceInput): Verdict {
  if (!(m.batch >= 1)) throw new Error(`adviseFromMeasurements: batch must be ≥ 1, got ${m.batch}`);
  if (!(m.lr > 0)) throw new Error(`adviseFromMeasurements: lr must be > 0, got ${m.lr}`);
  if (!(m.momentum >= 0 && m.momentum < 1)) throw new Error(`adviseFromMeasurements: momentum must be in [0, 1), got ${m.momentum}`);
  if (!Number.isFinite(m.lambdaMax)) throw new Error(`adviseFromMeasurements: lambdaMax must be finite, got ${m.lambdaMax}`);
  const x = measurements(m);
  const decision = decide(x);
  const { recommendation, reasons } = explain(decision, x);
  const whole = decision.rule.decidedBy === 'whole-run' ? decision.rule.evidence : null;
  const { stationary } = x;
  return {
    regime: decision.regime,
    recommendation,
    reasons,
    numbers: {
      batch: m.batch, form: m.form, gamma: x.gamma, eta: x.eta, beta: x.beta, lambdaMax: m.lambdaMax, etaLambdaMax: x.etaLambda,
      sgdLambdaMax: x.shadow?.lambdaMax ?? null, sgdEtaLambdaMax: x.shadow?.etaLambda ?? null,
      sharpnessBasis: x.shadowDecides ? 'sgd-shadow' : 'own-run', decidedBy: decision.decidedBy,
      budgetSteps: m.budgetSteps ?? null, probeSteps: m.probeSteps ?? null, rulesDisagree: decision.disagreement !== null,
      wholeRunEscalated: x.escalated, wholeRunSeeds: whole?.seeds ?? null,
      wholeRunGaps: whole?.tried.map(({ eta, gap, failed, perSeed }) => ({ eta, gap, failed, perSeed })) ?? null,
      sgdLimit: SGD_STABILITY_LIMIT, sgdmLimit: x.sgdmLimit, sgdStable: x.sgdStable, sgdmStable: x.sgdmStable, curvatureShareSharpest: x.etaLambda / 2,
      bNoise: x.bNoise, batchOverBNoise: x.batchOverBNoise, traceSigma: m.traceSigma ?? null, gradNormSq: m.gradNormSq ?? null, stationary,
      noiseInducedOverLoss: stationary !== null && m.loss !== undefined && m.loss > 0 ? stationary.noiseInduced / m.loss : null,
      thresholds: { curvatureLimitedEtaLambda: CURVATURE_LIMITED_ETA_LAMBDA, noiseDominatedEtaLambda: NOISE_DOMINATED_ETA_LAMBDA, noiseBatchRatio: NOISE_BATCH_RATIO, sgdKeepsUpTolerance: SGD_KEEPS_UP_TOLERANCE },
    },
    memoryBytesSaved: x.memoryBytesSaved,
    decision,
  };
}
