/**
 * The momentum advisor's verdict: is momentum worth its memory for this (B, lr, β, form)?
 *
 * The paper's thesis (PAPER.md §3, Lemma 2.4 warm-up): on the local quadratic model, per eigen-direction with
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
 * fell behind, kept up) — `shadowRule` below. SGDM's λ_max is then only reported (and used for the stationary split).
 * Without the shadow's sharpness (plain-SGD configs, whose own λ_max is SGD's; or callers that only have SGDM's
 * λ_max) the thresholds below apply to the λ_max given.
 *
 * Which part of the run does the probe see? The answer depends on the run's budget (epochs × ⌊n/B⌋ steps), which a
 * fixed-length probe covers entirely at large B and only at its start at small B. So, with the shadows:
 *   1. the probe covered the whole budget → the coupled runs are the run itself and decide (`wholeRunRule`);
 *   2. otherwise B ≤ 2·B_noise → noise-dominated (`noiseScaleRule`): B_noise grows as the loss falls, so the probe's
 *      early value is a lower bound for the rest of the run, while the coupled runs' early gap is not representative
 *      (sharpness is highest early, and there SGD sits past its edge even where tuned SGD ends up tying);
 *   3. otherwise the shadow's sharpness and gap (`shadowRule`).
 * Where 2 says noise-dominated and 3 would say curvature-limited (`rulesDisagree`: B ≪ B_noise but SGD at η, and at
 * η/2, past its edge or behind early), the first 100 steps cannot tell a tie from a momentum win — the seen sweeps
 * had four ties and one SGDM win with that signature — so the probe repeats the coupled runs over the whole budget
 * (probe.ts WHOLE_RUN_MAX_STEPS) and rule 1 decides (session 5).
 * This order was set in session 3 after the batch-size sweeps of `paper --full` and `paper --quick` had been seen
 * (the rule before it called every batch size of the full sweep curvature-limited); README reports it on those and
 * on a sweep run afterwards that played no part in choosing it.
 */
import type { OptimizerForm } from '../optim/sgd.js';

export type Regime = 'noise-dominated' | 'curvature-limited' | 'borderline';

/**
 * ηλ_max (of the config's own run: used when the SGD shadow's sharpness is not available — plain-SGD configs, or
 * callers with SGDM's λ_max only) at or above which the run is curvature-limited. At ηλ = 1 the curvature-induced part is half of SGD's
 * stationary loss along the sharpest direction (SGD sits at 2× the noise floor there, SGDM(0.9) at 1.03×), and SGD is
 * within a factor 2 of its stability edge ηλ = 2 — a margin a short probe needs, since sharpness keeps rising during
 * training (progressive sharpening drives λ_max toward the stability edge of the optimizer in use).
 */
export const CURVATURE_LIMITED_ETA_LAMBDA = 1;

/**
 * ηλ_max at or below which curvature is negligible: 2/3. The curvature-induced share of SGD's stationary loss along
 * the sharpest direction is then ≤ 1/3 (SGD sits at ≤ 1.5× the noise floor there, SGDM(0.9) at ≤ 1.02×), and it is
 * smaller summed over the spectrum (PAPER.md §6 T5 at η = 0.05, ηλ_max = 0.5: momentum removes 13% of the
 * stationary excess loss, which is 0.2% of the loss). It matches the batch rule below through McCandlish et al.'s
 * ε_opt = ε_max/(1 + B_noise/B): B ≤ 2·B_noise puts the tuned lr at ≤ 2/3 of the curvature-limited one (ε_max ≈ 1/λ).
 */
export const NOISE_DOMINATED_ETA_LAMBDA = 2 / 3;

/**
 * Noise-dominated also requires B ≤ NOISE_BATCH_RATIO · B_noise (= 2, see above): then even a re-tuned lr stays
 * noise-limited. B_noise measured early in training underestimates its late value (it grows as |∇L| falls), so
 * this errs toward 'borderline', never toward wrongly dropping momentum.
 */
export const NOISE_BATCH_RATIO = 2;

/**
 * The coupled SGD probe (same start, same minibatches, lr η = γ/(1−β)) "kept up" with SGDM when its final
 * evaluation loss (2,048 held-out test examples for engine models: probe.ts EVALUATION_SAMPLES) is within this relative
 * margin of SGDM's. 5% is a judgement, not derived and not yet calibrated (the batch-size sweep of issue #7 is
 * where to calibrate it); common random numbers remove seed noise from the comparison, so a smaller real gap is
 * still resolvable. It corrects the sharpness rule for self-stabilisation:
 * λ_max measured under SGDM can exceed 2/η because SGDM tolerates sharper regions, while SGD run at η settles where
 * ηλ ≲ 2 (edge of stability) and may train just as well.
 */
export const SGD_KEEPS_UP_TOLERANCE = 0.05;
// Observed coupled gaps (SGD − SGDM)/SGDM on the three validation sweeps (bench/diag-advise-{t5,nn,paper}-sweep.ts):
// the non-diverged shadows lie at −40% … +3.8% (negative: SGD ahead while SGDM's buffer warms up) or at +26%, +197%,
// +277% (T5 B = 128, paper B = 128 and 2048, all with ηλ_sgd ≥ 2); the 5% judgement sits in that empty range and was
// not moved to fit any point.

/**
 * SGD's deterministic stability threshold on ηλ (PAPER.md §3). With the shadow's sharpness it is also the
 * curvature-limited threshold: along SGD's own trajectory, progressive sharpening stops at the edge of stability
 * λ ≈ 2/η (Cohen et al. 2021), so ηλ_sgd ≥ 2 within the probe means SGD at η already sits at (or beyond) its
 * stability edge — curvature, not noise, caps SGD at this lr, while SGDM(β)'s edge is (1+β)/(1−β) times higher
 * (19× at β = 0.9). No margin below 2 is taken here (unlike CURVATURE_LIMITED_ETA_LAMBDA = 1 for SGDM's λ_max):
 * the margin there stood in for the sharpening still to come, which SGD's own trajectory now shows directly, and
 * the band NOISE_DOMINATED_ETA_LAMBDA < ηλ_sgd < 2 is left 'borderline' (the quadratic model says momentum removes a
 * curvature-induced share ηλ_sgd/2 ∈ (1/3, 1) of SGD's stationary loss along the sharpest direction; a shadow that
 * kept up says the probe did not feel it — conflicting evidence, so no prediction).
 */
export const SGD_STABILITY_LIMIT = 2;

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

/** PAPER.md §3: stationary E[L] of normalised SGDM (β = 0: SGD) on λx²/2 with noise variance s²; Infinity if unstable. */
export function stationaryLoss(eta: number, lambda: number, beta: number, s2: number): number {
  const denom = 1 - (eta * lambda * (1 - beta)) / (2 * (1 + beta));
  return denom > 0 ? (eta * s2) / 4 / denom : Infinity;
}

/**
 * Stationary loss under SVAG level ℓ (PAPER.md §4: lr η/ℓ for ℓ× the steps, noise ×ℓ per step): the noise-induced
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
    decidedBy: 'whole-run' | 'noise-scale' | 'sgd-shadow' | 'own-run';
    /**
     * The probe saw only the start of the run and its rules disagreed: B ≤ 2·B_noise said noise-dominated while the
     * coupled SGD runs said curvature-limited (see `rulesDisagree` in `adviseFromMeasurements`).
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
}

/** Bytes in MB (2^20) for anything ≥ 0.1 MB, else in kB or B. */
export function formatBytes(b: number): string {
  if (b >= 0.1 * 2 ** 20) return `${fmt(b / 2 ** 20)} MB`;
  if (b >= 1024) return `${fmt(b / 1024)} kB`;
  return `${b} B`;
}

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x);
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

/**
 * The verdict from measured numbers — what `momentum-lab advise` prints after its probe, and what the paper suite
 * calls once per batch size of the sweep (issue #7).
 */
export function adviseFromMeasurements(m: AdviceInput): Verdict {
  if (!(m.batch >= 1)) throw new Error(`adviseFromMeasurements: batch must be ≥ 1, got ${m.batch}`);
  if (!(m.lr > 0)) throw new Error(`adviseFromMeasurements: lr must be > 0, got ${m.lr}`);
  if (!(m.momentum >= 0 && m.momentum < 1)) throw new Error(`adviseFromMeasurements: momentum must be in [0, 1), got ${m.momentum}`);
  if (!Number.isFinite(m.lambdaMax)) throw new Error(`adviseFromMeasurements: lambdaMax must be finite, got ${m.lambdaMax}`);
  const { eta, gamma, beta } = effectiveRates(m.lr, m.momentum, m.form);
  const etaLambda = eta * m.lambdaMax;
  const sgdmLimit = sgdmStabilityLimit(beta);
  const hasNoise = m.traceSigma !== undefined && m.gradNormSq !== undefined;
  const bNoise = hasNoise ? (m.gradNormSq! > 0 ? m.traceSigma! / m.gradNormSq! : Infinity) : null;
  const batchOverBNoise = bNoise === null ? null : m.batch / bNoise;
  const stationary = m.traceSigma !== undefined ? stationarySplit(eta, beta, m.batch, Math.max(0, m.lambdaMax), Math.max(0, m.traceSigma), m.directions) : null;
  const usesMomentum = beta > 0;
  const memoryBytesSaved = usesMomentum ? m.paramCount * (m.bytesPerParam ?? 4) : 0;
  const reasons: string[] = [];
  const sgdStable = etaLambda < SGD_STABILITY_LIMIT;
  const sgdmStable = etaLambda < sgdmLimit;
  reasons.push(`ηλ_max = ${fmt(eta)}·${fmt(m.lambdaMax)} = ${fmt(etaLambda)} (SGD stable below ${SGD_STABILITY_LIMIT}, SGDM(β=${beta}) below ${fmt(sgdmLimit)})`);
  if (bNoise !== null) reasons.push(`B = ${m.batch} vs B_noise = tr Σ/|∇L|² = ${fmt(bNoise)} (B/B_noise = ${fmt(batchOverBNoise!)})`);
  else reasons.push('B_noise not measured');
  if (stationary !== null) {
    reasons.push(`stationary loss: noise-induced ηtrΣ/(4B) = ${fmt(stationary.noiseInduced)}, curvature-induced SGD ${fmt(stationary.curvatureInducedSgd)} vs SGDM ${fmt(stationary.curvatureInducedSgdm)} (${stationary.basis}); momentum removes ${fmt(100 * stationary.momentumRemovesFraction, 2)}%`);
    reasons.push(`SVAG prediction along the sharpest direction (ℓ: SGD vs SGDM): ${stationary.svagSharpest.map((r) => `${r.l}: ${fmt(r.sgd)} vs ${fmt(r.sgdm)}`).join(', ')}`);
  }

  const sp = m.sgdProbe;
  const sgdLambda = sp !== undefined && sp.lambdaMax !== undefined && Number.isFinite(sp.lambdaMax) ? sp.lambdaMax : null;
  const sgdEtaLambda = sgdLambda === null ? null : eta * sgdLambda;
  // The shadow decides when the config has momentum and the shadow's own sharpness was measured (or it diverged
  // before any measurement: SGD at η failing outright needs no sharpness).
  const shadowDecides = usesMomentum && sp !== undefined && (sgdLambda !== null || sp.diverged);
  let regime: Regime;
  let recommendation: string;
  let decidedBy: Verdict['numbers']['decidedBy'] = 'own-run';
  const sgdAt = m.form === 'normalized' ? `use SGD at lr η = ${fmt(eta)} (the normalised lr)` : `use SGD at lr η = γ/(1−β) = ${fmt(gamma)}/(1−${beta}) = ${fmt(eta)}`;
  const pct = (g: number): string => `${g >= 0 ? '+' : ''}${fmt(100 * g, 2)}%`;
  /** The reason lines for the coupled SGD run at η (and SGDM's own edge), shared by the three shadow-based rules. */
  /** The coupled run at η in one line (with its own sharpness when measured); every rule that saw it reports it. */
  const shadowLine = (s: NonNullable<AdviceInput['sgdProbe']>): string => (s.diverged
    ? `coupled probe: SGD at η = ${fmt(eta)} diverged or did not train on the same batches, SGDM trained (loss ${fmt(s.sgdmLoss)})`
    : `coupled probe: SGD at η = ${fmt(eta)} reached loss ${fmt(s.loss)} vs SGDM ${fmt(s.sgdmLoss)} on the same batches (${pct(shadowLossGap(false, s.loss, s.sgdmLoss))})${sgdLambda === null ? '' : `; along its own trajectory λ_max = ${fmt(sgdLambda)}, ηλ = ${fmt(sgdEtaLambda!)} (SGD's edge: 2)`}`);
  const shadowAtEtaLines = (s: NonNullable<AdviceInput['sgdProbe']>, out: string[] = reasons): void => {
    out.push(shadowLine(s));
    if (etaLambda >= sgdmLimit) out.push(`SGDM's own λ_max = ${fmt(m.lambdaMax)} reached ηλ = ${fmt(etaLambda)} ≥ its edge ${fmt(sgdmLimit)} during the probe yet SGDM trained (a catapult: sharpness falls back after the spike)`);
  };
  const lowerLine = (lo: NonNullable<NonNullable<AdviceInput['sgdProbe']>['lower']>, sgdmLoss: number, out: string[] = reasons): void => {
    const loGap = shadowLossGap(lo.diverged, lo.loss, sgdmLoss);
    const loEl = lo.lambdaMax === undefined ? null : lo.eta * lo.lambdaMax;
    out.push(lo.diverged
      ? `coupled probe one grid step lower: SGD at η/2 = ${fmt(lo.eta)} diverged or did not train too`
      : `coupled probe one grid step lower: SGD at η/2 = ${fmt(lo.eta)} reached loss ${fmt(lo.loss)} vs SGDM ${fmt(sgdmLoss)} at η (${pct(loGap)})${loEl === null ? '' : `, ηλ_max = ${fmt(loEl)} along its own trajectory`}`);
  };
  const budget = m.budgetSteps !== undefined && m.budgetSteps >= 1 ? m.budgetSteps : null;
  const probeCovers = budget !== null && m.probeSteps !== undefined && m.probeSteps >= budget;
  // Per-seed whole-run results with a probe shorter than the budget: the caller repeated the coupled runs over the
  // whole budget because the probe's rules disagreed (probe.ts `runProbe`, WHOLE_RUN_MAX_STEPS).
  const escalated = !probeCovers && budget !== null && sp?.seeds !== undefined && sp.seeds.length > 0;
  const coversBudget = probeCovers || escalated;
  /**
   * The probe ran the whole budget of the run (large B: few steps): SGDM and the coupled SGD runs at η and η/2 are
   * the run itself, on the same batches from the same start, so they answer the question directly — no sharpness or
   * noise-scale extrapolation. SGD at either lr ending within SGD_KEEPS_UP_TOLERANCE of SGDM's evaluation loss (on
   * the mean over seeds when `seeds` is given; a seed where that SGD run failed rules it out) → momentum marginal
   * (use that lr); both diverged or behind → curvature-limited. ηλ ≥ 2 along SGD's path is reported but does not
   * veto: a run that stayed at its edge of stability and still kept up over its whole budget is fine.
   */
  let wholeRunSeeds: number | null = null;
  let wholeRunGaps: Verdict['numbers']['wholeRunGaps'] = null;
  const wholeRunRule = (): { regime: Regime; recommendation: string } => {
    const s = sp!;
    const seeds = s.seeds !== undefined && s.seeds.length > 0 ? s.seeds : null;
    reasons.push(escalated
      ? `the probe (${m.probeSteps} steps) saw only the start of the run and its rules disagreed — B = ${m.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise says noise-dominated, the probe's coupled SGD runs below say curvature-limited — so SGDM and SGD at η and η/2 were run again over the whole budget (${budget} steps) on ${seeds!.length} seed${seeds!.length > 1 ? 's' : ''}, judged on the mean`
      : `the probe covered the run's whole budget (${budget} steps): the coupled runs below are the run itself${seeds !== null && seeds.length > 1 ? `, repeated on ${seeds.length} seeds and judged on the mean` : ''}`);
    shadowAtEtaLines(s);
    if (s.lower !== undefined) lowerLine(s.lower, s.sgdmLoss);
    // Without per-seed results (a caller with the probe's own runs only) the probe is the one seed; its initial loss
    // is unknown, so a failed run scores Infinity — the one-seed gap is then exactly `shadowLossGap`.
    const all: CoupledSeed[] = seeds ?? [{
      seed: 0, initialLoss: Infinity, sgdm: { diverged: false, loss: s.sgdmLoss }, sgd: { diverged: s.diverged, loss: s.loss },
      lower: s.lower === undefined ? null : { diverged: s.lower.diverged, loss: s.lower.loss },
    }];
    const tried = [{ which: 'sgd' as const, at: eta }, ...(s.lower === undefined ? [] : [{ which: 'lower' as const, at: s.lower.eta }])]
      .flatMap(({ which, at }) => { const g = meanSeedGap(all, which); return g === null ? [] : [{ eta: at, diverged: g.failed === all.length, ...g }]; });
    wholeRunSeeds = all.length;
    wholeRunGaps = tried.map(({ eta: e, gap, failed, perSeed }) => ({ eta: e, gap, failed, perSeed }));
    if (all.length > 1 || escalated) {
      for (const t of tried) reasons.push(`over ${all.length} seed${all.length > 1 ? 's' : ''} SGD at ${fmt(t.eta)} ended ${pct(t.gap)} from SGDM on the mean loss (per seed ${t.perSeed.map(pct).join(', ')}${t.failed > 0 ? `; diverged or did not train on ${t.failed}, scored at the initial loss` : ''})`);
    }
    const over = all.length > 1 ? ` and ${all.length} seeds` : '';
    const ok = tried.filter((t) => t.failed === 0 && t.gap <= SGD_KEEPS_UP_TOLERANCE).sort((a, b) => a.gap - b.gap)[0];
    if (ok !== undefined) {
      return { regime: 'noise-dominated', recommendation: `momentum has marginal value here — over the whole budget of ${budget} steps${over} SGD at lr ${fmt(ok.eta)} ended ${pct(ok.gap)} from SGDM on the same batches: use SGD at lr ${fmt(ok.eta)} and save ${formatBytes(memoryBytesSaved)}` };
    }
    const how = tried.map((t) => `at ${fmt(t.eta)} ${t.diverged ? 'diverged' : `ended ${pct(t.gap)} behind${t.failed > 0 ? ` (failed on ${t.failed} seed${t.failed > 1 ? 's' : ''})` : ''}`}`).join(', ');
    return { regime: 'curvature-limited', recommendation: `curvature-limited — keep momentum: over the whole budget of ${budget} steps${over}, on the same batches, SGD ${how} SGDM(β=${beta}) at η = ${fmt(eta)}` };
  };
  /**
   * The probe saw only the start of a longer run. Then B against the noise scale decides first (McCandlish et al.
   * 2018): B ≤ NOISE_BATCH_RATIO·B_noise means the optimal lr, even re-tuned, is ≤ 2/3 of the curvature-limited one
   * — noise, not curvature, limits the run — and since B_noise grows as the loss falls, what holds at the probe holds
   * for the rest of the run. The coupled runs compare the first probe steps, where sharpness is highest and the
   * momentum buffer is still warming up: reported, but they decide when B > NOISE_BATCH_RATIO·B_noise
   * (`shadowRule`), and when SGD at η diverged outright — then this lr is past SGD's stability limit (the issue's
   * ηλ ≥ 2 case) and only the shadow rule's look one grid step lower can call momentum marginal.
   */
  const noiseScaleRule = (): { regime: Regime; recommendation: string } | null => {
    const s = sp!;
    if (batchOverBNoise === null || batchOverBNoise > NOISE_BATCH_RATIO || s.diverged) return null;
    shadowAtEtaLines(s);
    if (s.lower !== undefined) lowerLine(s.lower, s.sgdmLoss);
    reasons.push(`the probe (${m.probeSteps ?? '?'} steps) saw only the start of the run (${budget === null ? 'budget not given' : `${budget} steps`}): B_noise only grows as the loss falls, so B ≤ ${NOISE_BATCH_RATIO}·B_noise decides; the coupled runs above compare early training and do not`);
    if (rulesDisagree) reasons.push(`warning: the coupled SGD runs alone would say curvature-limited (${shadowAlone!.recommendation.replace(/^curvature-limited — keep momentum: /, '')}); a whole-run comparison settles it — it runs when the budget is known and at most the whole-run step limit (advise --whole-run-max-steps)`);
    return { regime: 'noise-dominated', recommendation: `momentum has marginal value here — ${sgdAt} and save ${formatBytes(memoryBytesSaved)} (B = ${m.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(bNoise!)}: the batch is noise-limited, so a tuned lr stays below where momentum's larger stability region matters)` };
  };
  /**
   * The regime from the coupled SGD run at η (same start, same minibatches): SGD failed at η → curvature-limited;
   * SGD kept up well inside its stability region → noise-dominated; otherwise borderline. Each branch names the
   * number behind it.
   */
  const shadowRule = (out: string[] = reasons): { regime: Regime; recommendation: string } => {
    const s = sp!;
    const gap = shadowLossGap(s.diverged, s.loss, s.sgdmLoss);
    const el = sgdEtaLambda;
    shadowAtEtaLines(s, out);
    if (s.diverged || el! >= SGD_STABILITY_LIMIT) {
      const atEta = s.diverged
        ? `SGD at η = ${fmt(eta)} diverged in the coupled probe while SGDM(β=${beta}) trained`
        : `SGD at η = ${fmt(eta)} reached ηλ_max = ${fmt(el!)} ≥ 2 along its own trajectory (at or past its edge of stability; loss ${fmt(s.loss)} vs SGDM ${fmt(s.sgdmLoss)}), while SGDM(β=${beta}) is stable up to ${fmt(sgdmLimit)}`;
      const lo = s.lower;
      if (lo === undefined) return { regime: 'curvature-limited', recommendation: `curvature-limited — keep momentum: ${atEta}` };
      // SGD past its edge at η: would SGD re-tuned one grid step lower do SGDM's job? Same batches, same start.
      const loGap = shadowLossGap(lo.diverged, lo.loss, s.sgdmLoss);
      const loEl = lo.lambdaMax === undefined ? null : lo.eta * lo.lambdaMax;
      lowerLine(lo, s.sgdmLoss, out);
      if (loEl !== null && loEl < SGD_STABILITY_LIMIT && loGap <= SGD_KEEPS_UP_TOLERANCE) {
        return { regime: 'noise-dominated', recommendation: `momentum has marginal value here — ${atEta}, but SGD one grid step lower keeps up: use SGD at lr η/2 = ${fmt(lo.eta)} (${pct(loGap)} loss vs SGDM over the probe, stable at ηλ_max = ${fmt(loEl)}) and save ${formatBytes(memoryBytesSaved)}` };
      }
      const why = lo.diverged ? 'diverged too' : loEl !== null && loEl >= SGD_STABILITY_LIMIT ? `is past its edge too (ηλ_max = ${fmt(loEl)})` : `fell ${fmt(100 * loGap, 2)}% behind`;
      return { regime: 'curvature-limited', recommendation: `curvature-limited — keep momentum: ${atEta}; SGD at η/2 = ${fmt(lo.eta)} ${why}` };
    }
    if (gap > SGD_KEEPS_UP_TOLERANCE) {
      return { regime: 'curvature-limited', recommendation: `curvature-limited — keep momentum: SGD at η = ${fmt(eta)} stayed stable (ηλ_max = ${fmt(el!)} < 2) but fell ${fmt(100 * gap, 2)}% behind SGDM on the same batches` };
    }
    if (el! <= NOISE_DOMINATED_ETA_LAMBDA && (batchOverBNoise === null || batchOverBNoise <= NOISE_BATCH_RATIO)) {
      const why = `SGD at η kept up (${pct(gap)}) with ηλ_max = ${fmt(el!)} ≤ ${fmt(NOISE_DOMINATED_ETA_LAMBDA)} along its own trajectory${batchOverBNoise === null ? '' : `, B = ${m.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(bNoise!)}`}`;
      if (batchOverBNoise === null) reasons.push('verdict rests on the coupled probe alone: B_noise was not measured');
      return { regime: 'noise-dominated', recommendation: `momentum has marginal value here — ${sgdAt} and save ${formatBytes(memoryBytesSaved)} (${why})` };
    }
    const parts: string[] = [];
    if (el! > NOISE_DOMINATED_ETA_LAMBDA) parts.push(`SGD at η = ${fmt(eta)} kept up over the probe but its own ηλ_max = ${fmt(el!)} is between ${fmt(NOISE_DOMINATED_ETA_LAMBDA)} and its edge 2 (momentum would remove ${fmt(50 * el!, 2)}% of SGD's stationary loss along the sharpest direction)`);
    if (batchOverBNoise !== null && batchOverBNoise > NOISE_BATCH_RATIO) parts.push(`B = ${m.batch} exceeds ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(bNoise!)}, so a larger lr — where momentum starts to matter — is within reach`);
    return { regime: 'borderline', recommendation: `borderline — ${parts.join('; ')}. ${sgdAt.replace('use SGD', 'SGD')} would save ${formatBytes(memoryBytesSaved)}; confirm with a longer run before dropping momentum` };
  };
  /**
   * The probe saw only the start of the run, B ≤ NOISE_BATCH_RATIO·B_noise (the noise-scale rule says
   * noise-dominated) and the coupled SGD runs say curvature-limited (`shadowRule`). On the seen sweeps this
   * signature came with ties (the full sweep's B = 32, 128; held-out 2's B = 32, 128) and with SGDM's one
   * unpredicted win (held-out 4, B = 32): the first 100 steps cannot tell them apart, so the probe repeats the
   * coupled runs over the whole budget when it may (`escalated` above).
   */
  const shadowAlone = shadowDecides && m.diverged !== true && !probeCovers && !sp!.diverged && batchOverBNoise !== null
    && batchOverBNoise <= NOISE_BATCH_RATIO ? shadowRule([]) : null;
  const rulesDisagree = shadowAlone?.regime === 'curvature-limited';
  if (m.diverged === true) {
    // 'diverged' also covers a probe whose loss ended above its start.
    if (!usesMomentum && !sgdStable && etaLambda < sgdmStabilityLimit(0.9)) {
      regime = 'curvature-limited';
      recommendation = `the probe diverged: plain SGD at ηλ_max = ${fmt(etaLambda)} ≥ 2 is deterministically unstable — momentum would help: SGDM with β = 0.9 at the same η (PyTorch lr γ = η(1−β) = ${fmt(eta * 0.1)}) is stable up to ηλ = ${fmt(sgdmStabilityLimit(0.9))}, at a cost of ${formatBytes(m.paramCount * (m.bytesPerParam ?? 4))}; or lower the lr`;
    } else if (sgdmStable) {
      regime = 'noise-dominated';
      recommendation = `the probe diverged or did not reduce the loss although ηλ_max = ${fmt(etaLambda)} is inside SGDM's deterministic stability region (< ${fmt(sgdmLimit)}): noise-driven instability, which momentum does not cure — lower η (SGD at the same η diverges too)`;
    } else {
      regime = 'curvature-limited';
      recommendation = `the probe diverged or did not reduce the loss: ηλ_max = ${fmt(etaLambda)} exceeds even SGDM's stability limit ${fmt(sgdmLimit)} — lower the lr`;
    }
    reasons.push('the probe diverged or ended with a loss above its start');
  } else if (shadowDecides) {
    const byNoise = coversBudget ? null : noiseScaleRule();
    decidedBy = coversBudget ? 'whole-run' : byNoise !== null ? 'noise-scale' : 'sgd-shadow';
    ({ regime, recommendation } = coversBudget ? wholeRunRule() : byNoise ?? shadowRule());
  } else if (etaLambda >= CURVATURE_LIMITED_ETA_LAMBDA) {
    regime = 'curvature-limited';
    if (!sgdmStable) {
      recommendation = `curvature-limited and unstable even with momentum (ηλ_max = ${fmt(etaLambda)} ≥ ${fmt(sgdmLimit)}) — lower the lr`;
    } else if (usesMomentum) {
      recommendation = sgdStable
        ? `curvature-limited — keep momentum: ηλ_max = ${fmt(etaLambda)}, so ${fmt(100 * etaLambda / 2, 2)}% of SGD's stationary loss along the sharpest direction is curvature-induced, which momentum removes`
        : `curvature-limited — keep momentum: SGD at η = ${fmt(eta)} would be unstable (ηλ_max = ${fmt(etaLambda)} ≥ 2), SGDM(β=${beta}) is stable up to ${fmt(sgdmLimit)}`;
    } else {
      const b = 0.9;
      recommendation = `curvature-limited — momentum would help: ${sgdStable ? `ηλ_max = ${fmt(etaLambda)} is close to SGD's limit 2` : `SGD is unstable here (ηλ_max = ${fmt(etaLambda)} ≥ 2)`}; SGDM with β = ${b} at the same η (PyTorch lr γ = η(1−β) = ${fmt(eta * (1 - b))}) is stable up to ηλ = ${fmt(sgdmStabilityLimit(b))}, at a cost of ${formatBytes(m.paramCount * (m.bytesPerParam ?? 4))}`;
    }
  } else if (etaLambda <= NOISE_DOMINATED_ETA_LAMBDA && (batchOverBNoise === null || batchOverBNoise <= NOISE_BATCH_RATIO)) {
    regime = 'noise-dominated';
    const why = `ηλ_max = ${fmt(etaLambda)} ≤ ${fmt(NOISE_DOMINATED_ETA_LAMBDA)}${batchOverBNoise === null ? '' : `, B = ${m.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(bNoise!)}`}`;
    recommendation = usesMomentum
      ? `momentum has marginal value here — ${sgdAt} and save ${formatBytes(memoryBytesSaved)} (${why})`
      : `momentum has marginal value here — plain SGD at η = ${fmt(eta)} is the right choice (${why})`;
    if (batchOverBNoise === null) reasons.push('verdict rests on ηλ_max alone: B_noise was not measured');
  } else {
    regime = 'borderline';
    const parts: string[] = [];
    if (etaLambda > NOISE_DOMINATED_ETA_LAMBDA) parts.push(`ηλ_max = ${fmt(etaLambda)} is between ${fmt(NOISE_DOMINATED_ETA_LAMBDA)} and ${CURVATURE_LIMITED_ETA_LAMBDA}`);
    if (batchOverBNoise !== null && batchOverBNoise > NOISE_BATCH_RATIO) parts.push(`B = ${m.batch} exceeds ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(bNoise!)}, so a larger lr — where momentum starts to matter — is within reach`);
    recommendation = usesMomentum
      ? `borderline — ${parts.join('; ')}. At this lr SGD (${sgdAt.replace('use SGD at ', '')}) would save ${formatBytes(memoryBytesSaved)}${stationary !== null ? `; momentum removes ${fmt(100 * stationary.momentumRemovesFraction, 2)}% of SGD's stationary loss (${stationary.basis.startsWith('upper') ? 'upper bound' : 'estimate'})` : ''}; keep momentum if you plan to raise the lr`
      : `borderline — ${parts.join('; ')}`;
  }
  if (sp !== undefined && usesMomentum && m.diverged !== true && !shadowDecides) {
    const gap = shadowLossGap(sp.diverged, sp.loss, sp.sgdmLoss);
    reasons.push(shadowLine(sp));
    if (sp.diverged) {
      if (regime !== 'curvature-limited') {
        regime = 'curvature-limited';
        recommendation = `curvature-limited — keep momentum: SGD at η = ${fmt(eta)} diverged in the coupled probe while SGDM trained`;
      }
    } else if (regime === 'curvature-limited' && gap <= SGD_KEEPS_UP_TOLERANCE) {
      regime = 'borderline';
      recommendation = `borderline — ηλ_max = ${fmt(etaLambda)} measured under SGDM says curvature matters, but SGD at η = ${fmt(eta)} kept up over the probe (loss ${fmt(sp.loss)} vs ${fmt(sp.sgdmLoss)}): sharpness adapts to the optimizer (edge of stability). ${sgdAt.replace('use SGD', 'SGD')} would save ${formatBytes(memoryBytesSaved)}; confirm with a longer run before dropping momentum`;
    } else if (regime === 'curvature-limited' && sgdmStable) {
      recommendation = `curvature-limited — keep momentum: SGD at η = ${fmt(eta)} trained but fell ${fmt(100 * gap, 2)}% behind SGDM on the same batches, and ηλ_max = ${fmt(etaLambda)} under SGDM (SGD needs < 2 there; SGDM(β=${beta}) < ${fmt(sgdmLimit)})`;
    } else if (regime === 'noise-dominated' && gap > SGD_KEEPS_UP_TOLERANCE) {
      regime = 'borderline';
      recommendation = `borderline — the sharpness and noise numbers say momentum is marginal, but SGD at η = ${fmt(eta)} fell ${fmt(100 * gap, 2)}% behind SGDM over the probe; keep momentum unless a longer comparison says otherwise`;
    }
  }
  return {
    regime,
    recommendation,
    reasons,
    numbers: {
      batch: m.batch, form: m.form, gamma, eta, beta, lambdaMax: m.lambdaMax, etaLambdaMax: etaLambda,
      sgdLambdaMax: sgdLambda, sgdEtaLambdaMax: sgdEtaLambda, sharpnessBasis: shadowDecides ? 'sgd-shadow' : 'own-run', decidedBy,
      budgetSteps: m.budgetSteps ?? null, probeSteps: m.probeSteps ?? null, rulesDisagree, wholeRunEscalated: escalated, wholeRunSeeds, wholeRunGaps,
      sgdLimit: SGD_STABILITY_LIMIT, sgdmLimit, sgdStable, sgdmStable, curvatureShareSharpest: etaLambda / 2,
      bNoise, batchOverBNoise, traceSigma: m.traceSigma ?? null, gradNormSq: m.gradNormSq ?? null, stationary,
      noiseInducedOverLoss: stationary !== null && m.loss !== undefined && m.loss > 0 ? stationary.noiseInduced / m.loss : null,
      thresholds: { curvatureLimitedEtaLambda: CURVATURE_LIMITED_ETA_LAMBDA, noiseDominatedEtaLambda: NOISE_DOMINATED_ETA_LAMBDA, noiseBatchRatio: NOISE_BATCH_RATIO, sgdKeepsUpTolerance: SGD_KEEPS_UP_TOLERANCE },
    },
    memoryBytesSaved,
  };
}

/** Human-readable verdict: the recommendation, then the numbers behind it. */
export function formatVerdict(v: Verdict): string {
  return [`regime: ${v.regime}`, v.recommendation, ...v.reasons.map((r) => `  - ${r}`)].join('\n');
}
