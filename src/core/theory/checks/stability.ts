/**
 * T7 (docs/theory.md §3.2, §5.7): deterministic stability thresholds on L = λx²/2. GD converges iff ηλ < 2, normalised GDM
 * iff ηλ < 2(1+β)/(1−β) (2, 6, 38 for β = 0, 0.5, 0.9), PyTorch-form GDM iff γλ < 2(1+β). Checked just below
 * (0.99×: must converge) and just above (1.01×: must diverge) each threshold, by running the optimizers of
 * src/optim noise-free from x₀ = 1.
 */
import { optimizerConfig, type OptimizerConfig } from '../../optim/index.js';
import { normalizedStabilityThreshold, pytorchStabilityThreshold } from '../closed-forms.js';
import { diagonalQuadratic } from '../problems.js';
import { simulate } from '../simulate.js';
import { num, nums, round, type CheckDefinition, type Row } from './types.js';

const FORMS = ['normalized', 'pytorch'] as const;

export const stabilityCheck: CheckDefinition = {
  name: 'stability',
  summary: 'T7: GD/GDM stability thresholds ηλ < 2(1+β)/(1−β) (normalised) and γλ < 2(1+β) (PyTorch), at 0.99× and 1.01×',
  params: {
    beta: { kind: 'numbers', default: [0, 0.5, 0.9], help: 'momenta β (list)', min: 0, below: 1 },
    factor: { kind: 'numbers', default: [0.99, 1.01], help: 'learning rate as a multiple of the threshold (list)', above: 0 },
    lambda: { kind: 'number', default: 1, help: 'curvature λ', above: 0 },
    steps: { kind: 'int', default: 5000, help: 'steps from x₀ = 1', min: 1 },
  },
  run(p) {
    const lambda = num(p, 'lambda');
    const steps = num(p, 'steps');
    const rows: Row[] = [];
    for (const form of FORMS) {
      for (const beta of nums(p, 'beta')) {
        if (form === 'pytorch' && beta === 0) continue; // GD already ran as the normalised β = 0 row
        const threshold = form === 'normalized' ? normalizedStabilityThreshold(beta) : pytorchStabilityThreshold(beta);
        for (const factor of nums(p, 'factor')) {
          if (factor === 1) continue; // exactly at the threshold the iterate neither converges nor diverges
          const lr = (factor * threshold) / lambda;
          const cfg: OptimizerConfig = beta === 0 ? optimizerConfig({ form: 'sgd', lr }) : optimizerConfig({ form, lr, momentum: beta });
          const { xs, divergedAt } = simulate({ problem: diagonalQuadratic([lambda], 0), chains: 1, x0: [1], runs: [cfg], steps, seed: 0, guardEvery: 1 });
          const at = divergedAt[0]![0]!;
          const final = Math.abs(xs[0]![0]!);
          const observed = at >= 0 ? 'diverges' : final < 1e-6 ? 'converges' : 'undecided';
          const expected = factor < 1 ? 'converges' : 'diverges';
          rows.push({
            form: beta === 0 ? 'GD' : form, beta, threshold: round(threshold), lr: round(lr), factor,
            finalAbsX: at >= 0 ? null : round(final, 3), divergedAtStep: at >= 0 ? at : null, observed, expected, pass: observed === expected,
          });
        }
      }
    }
    return {
      check: 'stability', pass: rows.every((r) => r.pass === true), rows, params: p,
      criterion: `noise-free from x₀ = 1 for ${steps} steps: below the threshold |x_K| < 1e-6 (converges); above it |x| passes 1e12 (diverges)`,
      notes: ['thresholds: normalised ηλ < 2(1+β)/(1−β); PyTorch γλ < 2(1+β) (γ = η(1−β)); at β = 0 both are GD\'s ηλ < 2'],
    };
  },
  chart(r) {
    return {
      title: 'Stability thresholds: lr/threshold vs outcome',
      data: { values: r.rows },
      mark: { type: 'point', filled: true, size: 80 },
      encoding: {
        x: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (η or γ)' },
        y: { field: 'form', type: 'nominal' },
        color: { field: 'observed', type: 'nominal' },
        shape: { field: 'beta', type: 'nominal' },
      },
    };
  },
};
