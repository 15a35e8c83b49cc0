/**
 * The advisor's coupled runs: plain SGD "shadows" stepping on the probe's own minibatches (common random numbers,
 * as in the ConvNetJS trainer demo), the coupled training loop, and one replicate seed of the whole-run comparison.
 * Losses at the end of a run are tail means (`tailSteps`).
 */
import { initOptimizer, optimizerConfig, optimizerStep, type OptimizerConfig } from '../optim/sgd.js';
import type { FloatBuffer } from './linalg.js';
import type { ProbeProblem } from './probe.js';
import { finiteDifferenceHvp, lanczos, type GradFn } from './sharpness.js';
import type { CoupledSeed } from './verdict.js';

/**
 * The final evaluation loss of a coupled run is the mean over TAIL_EVALUATIONS evaluations spread over the last
 * TAIL_FRACTION of its steps (`tailSteps`), not the loss at the last step alone: at small batch the end point is one
 * draw from SGD's stationary fluctuation, and on the full sweep's narrow CNN one seed's end-point gap between SGD and
 * SGDM ranged from −53% to +76% (held-out 2, B = 32, whole budget). The sweeps judge a mean over seeds, which is
 * what the tail mean estimates with less noise per seed.
 */
export const TAIL_EVALUATIONS = 5;
export const TAIL_FRACTION = 0.1;

/**
 * Steps (1-based: after that many optimizer steps) of a run of `steps` steps at which its tail evaluations are taken:
 * the last step and up to TAIL_EVALUATIONS − 1 earlier ones, evenly spaced, no earlier than TAIL_FRACTION·steps
 * before the end (a 12-step run: steps 12 and 11; 100 steps: 92, 94, …, 100; 996 steps: 900, 924, …, 996).
 */
export function tailSteps(steps: number): number[] {
  const span = TAIL_FRACTION * steps;
  const stride = Math.max(1, Math.floor(span / (TAIL_EVALUATIONS - 1)));
  const out: number[] = [];
  for (let j = 0; j < TAIL_EVALUATIONS && j * stride <= span && steps - j * stride >= 1; j++) out.push(steps - j * stride);
  return out.reverse();
}

export interface ShadowSummary {
  eta: number; diverged: boolean; divergedAtStep: number | null; measureLoss: number; sgdmMeasureLoss: number;
  /** Final evaluation losses of the shadow (Infinity if it diverged) and of SGDM: the gap the verdict uses. */
  evalLoss: number; sgdmEvalLoss: number;
  /** λ_max along the shadow's own trajectory: the largest over the checkpoints it reached (null if none). */
  lambdaMax: number | null;
}

/** Running mean of a run's tail evaluations (see `tailSteps`). */
class TailMean {
  private sum = 0;
  private count = 0;
  add(loss: number): void {
    this.sum += loss;
    this.count++;
  }
  /** The mean, or `fallback()` when no tail evaluation was taken. */
  mean(fallback: () => number): number {
    return this.count > 0 ? this.sum / this.count : fallback();
  }
}

/** One coupled plain-SGD run at lr η on the probe's minibatches (common random numbers with the main run). */
export class SgdShadow {
  readonly cfg: OptimizerConfig;
  readonly params: FloatBuffer;
  private readonly grads: FloatBuffer;
  private readonly state: ReturnType<typeof initOptimizer>;
  diverged = false;
  divergedAt: number | null = null;
  private first = NaN;
  private readonly tail = new TailMean();
  readonly seen: { measureLoss: number; lambdaMax: number }[] = [];

  constructor(readonly eta: number, problem: ProbeProblem) {
    this.cfg = optimizerConfig({ form: 'sgd', lr: eta });
    this.params = problem.params.slice();
    this.grads = problem.grads.slice();
    this.state = initOptimizer(this.cfg, this.params.length);
  }

  /** One step on the minibatch the main run just used; divergence as for the main run (non-finite or 1e6×). */
  step(k: number, problem: ProbeProblem): void {
    if (this.diverged) return;
    const sl = problem.lastBatchGradAt(this.params, this.grads);
    if (k === 0) this.first = sl;
    if (!Number.isFinite(sl) || sl > 1e6 * Math.max(this.first, 1e-12)) {
      this.diverged = true;
      this.divergedAt = k;
    } else {
      optimizerStep(this.cfg, this.params, this.grads, this.state);
    }
  }

  /** One tail evaluation (see `tailSteps`) at the shadow's current parameters; none once it diverged. */
  observeTail(evalAt: (p: FloatBuffer) => number): void {
    if (!this.diverged) this.tail.add(evalAt(this.params));
  }

  /** Measurement-batch loss and λ_max at the shadow's own parameters (undefined once it diverged). */
  measure(grad: GradFn, lanczosSteps: number, seed: number): { measureLoss: number; lambdaMax: number } | undefined {
    if (this.diverged) return undefined;
    const n = this.params.length;
    const th = Float64Array.from(this.params);
    const sl = lanczos(finiteDifferenceHvp(grad, th).hvp, n, { steps: lanczosSteps, seed, vectors: 1 });
    const at = { measureLoss: Number(grad(th, new Float64Array(n)) ?? NaN), lambdaMax: sl.top.value };
    this.seen.push(at);
    return at;
  }

  summary(lossAt: (p: FloatBuffer) => number, initialMeasureLoss: number, sgdmLoss: number, evalAt: (p: FloatBuffer) => number, initialEvalLoss: number, sgdmEvalLoss: number): ShadowSummary {
    const loss = this.diverged ? Infinity : lossAt(this.params);
    const ev = this.outcome(evalAt, initialEvalLoss);
    // "Did not train" counts as diverged for a shadow too, as for the main run.
    const diverged = ev.diverged || !(loss < initialMeasureLoss);
    const lams = this.seen.flatMap((c) => (Number.isFinite(c.lambdaMax) ? [c.lambdaMax] : []));
    return {
      eta: this.eta, diverged, divergedAtStep: this.divergedAt, measureLoss: loss, sgdmMeasureLoss: sgdmLoss,
      evalLoss: diverged ? Infinity : ev.loss, sgdmEvalLoss, lambdaMax: lams.length > 0 ? Math.max(...lams) : null,
    };
  }

  /**
   * Final evaluation loss — the mean of the tail evaluations when there were any, else at the current parameters —
   * and whether the run failed (diverged, or ended no better than `initial`).
   */
  outcome(evalAt: (p: FloatBuffer) => number, initial: number): { diverged: boolean; loss: number } {
    const loss = this.diverged ? Infinity : this.tail.mean(() => evalAt(this.params));
    return { diverged: this.diverged || !(loss < initial), loss };
  }
}

/**
 * Trains `problem` with `opt` for `steps` steps, each shadow stepping on the same minibatch after SGDM (a shadow's
 * gradient may reuse the model's gradient buffer, so it runs after SGDM's step has consumed it). Stops at the first
 * divergence of the main run: a non-finite loss, or 1e6× the first one (linear models grow without overflowing soon).
 * At the `tailSteps` of the run it evaluates SGDM and every shadow (`evalAt`); `tailLoss` is SGDM's tail mean.
 */
export function trainCoupled(
  problem: ProbeProblem, opt: OptimizerConfig, state: ReturnType<typeof initOptimizer>, steps: number, batch: number,
  shadows: readonly (SgdShadow | null)[], evalAt: (p: FloatBuffer) => number, afterStep: (k: number, loss: number) => void = () => {},
): { diverged: boolean; divergedAtStep: number | null; tailLoss: number } {
  let first = NaN;
  const at = new Set(tailSteps(steps));
  const tail = new TailMean();
  for (let k = 0; k < steps; k++) {
    const loss = problem.trainGrad(batch);
    if (k === 0) first = loss;
    if (!Number.isFinite(loss) || loss > 1e6 * Math.max(first, 1e-12)) return { diverged: true, divergedAtStep: k, tailLoss: Infinity };
    optimizerStep(opt, problem.params, problem.grads, state);
    for (const sh of shadows) sh?.step(k, problem);
    if (at.has(k + 1)) {
      tail.add(evalAt(problem.params));
      for (const sh of shadows) sh?.observeTail(evalAt);
    }
    afterStep(k, loss);
  }
  return { diverged: false, divergedAtStep: null, tailLoss: tail.mean(() => evalAt(problem.params)) };
}

/** One replicate seed of the whole-run comparison: SGDM and the SGD shadows for the whole budget, final losses only. */
export function coupledSeed(problem: ProbeProblem, opt: OptimizerConfig, steps: number, batch: number, eta: number, withLower: boolean, seed: number): CoupledSeed {
  const evalAt = (p: FloatBuffer): number => problem.evaluationLoss(p);
  const initialLoss = evalAt(problem.params);
  const shadow = new SgdShadow(eta, problem);
  const lower = withLower ? new SgdShadow(eta / 2, problem) : null;
  const state = initOptimizer(opt, problem.params.length, problem.params instanceof Float32Array ? 'float32' : 'float64');
  const run = trainCoupled(problem, opt, state, steps, batch, [shadow, lower], evalAt);
  const sgdmLoss = run.tailLoss;
  return {
    seed, initialLoss,
    sgdm: { diverged: run.diverged || !(sgdmLoss < initialLoss), loss: sgdmLoss },
    sgd: shadow.outcome(evalAt, initialLoss),
    lower: lower?.outcome(evalAt, initialLoss) ?? null,
  };
}
