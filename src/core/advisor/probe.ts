/**
 * A short probe run for `momentum-lab advise`: train the config with its own optimizer for a few steps and, at a
 * few checkpoints, measure λ_max (Lanczos on a finite-difference HVP over a fixed measurement batch), the gradient
 * noise (|∇L|², tr Σ from microbatch gradients, McCandlish et al.) and the noise along the top Hessian directions;
 * then hand the numbers to `adviseFromMeasurements`.
 *
 * The probe works on any `ProbeProblem`; problems.ts builds the two the advisor uses (an engine model on a
 * dataset, and the T5 linear regression of docs/theory.md §5.5).
 */
import { initOptimizer, validateOptimizerConfig, type OptimizerConfig, type OptimizerForm } from '../optim/sgd.js';
import { dot, type FloatBuffer } from './linalg.js';
import { GradientMoments, NoiseScaleTracker, type NoiseEstimate } from './noise.js';
import { defaultRelativeStep, finiteDifferenceHvp, lanczos, type GradFn } from './sharpness.js';
import { adviseFromMeasurements, effectiveRates, type CoupledSeed, type DirectionNoise, type Verdict } from './verdict.js';
import { SgdShadow, coupledSeed, trainCoupled, type ShadowSummary } from './coupled.js';

export type { CoupledSeed } from './verdict.js';
export { TAIL_EVALUATIONS, TAIL_FRACTION, tailSteps, type ShadowSummary } from './coupled.js';
export { EVALUATION_SAMPLES, defaultMeasureSamples, engineProblem, linearRegressionProblem, type EngineProblemOptions } from './problems.js';

/** What the probe needs from a training problem. Gradients are means over the examples used. */
export interface ProbeProblem {
  name: string;
  /** Live parameters, updated in place by training. */
  params: FloatBuffer;
  /** Gradient buffer filled by `trainGrad`. */
  grads: FloatBuffer;
  /** Bytes per parameter of the training precision (the momentum buffer's entry size). */
  bytesPerParam: number;
  /** Draws the next training minibatch of `batch`, fills `grads` at `params`; returns the minibatch loss. */
  trainGrad(batch: number): number;
  /**
   * A deterministic gradient over a fixed measurement batch (no dropout; BatchNorm uses that batch's statistics),
   * taking parameters in float64, for HVPs and the measurement loss; `precision` is the arithmetic it runs in.
   */
  measurementGrad(): { grad: GradFn; precision: 'float32' | 'float64' };
  /** Fills `out` with the mean gradient of a fresh i.i.d. microbatch of `size` examples at `params`. */
  microbatchGrad(size: number, out: Float64Array): void;
  /**
   * The gradient of the minibatch last drawn by `trainGrad`, at other parameters `p` (same precision as `params`),
   * into `out`; returns its loss. Drives the coupled SGD shadow run (same batches, common random numbers).
   */
  lastBatchGradAt(p: FloatBuffer, out: FloatBuffer): number;
  /**
   * Mean loss over a fixed evaluation set at parameters `p` (training precision, eval mode, forward only): what the
   * coupled runs are compared on. For engine problems it is held-out data (the test split; `EngineProblemOptions
   * .evaluation`): the question is which optimiser generalises better, and near interpolation the training loss
   * says "SGDM ahead" where test accuracy ties (the GELU MLP and the quick sweep's MLP at B = 128: SGD's
   * training loss 2–2.5× SGDM's, test accuracy within 0.3 pp). It is larger than the measurement batch (64–256
   * examples, sized for Hessian-vector products), so a 5% gap between two runs is not a small batch's noise.
   */
  evaluationLoss(p: FloatBuffer): number;
}

/**
 * Seeds of the coupled comparison when the probe covers the run's whole budget: the probe's own seed plus
 * `wholeRunSeeds − 1` replicates (fresh initialisation and batch order; no Lanczos, final losses only). The sweeps
 * the advisor is checked against score each optimiser over 3 seeds, and one seed of an edge-of-stability run can end
 * anywhere (the full sweep's B = 2048: SGD at η/2 ended +0.5%, +69%, +38% behind SGDM on seeds 0, 1, 2).
 */
export const WHOLE_RUN_SEEDS = 3;

/**
 * Most optimizer steps the advisor spends on a whole-run comparison it was not asked for: when the probe saw only
 * the start of the run and its two rules disagree (B ≤ 2·B_noise says noise-dominated, the coupled SGD runs say
 * curvature-limited), the coupled runs are repeated over the run's whole budget on `wholeRunSeeds` seeds — about
 * 3·wholeRunSeeds training runs' worth of gradients — if the budget is at most this many steps.
 */
export const WHOLE_RUN_MAX_STEPS = 10_000;

export interface ProbeOptions {
  /** Probe length; the probe runs min(steps, budgetSteps). */
  steps: number;
  /**
   * Optimizer steps of the run being advised on (epochs × ⌊n/B⌋). A probe at least that long stops there and its
   * coupled runs decide the verdict as the run itself; unknown budget = a run longer than the probe.
   */
  budgetSteps?: number;
  batch: number;
  optimizer: OptimizerConfig;
  /** Checkpoints (measurements) along the probe, evenly spaced, the last at the final step; default 3. */
  checkpoints?: number;
  /** Lanczos Krylov dimension per measurement; default 12. */
  lanczosSteps?: number;
  /**
   * Also train plain SGD at the matched effective lr η = γ/(1−β) on the same minibatches from the same start (a
   * coupled "shadow" run, as in the ConvNetJS trainer demo) and compare its measurement-batch loss with SGDM's.
   * Default: on when the config has momentum. Costs one extra gradient per step, plus one Lanczos run (λ_max at the
   * shadow's parameters: the sharpness SGD meets along its own trajectory, which decides the verdict) and one loss
   * per checkpoint. With dropout the shadow draws
   * masks from the model's generator, so the SGDM run then differs from a run without the shadow.
   */
  shadowSgd?: boolean;
  /**
   * Also run a second coupled SGD shadow at η/2 — the next lr down on the factor-2 grid a sweep tunes on — so the
   * verdict can tell "SGD at η is past its stability edge, but SGD re-tuned one grid step lower keeps up with SGDM"
   * (momentum marginal) from "SGD fails at η and falls behind at η/2" (curvature-limited). Default: on with the
   * shadow. Costs one more gradient per step and one more Lanczos run per checkpoint.
   */
  lowerShadow?: boolean;
  /** Top directions whose gradient variance is measured; default 3. */
  directions?: number;
  /** Microbatches per noise measurement and their size; defaults 16 and min(batch, 64). */
  microbatches?: number;
  microbatchSize?: number;
  seed?: number;
  /**
   * Seeds of the whole-run coupled comparison (default WHOLE_RUN_SEEDS), run when the probe covers the whole
   * budget or after a shorter probe whose rules disagreed (see `replicate`). Without `replicate` the
   * whole-run comparison has the probe's seed only.
   */
  wholeRunSeeds?: number;
  /**
   * A fresh problem for seed i of the whole-run comparison: i = 0 is the probe's own problem from its start (used
   * when the comparison runs after a shorter probe), i ≥ 1 another seed (same data and model).
   */
  replicate?(i: number): ProbeProblem;
  /** Most budget steps for a whole-run comparison after a probe whose rules disagreed (default WHOLE_RUN_MAX_STEPS). */
  wholeRunMaxSteps?: number;
  onCheckpoint?(c: ProbeCheckpoint): void;
}

export interface ProbeCheckpoint {
  step: number;
  /** Mean training-minibatch loss over the steps since the previous checkpoint. */
  loss: number;
  /** Loss on the fixed measurement batch (the one the Hessian is taken on). */
  measureLoss: number;
  lambdaMax: number;
  lambdaResidual: number;
  /** yᵀHy of the top Ritz vector y with a 10× larger finite-difference step. */
  lambdaCheck: number;
  /** |lambdaCheck − λ_max| ≤ 1e-3·λ_max + residual: no sign of a kink crossing or an inaccurate HVP. */
  lambdaReliable: boolean;
  noise: NoiseEstimate;
  directions: DirectionNoise[];
  /**
   * The coupled SGD shadow at this checkpoint (when it runs and has not diverged): its measurement-batch loss and
   * λ_max at its own parameters — the sharpness SGD at η meets along its own trajectory, whose edge of stability
   * is 2/η (SGDM's own λ_max adapts to SGDM's edge 2(1+β)/((1−β)η) instead).
   */
  shadow?: { measureLoss: number; lambdaMax: number };
  /** The same for the shadow at η/2 (when it runs and has not diverged). */
  lowerShadow?: { measureLoss: number; lambdaMax: number };
  seconds: number;
}

export interface ProbeResult {
  problem: string;
  steps: number;
  diverged: boolean;
  divergedAtStep: number | null;
  /** The measurement-batch loss at the last checkpoint is ≥ its value before training (did not train). */
  lossIncreased: boolean;
  initialMeasureLoss: number;
  checkpoints: ProbeCheckpoint[];
  /** The coupled SGD run at η, or null when not run. */
  sgdShadow: ShadowSummary | null;
  /** The coupled SGD run at η/2 (see ProbeOptions.lowerShadow), or null when not run. */
  sgdShadowLower: ShadowSummary | null;
  /**
   * Evaluation loss (see ProbeProblem.evaluationLoss) before training, and SGDM's at the end as the mean over the
   * probe's `tailSteps` (Infinity if diverged); the shadows' `evalLoss` are taken at the same steps.
   */
  initialEvalLoss: number;
  evalLoss: number;
  /**
   * The whole-run coupled comparison, one entry per seed (the probe's own first), when the probe covered the budget
   * and ran the shadows, or when it was run after a shorter probe whose rules disagreed (`verdict.numbers
   * .wholeRunEscalated`); empty otherwise.
   */
  coupledSeeds: CoupledSeed[];
  /** λ_max used by the verdict: the largest along the probe (sharpness rises during training). */
  lambdaMax: number;
  /** Noise averaged over the second half of the checkpoints (ratio of averages, McCandlish et al. A.1). */
  noise: NoiseEstimate | null;
  paramCount: number;
  verdict: Verdict;
}

/** Runs the probe and returns the measurements and the verdict. */
export function runProbe(problem: ProbeProblem, options: ProbeOptions): ProbeResult {
  const opt = validateOptimizerConfig(options.optimizer);
  if (options.budgetSteps !== undefined && !(Number.isInteger(options.budgetSteps) && options.budgetSteps >= 1)) {
    throw new Error(`runProbe: budgetSteps must be an integer ≥ 1, got ${options.budgetSteps}`);
  }
  const o = { ...options, steps: Math.min(options.steps, options.budgetSteps ?? Infinity) };
  const n = problem.params.length;
  const state = initOptimizer(opt, n, problem.params instanceof Float32Array ? 'float32' : 'float64');
  const nCk = Math.max(1, Math.min(o.checkpoints ?? 3, o.steps + 1));
  const at = new Set<number>();
  for (let c = 1; c <= nCk; c++) at.add(Math.round((c * o.steps) / nCk));
  const microbatches = o.microbatches ?? 16;
  const mbSize = o.microbatchSize ?? Math.min(o.batch, 64);
  const checkpoints: ProbeCheckpoint[] = [];
  let diverged = false, divergedAtStep: number | null = null;
  let lossSum = 0, lossCount = 0, firstLoss = NaN;
  const g = new Float64Array(n);
  const measurementLoss = (): number => {
    const { grad } = problem.measurementGrad();
    const theta = problem.params instanceof Float32Array ? Float64Array.from(problem.params) : problem.params;
    return Number(grad(theta, new Float64Array(n)) ?? NaN);
  };
  const initialMeasureLoss = measurementLoss();
  const initialParams = problem.params.slice();

  const useShadow = (o.shadowSgd ?? true) && opt.form !== 'sgd' && opt.momentum > 0;
  const eta = effectiveRates(opt.lr, opt.momentum, opt.form).eta;
  const shadow = useShadow ? new SgdShadow(eta, problem) : null;
  const lower = useShadow && (o.lowerShadow ?? true) ? new SgdShadow(eta / 2, problem) : null;
  const measure = (step: number): void => {
    const t0 = performance.now();
    const { grad } = problem.measurementGrad();
    const theta = problem.params instanceof Float32Array ? Float64Array.from(problem.params) : problem.params;
    const fd = finiteDifferenceHvp(grad, theta);
    const lz = lanczos(fd.hvp, n, { steps: o.lanczosSteps ?? 12, seed: (o.seed ?? 1) + step, vectors: o.directions ?? 3 });
    // Cross-check: the top Ritz vector's Rayleigh quotient with a 10× larger difference step. A unit switching
    // across a ReLU kink inside one of the two steps shows up as a disagreement (see defaultRelativeStep).
    const y = lz.ritzVectors[0]!, hy = new Float64Array(n);
    finiteDifferenceHvp(grad, theta, { relativeStep: 10 * defaultRelativeStep('float64') }).hvp(y, hy);
    const lambdaCheck = dot(y, hy);
    // Noise: microbatch gradients at the current parameters; their projections on the top Ritz vectors give vᵀΣv.
    const mom = new GradientMoments(n, mbSize);
    const k = lz.ritzVectors.length;
    const proj: number[][] = Array.from({ length: k }, () => []);
    for (let j = 0; j < microbatches; j++) {
      problem.microbatchGrad(mbSize, g);
      mom.add(g);
      for (let i = 0; i < k; i++) proj[i]!.push(dot(lz.ritzVectors[i]!, g));
    }
    const noise = mom.estimate();
    const measureLoss = Number(grad(theta, g) ?? NaN);
    const directions: DirectionNoise[] = proj.map((p, i) => {
      const mean = p.reduce((a, x) => a + x, 0) / p.length;
      const v = p.reduce((a, x) => a + (x - mean) ** 2, 0) / (p.length - 1);
      return { lambda: lz.values[i]!, variance: v * mbSize };
    });
    const shadowAt = shadow?.measure(grad, o.lanczosSteps ?? 12, (o.seed ?? 1) + step + 7919);
    const lowerAt = lower?.measure(grad, o.lanczosSteps ?? 12, (o.seed ?? 1) + step + 7927);
    checkpoints.push({
      step, loss: lossCount > 0 ? lossSum / lossCount : firstLoss, measureLoss, lambdaMax: lz.top.value, lambdaResidual: lz.top.residual, lambdaCheck,
      lambdaReliable: Math.abs(lambdaCheck - lz.top.value) <= 1e-3 * Math.abs(lz.top.value) + lz.top.residual,
      noise: { gradNormSq: noise.gradNormSq, traceSigma: noise.traceSigma, bNoise: noise.bNoise }, directions,
      ...(shadowAt !== undefined ? { shadow: shadowAt } : {}),
      ...(lowerAt !== undefined ? { lowerShadow: lowerAt } : {}),
      seconds: (performance.now() - t0) / 1000,
    });
    lossSum = 0;
    lossCount = 0;
    o.onCheckpoint?.(checkpoints[checkpoints.length - 1]!);
  };

  const evalAt = (p: FloatBuffer): number => problem.evaluationLoss(p);
  const initialEvalLoss = evalAt(problem.params);
  if (at.has(0)) measure(0);
  let tailLoss = Infinity;
  ({ diverged, divergedAtStep, tailLoss } = trainCoupled(problem, opt, state, o.steps, o.batch, [shadow, lower], evalAt, (k, loss) => {
    if (k === 0) firstLoss = loss;
    lossSum += loss;
    lossCount++;
    if (at.has(k + 1)) measure(k + 1);
  }));
  // Diverged before the first checkpoint: measure at the initial parameters so the verdict has a λ_max.
  if (diverged && checkpoints.length === 0) {
    problem.params.set(initialParams);
    measure(0);
  }
  // A probe whose loss ends above where it started has not trained: treated like divergence by the verdict
  // (docs/theory.md §5.5 at B = 8, η = 0.25 hovers at and above its initial loss rather than overflowing).
  const lastLoss = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1]!.measureLoss : NaN;
  const lossIncreased = !diverged && o.steps > 0 && Number.isFinite(lastLoss) && lastLoss >= initialMeasureLoss;
  const { grad: measureGrad } = problem.measurementGrad();
  const lossAt = (p: FloatBuffer): number => Number(measureGrad(p instanceof Float32Array ? Float64Array.from(p) : p, new Float64Array(n)) ?? NaN);
  const sgdmLoss = diverged ? Infinity : lastLoss;
  const evalLoss = diverged ? Infinity : tailLoss;
  const sgdShadow = shadow?.summary(lossAt, initialMeasureLoss, sgdmLoss, evalAt, initialEvalLoss, evalLoss) ?? null;
  const sgdShadowLower = lower?.summary(lossAt, initialMeasureLoss, sgdmLoss, evalAt, initialEvalLoss, evalLoss) ?? null;
  // The probe covered the run's whole budget: its coupled runs are the run itself, so repeat them on more seeds
  // (the verdict judges the mean over seeds, as the sweeps do).
  const coupledSeeds: CoupledSeed[] = [];
  const seeds = o.wholeRunSeeds ?? WHOLE_RUN_SEEDS;
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`runProbe: wholeRunSeeds must be an integer ≥ 1, got ${seeds}`);
  const coversBudget = o.budgetSteps !== undefined && o.steps >= o.budgetSteps;
  if (coversBudget && sgdShadow !== null && !diverged && !lossIncreased) {
    coupledSeeds.push({
      seed: 0, initialLoss: initialEvalLoss, sgdm: { diverged: !(evalLoss < initialEvalLoss), loss: evalLoss },
      sgd: { diverged: sgdShadow.diverged, loss: sgdShadow.evalLoss },
      lower: sgdShadowLower === null ? null : { diverged: sgdShadowLower.diverged, loss: sgdShadowLower.evalLoss },
    });
    for (let i = 1; i < seeds && o.replicate !== undefined; i++) coupledSeeds.push(coupledSeed(o.replicate(i), opt, o.steps, o.batch, eta, lower !== null, i));
  }
  const lambdaMax = checkpoints.length > 0 ? Math.max(...checkpoints.map((c) => c.lambdaMax)) : NaN;
  const late = checkpoints.slice(Math.floor(checkpoints.length / 2));
  let noise: NoiseEstimate | null = null;
  if (late.length > 0) {
    const tr = new NoiseScaleTracker();
    for (const c of late) tr.add(c.noise);
    noise = tr.estimate();
  }
  const last = checkpoints[checkpoints.length - 1];
  const form: OptimizerForm = opt.form;
  const adviceInput = (wholeRun: CoupledSeed[]): Parameters<typeof adviseFromMeasurements>[0] => ({
    batch: o.batch, lr: opt.lr, momentum: opt.momentum, form, lambdaMax: Number.isFinite(lambdaMax) ? lambdaMax : 0,
    ...(noise !== null ? { traceSigma: noise.traceSigma, gradNormSq: noise.gradNormSq } : {}),
    paramCount: n, bytesPerParam: problem.bytesPerParam,
    ...(last !== undefined && Number.isFinite(last.loss) ? { loss: last.loss } : {}),
    ...(last !== undefined ? { directions: last.directions } : {}),
    diverged: diverged || lossIncreased,
    probeSteps: o.steps,
    ...(o.budgetSteps !== undefined ? { budgetSteps: o.budgetSteps } : {}),
    ...(sgdShadow !== null ? {
      sgdProbe: {
        diverged: sgdShadow.diverged, loss: sgdShadow.evalLoss, sgdmLoss: sgdShadow.sgdmEvalLoss,
        ...(sgdShadow.lambdaMax !== null ? { lambdaMax: sgdShadow.lambdaMax } : {}),
        ...(sgdShadowLower !== null ? { lower: { eta: sgdShadowLower.eta, diverged: sgdShadowLower.diverged, loss: sgdShadowLower.evalLoss, ...(sgdShadowLower.lambdaMax !== null ? { lambdaMax: sgdShadowLower.lambdaMax } : {}) } } : {}),
        ...(wholeRun.length > 0 ? { seeds: wholeRun } : {}),
      },
    } : {}),
  });
  let verdict = adviseFromMeasurements(adviceInput(coupledSeeds));
  // The probe saw only the start and its rules disagree: repeat the coupled runs over the whole budget, from the
  // probe's own start (replicate 0) and on the other seeds, and let the whole-run rule decide.
  const maxSteps = o.wholeRunMaxSteps ?? WHOLE_RUN_MAX_STEPS;
  if (verdict.numbers.rulesDisagree && o.budgetSteps !== undefined && o.replicate !== undefined) {
    if (o.budgetSteps <= maxSteps) {
      for (let i = 0; i < seeds; i++) coupledSeeds.push(coupledSeed(o.replicate(i), opt, o.budgetSteps, o.batch, eta, lower !== null, i));
      verdict = adviseFromMeasurements(adviceInput(coupledSeeds));
    } else {
      verdict.reasons.push(maxSteps === 0 ? 'no whole-run comparison: turned off (whole-run step limit 0)' : `no whole-run comparison: the budget (${o.budgetSteps} steps) exceeds the whole-run step limit ${maxSteps}`);
    }
  }
  const shaky = checkpoints.filter((c) => !c.lambdaReliable);
  if (shaky.length > 0) {
    verdict.reasons.push(`warning: λ_max at step(s) ${shaky.map((c) => `${c.step} (${c.lambdaMax.toPrecision(4)} vs ${c.lambdaCheck.toPrecision(4)} at a 10× step)`).join(', ')} disagrees between difference steps — likely a ReLU/max-pool kink crossing; rerun with another seed or more measurement samples`);
  }
  if (lossIncreased) verdict.reasons.push(`the measurement-batch loss went from ${initialMeasureLoss.toPrecision(4)} to ${lastLoss.toPrecision(4)} over the probe`);
  return { problem: problem.name, steps: o.steps, diverged, divergedAtStep, lossIncreased, initialMeasureLoss, checkpoints, sgdShadow, sgdShadowLower, initialEvalLoss, evalLoss, coupledSeeds, lambdaMax, noise, paramCount: n, verdict };
}
