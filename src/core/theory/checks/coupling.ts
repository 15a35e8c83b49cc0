/**
 * T3 (docs/theory.md §3.3, §5.3): SGD (z) and normalised SGDM (x) on the same noise sequence, double well (x²−1)²/4 from
 * x₀ = 0.3, σ = η^{−1/2} (the SDE scaling), K = T/η steps. rms|x_K − z_K| / √(η/(1−β)) → β/√(1+β) as η → 0
 * (0.653 at β = 0.9, 0.408 at β = 0.5): momentum changes each iterate by O(√(η/(1−β))), not its law (Thm 3.5).
 */
import { optimizerConfig } from '../../optim/index.js';
import { couplingConstant } from '../closed-forms.js';
import { doubleWell } from '../problems.js';
import { simulate } from '../simulate.js';
import { SEED, num, nums, round, type CheckDefinition, type Row } from './types.js';

export const couplingCheck: CheckDefinition = {
  name: 'coupling',
  summary: 'T3: rms|x_K − z_K|/√(η/(1−β)) of coupled SGDM and SGD tends to β/√(1+β) as η → 0',
  params: {
    beta: { kind: 'numbers', default: [0.5, 0.9], help: 'momenta β (list)', above: 0, below: 1 },
    eta: { kind: 'numbers', default: [0.1, 0.01, 0.001], help: 'normalised learning rates η (list; the smallest is judged)', above: 0, max: 1 },
    T: { kind: 'number', default: 1, help: 'time horizon (K = T/η steps)', above: 0 },
    tol: { kind: 'number', default: 0.05, help: 'relative tolerance at the smallest η', above: 0 },
    chains: { kind: 'int', default: 10000, help: 'coupled pairs of chains', min: 2 },
    seed: SEED,
  },
  run(p) {
    const tol = num(p, 'tol');
    const chains = num(p, 'chains');
    const etas = [...nums(p, 'eta')].sort((a, b) => b - a);
    const rows: Row[] = [];
    for (const beta of nums(p, 'beta')) {
      const limit = couplingConstant(beta);
      for (const eta of etas) {
        const steps = Math.max(1, Math.round(num(p, 'T') / eta));
        const { xs, diverged } = simulate({
          problem: doubleWell(1 / Math.sqrt(eta)), chains, x0: [0.3], steps, seed: num(p, 'seed'),
          runs: [optimizerConfig({ form: 'sgd', lr: eta }), optimizerConfig({ form: 'normalized', lr: eta, momentum: beta })],
        });
        let s2 = 0, m = 0;
        for (let c = 0; c < chains; c++) {
          if (diverged[0]![c] || diverged[1]![c]) continue;
          s2 += (xs[1]![c]! - xs[0]![c]!) ** 2;
          m++;
        }
        const ratio = Math.sqrt(s2 / m) / Math.sqrt(eta / (1 - beta));
        // rms of m Gaussian differences: relative SE ≈ 1/√(2m).
        const judged = eta === etas[etas.length - 1];
        const relErr = (ratio - limit) / limit;
        rows.push({ beta, eta, steps, etaOverOneMinusBeta: round(eta / (1 - beta)), ratio: round(ratio, 4), se: round(ratio / Math.sqrt(2 * m), 3),
          limit: round(limit, 4), relErr: round(relErr, 3), pass: judged ? Math.abs(relErr) <= tol : null });
      }
    }
    return {
      check: 'coupling', pass: rows.every((r) => r.pass !== false), rows, params: p,
      criterion: `at the smallest η, |ratio − β/√(1+β)|/(β/√(1+β)) ≤ ${tol}, ratio = rms|x_K − z_K|/√(η/(1−β)) over coupled chains (se ≈ ratio/√(2·chains))`,
      notes: ['larger η show the approach to the limit; they are not judged (pass: —)'],
    };
  },
  chart(r) {
    return {
      title: 'Coupled SGDM vs SGD: rms|x−z|/√(η/(1−β)) (points) → β/√(1+β) (dashed)',
      data: { values: r.rows },
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'eta', type: 'quantitative', scale: { type: 'log' }, title: 'η' }, y: { field: 'ratio', type: 'quantitative', title: 'ratio' }, color: { field: 'beta', type: 'nominal' } } },
        { mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'limit', type: 'quantitative' }, color: { field: 'beta', type: 'nominal' } } },
      ],
    };
  },
};
