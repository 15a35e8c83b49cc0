/**
 * T1 (docs/theory.md §3.1, §5.1): stationary loss of SGD and SGDM on L = λx²/2, g = λx + sξ, against
 * E[L]∞ = (ηs²/4)/(1 − ηλ(1−β)/(2ℓ(1+β))). The same simulation with SVAG levels ℓ is the `svag` check.
 */
import { optimizerConfig, type OptimizerConfig } from '../../optim/index.js';
import { check } from '../../util/errors.js';
import { noiseInducedLoss, normalizedStabilityThreshold, stationaryLoss } from '../closed-forms.js';
import { diagonalQuadratic } from '../problems.js';
import { meanAndError, simulate } from '../simulate.js';
import { SEED, num, nums, round, str, type CheckDefinition, type Row } from './types.js';

export type SgdmForm = 'normalized' | 'pytorch' | 'keras';

/**
 * The optimizer for normalised (η, β): plain SGD at β = 0, else the chosen SGDM form with its own lr
 * (γ = η(1−β) for the PyTorch and Keras forms, which then have the same constant-lr iterates).
 */
export function sgdmAt(eta: number, beta: number, form: SgdmForm = 'normalized'): OptimizerConfig {
  if (beta === 0) return optimizerConfig({ form: 'sgd', lr: eta });
  if (form === 'normalized') return optimizerConfig({ form: 'normalized', lr: eta, momentum: beta });
  return optimizerConfig({ form, lr: eta * (1 - beta), momentum: beta });
}

export interface StationaryMeasurement {
  empirical: number;
  se: number;
  formula: number;
  burnIn: number;
}

/**
 * Time-average of L over `steps` steps after a burn-in, per chain, then mean ± standard error over chains
 * (chains are independent, so the SE is exact whatever the autocorrelation within a chain).
 * All betas run coupled on one noise stream. With SVAG ℓ, burn-in and steps are ×ℓ (the same continuous time).
 */
export function measureStationary(o: { eta: number; betas: number[]; lambda: number; s: number; l: number; form: SgdmForm;
  chains: number; steps: number; seed: number }): StationaryMeasurement[] {
  for (const beta of o.betas) stationaryLoss(o.eta, beta, o.lambda, o.s, o.l); // throws a UserError past the threshold
  // Relaxation takes ~1/(ηλ) steps (×ℓ under SVAG) plus the momentum memory ~1/(1−β): burn in 30 of each.
  const burnIn = Math.ceil(30 / Math.min(1, o.eta * o.lambda) + 30 / (1 - Math.max(...o.betas))) * o.l;
  const steps = o.steps * o.l;
  const runs = o.betas.map((b) => sgdmAt(o.eta, b, o.form));
  const sums = o.betas.map(() => new Float64Array(o.chains));
  const half = 0.5 * o.lambda;
  simulate({
    problem: diagonalQuadratic([o.lambda], o.s), chains: o.chains, x0: [0], runs, steps: burnIn + steps, seed: o.seed, svag: o.l,
    observe(k, xs) {
      if (k <= burnIn) return;
      for (let r = 0; r < xs.length; r++) {
        const x = xs[r]!, acc = sums[r]!;
        for (let c = 0; c < x.length; c++) acc[c] = acc[c]! + half * x[c]! * x[c]!;
      }
    },
  });
  return o.betas.map((beta, r) => {
    const per = sums[r]!.map((v) => v / steps);
    const { mean, se } = meanAndError(per);
    return { empirical: mean, se, formula: stationaryLoss(o.eta, beta, o.lambda, o.s, o.l), burnIn };
  });
}

export const stationaryCheck: CheckDefinition = {
  name: 'stationary',
  summary: 'T1: stationary loss of SGD and SGDM on a noisy quadratic vs (ηs²/4)/(1 − ηλ(1−β)/(2(1+β)))',
  params: {
    eta: { kind: 'numbers', default: [0.5, 1, 1.5], help: 'normalised learning rates η (list)', above: 0 },
    beta: { kind: 'numbers', default: [0, 0.9], help: 'momenta β (list; 0 = plain SGD)', min: 0, below: 1 },
    lambda: { kind: 'number', default: 1, help: 'curvature λ', above: 0 },
    s: { kind: 'number', default: 1, help: 'gradient-noise scale s', above: 0 },
    form: { kind: 'choice', default: 'normalized', choices: ['normalized', 'pytorch', 'keras'], help: 'SGDM form (pytorch/keras run at γ = η(1−β))' },
    tol: { kind: 'number', default: 0.02, help: 'relative tolerance', above: 0 },
    chains: { kind: 'int', default: 1000, help: 'independent chains', min: 2 },
    steps: { kind: 'int', default: 20000, help: 'averaged steps per chain after burn-in', min: 1 },
    seed: SEED,
  },
  run(p) {
    const tol = num(p, 'tol');
    const betas = nums(p, 'beta');
    const form = str(p, 'form') as SgdmForm;
    const lambda = num(p, 'lambda');
    const rows: Row[] = [];
    for (const eta of nums(p, 'eta')) {
      for (const beta of betas) {
        check(eta * lambda < normalizedStabilityThreshold(beta), '--eta',
          `η = ${eta} with λ = ${lambda} is past the stability threshold ηλ < 2(1+β)/(1−β) = ${round(normalizedStabilityThreshold(beta))} for β = ${beta}: no stationary law exists (lower --eta)`);
      }
      const ms = measureStationary({ eta, betas, lambda, s: num(p, 's'), l: 1, form, chains: num(p, 'chains'), steps: num(p, 'steps'), seed: num(p, 'seed') });
      ms.forEach((m, r) => {
        const relErr = (m.empirical - m.formula) / m.formula;
        rows.push({
          eta, beta: betas[r]!, optimizer: betas[r] === 0 ? 'SGD' : `SGDM(${form})`,
          empirical: round(m.empirical), se: round(m.se, 3), formula: round(m.formula), noiseInduced: round(noiseInducedLoss(eta, num(p, 's'))),
          relErr: round(relErr, 3), pass: Math.abs(relErr) <= tol,
        });
      });
    }
    return {
      check: 'stationary', pass: rows.every((r) => r.pass === true), rows, params: p,
      criterion: `every |empirical − formula|/formula ≤ ${tol} (empirical: time-average of L after burn-in, mean over chains; se = its Monte-Carlo standard error)`,
      notes: ['formula: E[L]∞ = (ηs²/4)/(1 − ηλ(1−β)/(2(1+β))); noiseInduced = ηs²/4 is the same for SGD and SGDM, the rest is curvature-induced (O(η²λs²)) and momentum shrinks it'],
    };
  },
  chart(r) {
    return {
      title: 'Stationary loss: simulation (points) vs formula (lines)',
      data: { values: r.rows },
      layer: [
        { mark: { type: 'line' }, encoding: { x: { field: 'eta', type: 'quantitative', title: 'η' }, y: { field: 'formula', type: 'quantitative', title: 'E[L]∞' }, color: { field: 'optimizer', type: 'nominal' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'eta', type: 'quantitative' }, y: { field: 'empirical', type: 'quantitative' }, color: { field: 'optimizer', type: 'nominal' } } },
      ],
    };
  },
};
