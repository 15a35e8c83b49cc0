/**
 * T5 (docs/theory.md §5.5): where momentum matters. Linear regression, d = 50, n = 4096, input spectrum log-spaced in
 * [1e−2, 10], label noise 0.5, minibatch noise, fixed time budget ηK = 30, SGD vs normalised SGDM (β = 0.9) at
 * the same η, with SVAG levels ℓ:
 *  - B = 256, η = 0.25 (ηλ_max = 2.5 > 2): at ℓ = 1 SGD diverges and SGDM does not (curvature-induced
 *    instability, which momentum cures: its threshold is 38); from ℓ = 2 on (lr η/ℓ) both converge and match.
 *  - B = 256, η = 0.05: both converge to the same loss.
 *  - B = 8, η = 0.25: both diverge for every ℓ (noise-induced instability: SVAG keeps the noise, so ℓ does not help,
 *    and neither does momentum).
 */
import { optimizerConfig } from '../../optim/index.js';
import { check } from '../../util/errors.js';
import { NormalStream } from '../normals.js';
import { linearRegression, linearRegressionData, type LinearRegressionData } from '../problems.js';
import { meanAndError, simulate } from '../simulate.js';
import { SEED, num, nums, round, type CheckDefinition, type Row } from './types.js';

interface Scenario {
  batch: number;
  eta: number;
  /** Expected outcome at level ℓ. */
  expect(l: number): 'SGD diverges, SGDM converges' | 'both converge and match' | 'both diverge';
}

const SCENARIOS: Scenario[] = [
  { batch: 256, eta: 0.25, expect: (l) => (l === 1 ? 'SGD diverges, SGDM converges' : 'both converge and match') },
  { batch: 256, eta: 0.05, expect: () => 'both converge and match' },
  { batch: 8, eta: 0.25, expect: () => 'both diverge' },
];

export const curvatureVsNoiseCheck: CheckDefinition = {
  name: 'curvature-vs-noise',
  summary: 'T5: linear regression — momentum helps only against curvature-induced instability (large η, large batch)',
  params: {
    l: { kind: 'numbers', default: [1, 2, 4, 8], help: 'SVAG levels ℓ (integers; the η = 0.05 scenario runs ℓ = 1 only)', min: 1 },
    beta: { kind: 'number', default: 0.9, help: 'momentum β of the SGDM runs', above: 0, below: 1 },
    time: { kind: 'number', default: 30, help: 'time budget ηK', above: 0 },
    matchTol: { kind: 'number', default: 0.1, help: 'relative tolerance for "match" (final training loss)', above: 0 },
    chains: { kind: 'int', default: 8, help: 'independent chains (minibatch streams) per run', min: 1 },
    seed: SEED,
  },
  run(p) {
    const levels = nums(p, 'l');
    levels.forEach((l) => check(Number.isInteger(l), '--l', `SVAG levels must be integers (steps are stretched ×ℓ), got ${l}`));
    const beta = num(p, 'beta'), time = num(p, 'time'), tol = num(p, 'matchTol'), chains = num(p, 'chains'), seed = num(p, 'seed');
    const data: LinearRegressionData = linearRegressionData({
      n: 4096, d: 50, lambdaMin: 1e-2, lambdaMax: 10, labelNoise: 0.5, normals: (out) => new NormalStream(seed + 7).fillNormal(out),
    });
    const x0 = new Array<number>(data.d).fill(0);
    const rows: Row[] = [];
    const lossBuf = new Float64Array(chains);
    for (const sc of SCENARIOS) {
      const problem = linearRegression(data, sc.batch);
      const initial = new Float64Array(1);
      problem.loss(new Float64Array(x0), initial);
      for (const l of sc.eta === 0.05 ? [1] : levels) {
        const steps = Math.round(time / sc.eta) * l;
        const { xs, diverged } = simulate({
          problem, chains, x0, steps, seed: seed + 1000 * l + sc.batch, svag: l, divergenceBound: 1e6,
          runs: [optimizerConfig({ form: 'sgd', lr: sc.eta }), optimizerConfig({ form: 'normalized', lr: sc.eta, momentum: beta })],
        });
        const summary = xs.map((x, r) => {
          problem.loss(x, lossBuf);
          // A chain also counts as diverged if its loss ended above where it started (it did not train at all;
          // converging runs end near the noise floor, ~7× below the start).
          const bad = diverged[r]!.map((d, c) => (d || !(lossBuf[c]! < initial[0]!) ? 1 : 0));
          const frac = bad.reduce((a, b) => a + b, 0) / chains;
          return { frac, loss: meanAndError(lossBuf, bad).mean };
        });
        const [sgd, sgdm] = summary as [{ frac: number; loss: number }, { frac: number; loss: number }];
        const gap = Math.abs(sgd.loss - sgdm.loss) / sgdm.loss;
        let observed: string;
        if (sgd.frac === 1 && sgdm.frac === 1) observed = 'both diverge';
        else if (sgd.frac === 1 && sgdm.frac === 0) observed = 'SGD diverges, SGDM converges';
        else if (sgd.frac === 0 && sgdm.frac === 0) observed = gap <= tol ? 'both converge and match' : 'both converge, losses differ';
        else observed = 'mixed';
        const expected = sc.expect(l);
        rows.push({
          batch: sc.batch, eta: sc.eta, l, steps, etaLambdaMax: round(sc.eta * 10 / l, 3),
          initialLoss: round(initial[0]!, 4), sgdDiverged: round(sgd.frac, 3), sgdmDiverged: round(sgdm.frac, 3),
          sgdLoss: sgd.frac === 1 ? null : round(sgd.loss, 4), sgdmLoss: sgdm.frac === 1 ? null : round(sgdm.loss, 4),
          observed, expected, pass: observed === expected,
        });
      }
    }
    return {
      check: 'curvature-vs-noise', pass: rows.every((r) => r.pass === true), rows, params: p,
      criterion: `each outcome as expected (docs/theory.md §5.5): "diverges" = for every chain |w| passed 1e6 or the final loss is above the initial loss, "converges" = no chain did; "match" = final mean training losses within ${tol} (relative)`,
      notes: ['data: x ~ N(0, diag(λ)), λ log-spaced in [0.01, 10]; w* ~ N(0, I/d); y = xᵀw* + 0.5ε; minibatches drawn with replacement; SVAG: lr η/ℓ for ℓ× the steps'],
    };
  },
  chart(r) {
    const bars = r.rows.flatMap((x) => ([['SGD', x.sgdLoss], ['SGDM', x.sgdmLoss]] as const).map(([optimizer, loss]) => ({
      scenario: `B=${x.batch}, η=${x.eta}`, l: x.l,
      run: loss === null ? `${optimizer}: diverged` : optimizer,
      loss: loss ?? x.initialLoss,
      optimizer,
    })));
    return {
      title: 'Final training loss after ηK = 30 (diverged runs drawn at the initial loss)',
      data: { values: bars },
      mark: 'bar',
      encoding: {
        x: { field: 'optimizer', type: 'nominal', title: null },
        y: { field: 'loss', type: 'quantitative', title: 'final training loss' },
        color: { field: 'run', type: 'nominal', scale: { domain: ['SGD', 'SGDM', 'SGD: diverged', 'SGDM: diverged'], range: ['#4c78a8', '#f58518', '#d62728', '#9e1b1b'] } },
        column: { field: 'scenario', type: 'nominal' },
        row: { field: 'l', type: 'ordinal', title: 'ℓ' },
      },
    };
  },
};
