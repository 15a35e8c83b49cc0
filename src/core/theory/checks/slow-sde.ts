/**
 * T4 (docs/theory.md §3.5, §5.4): the label-noise uv model L(u,v) = ½(uv − y)², y = 1 + δξ, from (2, 0.5) on the
 * manifold uv = 1. Over k = t/η² steps (σ fixed, η → 0) the sharpness S = u² + v² drifts down along the slow SDE,
 * S(t) = √(4 + (S₀² − 4)e^{−2δ²t}) (S(0.25) = 3.540, S(0.5) = 3.029, S(1) = 2.430 at δ = 1), for SGD and
 * normalised SGDM alike: momentum leaves the implicit regularisation unchanged. Noise-free GD stays at S₀ = 4.25.
 */
import { optimizerConfig } from '../../optim/index.js';
import { slowSdeSharpness } from '../closed-forms.js';
import { labelNoiseUV } from '../problems.js';
import { meanAndError, simulate } from '../simulate.js';
import { SEED, num, nums, round, type CheckDefinition, type Row } from './types.js';

const START = [2, 0.5] as const;

export const slowSdeCheck: CheckDefinition = {
  name: 'slow-sde',
  summary: 'T4: label-noise uv model — sharpness of SGD and SGDM follows √(4 + (S₀²−4)e^{−2δ²t}), t = kη²; GD stays put',
  params: {
    eta: { kind: 'number', default: 0.01, help: 'normalised learning rate η (time t = kη²)', above: 0, max: 1 },
    beta: { kind: 'number', default: 0.9, help: 'momentum β of the SGDM run', above: 0, below: 1 },
    delta: { kind: 'number', default: 1, help: 'label-noise scale δ', above: 0 },
    t: { kind: 'numbers', default: [0.25, 0.5, 1], help: 'times at which S is compared (list)', above: 0 },
    tol: { kind: 'number', default: 0.03, help: 'relative tolerance on S(t)', above: 0 },
    chains: { kind: 'int', default: 2000, help: 'independent chains', min: 2 },
    seed: SEED,
  },
  run(p) {
    const eta = num(p, 'eta'), beta = num(p, 'beta'), delta = num(p, 'delta'), tol = num(p, 'tol'), chains = num(p, 'chains');
    const times = [...nums(p, 't')].sort((a, b) => a - b);
    const at = new Map(times.map((t) => [Math.max(1, Math.round(t / (eta * eta))), t] as const));
    const s0 = START[0] ** 2 + START[1] ** 2;
    const runs = [
      { name: 'SGD', cfg: optimizerConfig({ form: 'sgd', lr: eta }), delta },
      { name: `SGDM(β=${beta})`, cfg: optimizerConfig({ form: 'normalized', lr: eta, momentum: beta }), delta },
      { name: 'GD (no noise)', cfg: optimizerConfig({ form: 'sgd', lr: eta }), delta: 0 },
    ];
    const rows: Row[] = [];
    const sharp = new Float64Array(chains);
    for (const run of runs) {
      const steps = Math.max(...at.keys());
      simulate({
        problem: labelNoiseUV(run.delta), chains, x0: [...START], runs: [run.cfg], steps, seed: num(p, 'seed'),
        observe(k, xs, diverged) {
          const t = at.get(k);
          if (t === undefined) return;
          const x = xs[0]!;
          for (let c = 0; c < chains; c++) sharp[c] = x[2 * c]! ** 2 + x[2 * c + 1]! ** 2;
          const { mean, se } = meanAndError(sharp, diverged[0]);
          const formula = run.delta === 0 ? s0 : slowSdeSharpness(t, s0, delta);
          const relErr = (mean - formula) / formula;
          const ok = run.delta === 0 ? Math.abs(mean - s0) <= 1e-9 : Math.abs(relErr) <= tol;
          rows.push({ optimizer: run.name, t, step: k, sharpness: round(mean, 5), se: round(se, 2), formula: round(formula, 5), relErr: round(relErr, 3), pass: ok });
        },
      });
    }
    return {
      check: 'slow-sde', pass: rows.every((r) => r.pass === true), rows, params: p,
      criterion: `mean S = u²+v² over chains within ${tol} (relative) of √(4 + (S₀²−4)e^{−2δ²t}) for SGD and SGDM at every t; noise-free GD within 1e-9 of S₀ = ${s0}`,
      notes: [`t = kη²: k = ${[...at.keys()].join(', ')} steps at η = ${eta}; a PyTorch-form run at lr γ = η would move (1/(1−β))² faster in k`],
    };
  },
  chart(r) {
    const s0 = START[0] ** 2 + START[1] ** 2;
    const delta = r.params.delta as number;
    const curve = Array.from({ length: 41 }, (_, i) => {
      const t = (i / 40) * Math.max(...(r.params.t as number[]));
      return { t, formula: slowSdeSharpness(t, s0, delta) };
    });
    return {
      title: 'Sharpness along the slow SDE: simulation (points) vs formula (line)',
      layer: [
        { data: { values: curve }, mark: 'line', encoding: { x: { field: 't', type: 'quantitative', title: 't = kη²' }, y: { field: 'formula', type: 'quantitative', title: 'S = u² + v²', scale: { zero: false } } } },
        { data: { values: r.rows }, mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'sharpness', type: 'quantitative' }, color: { field: 'optimizer', type: 'nominal' } } },
      ],
    };
  },
};
