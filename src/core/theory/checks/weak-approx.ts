/**
 * T2 (docs/theory.md §3.4, §5.2): the paper's Theorem 3.5 as stated. On L = (x²−1)²/4 from x₀ = 0.3 with
 * σ = η^{−1/2}, momentum in the scaling class 1 − β = c·η^α, and a step-decay schedule η_k (×γ at fixed fractions
 * of the horizon), normalised SGDM x is compared with SGD z run at the averaged schedule η̄_k (§1.5). The weak error
 * max_{k ≤ T/η} |E h(x_k) − E h(z_k)| for h ∈ {x², cos x, tanh x} is measured for η → 0 and its fitted rate in η
 * must reach the theorem's order (1 − α)/2, i.e. O(√(η/(1−β))).
 *
 * Both runs use the same noise (common random numbers), so the estimator mean over chains of h(x_k) − h(z_k)
 * has a small variance while its expectation is exactly the weak error. `--sgdLr unmatched` runs SGD at the
 * PyTorch lr γ_k = η_k(1 − β) instead of η̄_k: a negative control whose error does not vanish, which the check
 * rejects.
 */
import { averagedSchedule, learningRates, optimizerConfig, type ScheduleSpec } from '../../optim/index.js';
import { UserError } from '../../util/errors.js';
import { doubleWell } from '../problems.js';
import { simulate } from '../simulate.js';
import { SEED, num, nums, round, str, type CheckDefinition, type Row } from './types.js';

/** The test functions h, in the order `runPair` evaluates them: x², cos x, tanh x. */
const TEST_FUNCTIONS = ['x^2', 'cos x', 'tanh x'] as const;

const STATEMENT = 'Thm 3.5 (docs/theory.md §3.4): with 1−β = c·η^α, α ∈ [0, 1), max_{k ≤ T/η} |E h(x_k) − E h(z_k)| = O(√(η/(1−β))) = O(η^{(1−α)/2}) for SGDM x and SGD z at the averaged schedule η̄_k';

/** Least-squares slope of log y against log x. */
export function logLogSlope(x: readonly number[], y: readonly number[]): number {
  const lx = x.map(Math.log), ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length, my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < lx.length; i++) {
    sxy += (lx[i]! - mx) * (ly[i]! - my);
    sxx += (lx[i]! - mx) ** 2;
  }
  return sxy / sxx;
}

/** The maximum over steps k ≤ K of |mean_c h(x_k) − h(z_k)|, with its step and Monte-Carlo standard error, and the value at k = K. */
interface MaxWeakError { error: number; step: number; se: number; end: number }

function runPair(eta: number, beta: number, steps: number, schedule: ScheduleSpec, sgdLr: string, chains: number, seed: number): MaxWeakError[] {
  const etas = learningRates(eta, schedule, steps);
  const sgd = sgdLr === 'averaged'
    // η̄_k/η as an array schedule at lr η; 'continue': the run's last (η, β) would go on past the horizon.
    ? optimizerConfig({ form: 'sgd', lr: eta, schedule: { kind: 'array', values: Array.from(averagedSchedule(etas, new Float64Array(steps).fill(beta)), (e) => e / eta) } })
    : optimizerConfig({ form: 'sgd', lr: eta * (1 - beta), schedule });
  const sgdm = optimizerConfig({ form: 'normalized', lr: eta, momentum: beta, schedule });
  const best = TEST_FUNCTIONS.map(() => ({ error: 0, step: 0, se: 0, end: 0 }));
  const sum = new Float64Array(3), sq = new Float64Array(3);
  simulate({
    problem: doubleWell(1 / Math.sqrt(eta)), chains, x0: [0.3], steps, seed, runs: [sgd, sgdm],
    every: 1,
    observe(k, xs, diverged) {
      // Every step is observed (the theorem's max is over all k ≤ K), so the three h are evaluated in one pass.
      const z = xs[0]!, x = xs[1]!, dz = diverged[0]!, dx = diverged[1]!;
      sum.fill(0);
      sq.fill(0);
      let m = 0;
      for (let c = 0; c < chains; c++) {
        if ((dz[c]! | dx[c]!) !== 0) continue;
        const a = x[c]!, b = z[c]!;
        const d0 = a * a - b * b, d1 = Math.cos(a) - Math.cos(b), d2 = Math.tanh(a) - Math.tanh(b);
        sum[0] += d0;
        sum[1] += d1;
        sum[2] += d2;
        sq[0] += d0 * d0;
        sq[1] += d1 * d1;
        sq[2] += d2 * d2;
        m++;
      }
      for (let i = 0; i < 3; i++) {
        const mean = sum[i]! / m;
        const error = Math.abs(mean);
        if (error > best[i]!.error) best[i] = { error, step: k, se: Math.sqrt(Math.max(0, sq[i]! / m - mean * mean) / (m - 1)), end: 0 };
        if (k === steps) best[i]!.end = error;
      }
    },
  });
  return best;
}

export const weakApproxCheck: CheckDefinition = {
  name: 'weak-approx',
  summary: 'Thm 3.5: max_k weak error of SGDM (1−β = c·η^α, step decay) vs SGD at η̄_k on a double well vanishes at rate ≥ (1−α)/2 in η',
  params: {
    eta: { kind: 'numbers', default: [0.01, 0.005, 0.0025, 0.00125], help: 'normalised base learning rates η (list, ≥ 2 values)', above: 0, max: 1 },
    alpha: { kind: 'numbers', default: [0, 0.5], help: 'momentum scaling exponents α: 1−β = c·η^α (list, each in [0, 1))', min: 0, below: 1 },
    beta0: { kind: 'number', default: 0.9, help: 'momentum β at the largest η; 1−β = c·η^α with c = (1−β₀)/η_max^α', min: 0, below: 1 },
    T: { kind: 'number', default: 2, help: 'time horizon (K = T/η steps)', above: 0 },
    milestones: { kind: 'numbers', default: [0.5, 0.75], help: 'step-decay milestones as fractions of the horizon K (list)', above: 0, below: 1 },
    gamma: { kind: 'number', default: 0.1, help: 'step-decay factor applied at each milestone', above: 0, max: 1 },
    sgdLr: { kind: 'choice', default: 'averaged', choices: ['averaged', 'unmatched'], help: 'SGD\'s schedule: the averaged schedule η̄_k, or (negative control) the unmatched PyTorch lr γ_k = η_k(1−β)' },
    chains: { kind: 'int', default: 10000, help: 'coupled pairs of chains', min: 2 },
    seed: SEED,
  },
  run(p) {
    const etas = [...new Set(nums(p, 'eta'))].sort((a, b) => b - a);
    if (etas.length < 2) throw new UserError('needs at least two distinct values to fit a rate (e.g. 0.1,0.05,0.025)', '--eta');
    const alphas = nums(p, 'alpha'), beta0 = num(p, 'beta0'), T = num(p, 'T'), gamma = num(p, 'gamma');
    const chains = num(p, 'chains'), seed = num(p, 'seed'), sgdLr = str(p, 'sgdLr');
    const fractions = [...new Set(nums(p, 'milestones'))].sort((a, b) => a - b);
    const rows: Row[] = [];
    const slopes: Row[] = [];
    for (const alpha of alphas) {
      const errors = TEST_FUNCTIONS.map(() => [] as number[]);
      const c = (1 - beta0) / etas[0]! ** alpha;
      for (const eta of etas) {
        const beta = 1 - c * eta ** alpha;
        const steps = Math.max(1, Math.round(T / eta));
        const milestones = [...new Set(fractions.map((f) => Math.round(f * steps)))].filter((m) => m > 0 && m < steps);
        const schedule: ScheduleSpec = { kind: 'multistep', milestones, gamma };
        const best = runPair(eta, beta, steps, schedule, sgdLr, chains, seed);
        TEST_FUNCTIONS.forEach((name, i) => {
          errors[i]!.push(best[i]!.error);
          rows.push({ alpha, h: name, eta, beta: round(beta, 4), steps, etaOverOneMinusBeta: round(eta / (1 - beta), 4),
            maxWeakError: round(best[i]!.error, 4), atT: round(best[i]!.step * eta, 4), se: round(best[i]!.se, 2), endWeakError: round(best[i]!.end, 4) });
        });
      }
      const order = (1 - alpha) / 2;
      TEST_FUNCTIONS.forEach((name, i) => {
        const slope = logLogSlope(etas, errors[i]!);
        slopes.push({ alpha, h: name, slope: round(slope, 3), theoremOrder: order, pass: slope >= order });
      });
    }
    const lr = sgdLr === 'averaged' ? 'the averaged schedule η̄_k' : 'the unmatched lr γ_k = η_k(1−β) (negative control)';
    return {
      check: 'weak-approx', pass: slopes.every((r) => r.pass === true), rows: [...rows, ...slopes], params: p, statement: STATEMENT,
      criterion: `for every α and h ∈ {x², cos x, tanh x}, the least-squares slope of log max_{k ≤ T/η}|E h(x_k) − E h(z_k)| vs log η is ≥ the theorem's order (1−α)/2`,
      notes: [
        `tests ${STATEMENT}`,
        `SGD runs at ${lr}; both runs decay η_k by ×${gamma} at ${fractions.map((f) => `${f}`).join(', ')} of the horizon; 1 − β = c·η^α with c = (1 − ${beta0})/η_max^α, so β = ${beta0} at η_max = ${etas[0]} and β → 1 as η → 0 when α > 0`,
        `max over every step k ≤ K; atT: the time kη where it is reached; se: Monte-Carlo standard error of that estimate; endWeakError: at k = K, after the decays`,
      ],
    };
  },
  chart(r) {
    return {
      title: 'Max weak error of SGDM vs SGD at η̄ against η (log-log), per α',
      data: { values: r.rows.filter((x) => x.eta !== undefined) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'eta', type: 'quantitative', scale: { type: 'log' }, title: 'η' },
        y: { field: 'maxWeakError', type: 'quantitative', scale: { type: 'log' }, title: 'max_k |E h(x_k) − E h(z_k)|' },
        color: { field: 'h', type: 'nominal' },
        strokeDash: { field: 'alpha', type: 'nominal' },
      },
    };
  },
};
