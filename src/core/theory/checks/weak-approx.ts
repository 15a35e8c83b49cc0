/**
 * T2 (docs/theory.md §3.4, §5.2): weak approximation over O(1/η) steps. On L = (x²−1)²/4 from x₀ = 0.3 with
 * σ = η^{−1/2} and K = T/η steps, the weak error |E h(x_K) − E h(z_K)| between normalised SGDM x and SGD z
 * (at η̄ = η, constant schedule) goes to 0 as η → 0, for h ∈ {x², cos x, tanh x}; its fitted log-log slope
 * against η/(1−β) is ≥ 0.5 (the theorem's O(√(η/(1−β))) rate; ≈0.85–1.4 is observed).
 *
 * Both runs use the same noise (common random numbers), so the estimator mean over chains of h(x_K) − h(z_K)
 * has a small variance while its expectation is exactly the weak error. An Euler–Maruyama solution of the
 * SDE dX = −∇L dt + (ησ²)^{1/2}dW (= dW here) is reported for reference (not judged).
 */
import { optimizerConfig } from '../../optim/index.js';
import { doubleWell } from '../problems.js';
import { meanAndError, simulate, simulateSde } from '../simulate.js';
import { SEED, num, nums, round, type CheckDefinition, type Row } from './types.js';

const TEST_FUNCTIONS: ReadonlyArray<readonly [string, (x: number) => number]> = [
  ['x^2', (x) => x * x],
  ['cos x', Math.cos],
  ['tanh x', Math.tanh],
];

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

export const weakApproxCheck: CheckDefinition = {
  name: 'weak-approx',
  summary: 'T2: weak error |E h(x_K) − E h(z_K)| of SGDM vs SGD on a double well vanishes as η → 0 (log-log slope ≥ 0.5)',
  params: {
    eta: { kind: 'numbers', default: [0.1, 0.05, 0.025, 0.0125], help: 'normalised learning rates η (list, ≥ 2 values)', above: 0, max: 1 },
    beta: { kind: 'number', default: 0.5, help: 'momentum β', above: 0, below: 1 },
    T: { kind: 'number', default: 2, help: 'time horizon (K = T/η steps)', above: 0 },
    minSlope: { kind: 'number', default: 0.5, help: 'required log-log slope of the weak error vs η/(1−β)' },
    chains: { kind: 'int', default: 100000, help: 'coupled pairs of chains', min: 2 },
    seed: SEED,
  },
  run(p) {
    const etas = [...nums(p, 'eta')].sort((a, b) => b - a);
    const beta = num(p, 'beta'), T = num(p, 'T'), chains = num(p, 'chains'), seed = num(p, 'seed');
    const minSlope = num(p, 'minSlope');
    const rows: Row[] = [];
    const errors = TEST_FUNCTIONS.map(() => [] as number[]);
    // Reference: Euler–Maruyama with a step far below the smallest η.
    const dt = Math.min(...etas) / 4;
    const sde = simulateSde({ problem: doubleWell(1), chains, x0: [0.3], eta: 1, dt, T, seed: seed + 1 });
    for (const eta of etas) {
      const steps = Math.max(1, Math.round(T / eta));
      const { xs, diverged } = simulate({
        problem: doubleWell(1 / Math.sqrt(eta)), chains, x0: [0.3], steps, seed,
        runs: [optimizerConfig({ form: 'sgd', lr: eta }), optimizerConfig({ form: 'normalized', lr: eta, momentum: beta })],
      });
      const skip = diverged[0]!.map((d, c) => d | diverged[1]![c]!);
      TEST_FUNCTIONS.forEach(([name, h], i) => {
        const diff = new Float64Array(chains), hz = new Float64Array(chains), hX = new Float64Array(chains);
        for (let c = 0; c < chains; c++) {
          diff[c] = h(xs[1]![c]!) - h(xs[0]![c]!);
          hz[c] = h(xs[0]![c]!);
          hX[c] = h(sde[c]!);
        }
        const d = meanAndError(diff, skip);
        const sgdVsSde = meanAndError(hz, skip).mean - meanAndError(hX).mean;
        errors[i]!.push(Math.abs(d.mean));
        rows.push({ h: name, eta, steps, etaOverOneMinusBeta: round(eta / (1 - beta)), weakError: round(Math.abs(d.mean), 4), se: round(d.se, 2),
          sgdMinusSde: round(sgdVsSde, 3), slope: null, pass: null });
      });
    }
    const x = etas.map((e) => e / (1 - beta));
    TEST_FUNCTIONS.forEach(([name], i) => {
      const slope = logLogSlope(x, errors[i]!);
      rows.push({ h: name, eta: null, steps: null, etaOverOneMinusBeta: null, weakError: null, se: null, sgdMinusSde: null, slope: round(slope, 3), pass: slope >= minSlope });
    });
    return {
      check: 'weak-approx', pass: rows.every((r) => r.pass !== false), rows, params: p,
      criterion: `for every h ∈ {x², cos x, tanh x}, the least-squares slope of log|E h(x_K) − E h(z_K)| vs log(η/(1−β)) is ≥ ${minSlope} (Thm 3.5 gives O(√(η/(1−β))))`,
      notes: [`weak error estimated on coupled chains (se: Monte-Carlo standard error); sgdMinusSde: E h(z_K) − E h(X_T) with X from Euler–Maruyama (dt = ${round(dt)}, independent noise), for reference`],
    };
  },
  chart(r) {
    return {
      title: 'Weak error of SGDM vs SGD against η/(1−β) (log-log)',
      data: { values: r.rows.filter((x) => x.eta !== null) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'etaOverOneMinusBeta', type: 'quantitative', scale: { type: 'log' }, title: 'η/(1−β)' },
        y: { field: 'weakError', type: 'quantitative', scale: { type: 'log' }, title: '|E h(x_K) − E h(z_K)|' },
        color: { field: 'h', type: 'nominal' },
      },
    };
  },
};
