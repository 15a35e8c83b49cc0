/**
 * SVAG (docs/theory.md §4, §5.6): (a) the stationary loss at levels ℓ against (ηs²/4)/(1 − ηλ(1−β)/(2ℓ(1+β)))
 * (SGD, η = λ = s = 1: 0.5000, 0.3333, 0.2857, 0.2667 for ℓ = 1, 2, 4, 8) — the curvature-induced term shrinks as
 * 1/ℓ while the noise-induced ηs²/4 stays; (b) the statistics of the combined gradient ĝ = r₁g¹ + r₂g² at a
 * fixed point: mean unchanged, noise variance × ℓ.
 */
import { svagCombine } from '../../optim/index.js';
import { check } from '../../util/errors.js';
import { NormalStream } from '../normals.js';
import { diagonalQuadratic } from '../problems.js';
import { measureStationary, type SgdmForm } from './stationary.js';
import { SEED, num, nums, round, str, type CheckDefinition, type Row } from './types.js';

export const svagCheck: CheckDefinition = {
  name: 'svag',
  summary: 'SVAG: stationary loss vs ℓ on a noisy quadratic, and gradient statistics (mean unchanged, variance ×ℓ)',
  params: {
    l: { kind: 'numbers', default: [1, 2, 4, 8], help: 'SVAG levels ℓ (integers ≥ 1)', min: 1 },
    eta: { kind: 'number', default: 1, help: 'normalised learning rate η (SVAG runs at η/ℓ for ℓ× the steps)', above: 0 },
    beta: { kind: 'number', default: 0, help: 'momentum β (0 = SGD)', min: 0, below: 1 },
    lambda: { kind: 'number', default: 1, help: 'curvature λ', above: 0 },
    s: { kind: 'number', default: 1, help: 'gradient-noise scale s', above: 0 },
    form: { kind: 'choice', default: 'normalized', choices: ['normalized', 'pytorch', 'keras'], help: 'SGDM form when β > 0' },
    tol: { kind: 'number', default: 0.02, help: 'relative tolerance of the stationary loss and of the variance ratio', above: 0 },
    chains: { kind: 'int', default: 1000, help: 'independent chains', min: 2 },
    steps: { kind: 'int', default: 10000, help: 'averaged steps per chain at ℓ = 1 (×ℓ at level ℓ)', min: 1 },
    samples: { kind: 'int', default: 1000000, help: 'gradient pairs drawn for the mean/variance statistics', min: 100 },
    seed: SEED,
  },
  run(p) {
    const tol = num(p, 'tol');
    const eta = num(p, 'eta'), beta = num(p, 'beta'), lambda = num(p, 'lambda'), s = num(p, 's');
    const levels = nums(p, 'l');
    levels.forEach((l) => check(Number.isInteger(l), '--l', `SVAG levels must be integers (steps and burn-in are stretched ×ℓ), got ${l}`));
    const rows: Row[] = [];
    for (const l of levels) {
      const [m] = measureStationary({ eta, betas: [beta], lambda, s, l, form: str(p, 'form') as SgdmForm, chains: num(p, 'chains'), steps: num(p, 'steps'), seed: num(p, 'seed') });
      const relErr = (m!.empirical - m!.formula) / m!.formula;
      rows.push({ part: 'stationary loss', l, empirical: round(m!.empirical), se: round(m!.se, 3), formula: round(m!.formula), relErr: round(relErr, 3), pass: Math.abs(relErr) <= tol });
    }
    // (b) ĝ at x = 1 for many independent pairs (g¹, g²): E ĝ = ∇L = λ, Var ĝ = ℓ·s².
    const n = num(p, 'samples');
    const problem = diagonalQuadratic([lambda], s);
    const x = new Float64Array(n).fill(1);
    const z1 = new Float64Array(n), z2 = new Float64Array(n), g1 = new Float64Array(n), g2 = new Float64Array(n);
    const rng = new NormalStream(num(p, 'seed') + 1);
    for (const l of levels) {
      problem.oracle(x, rng.fillNormal(z1), g1);
      problem.oracle(x, rng.fillNormal(z2), g2);
      const gh = svagCombine(g1, g2, l, new Float64Array(n));
      let mean = 0;
      for (let i = 0; i < n; i++) mean += gh[i]!;
      mean /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (gh[i]! - mean) ** 2;
      v /= n - 1;
      const meanSe = Math.sqrt(v / n);
      const ratio = v / (s * s);
      // Var of a sample variance of Gaussians: 2σ⁴/(n−1) ⇒ relative SE √(2/(n−1)).
      const ratioSe = ratio * Math.sqrt(2 / (n - 1));
      const meanOk = Math.abs(mean - lambda) <= 5 * meanSe;
      const ratioOk = Math.abs(ratio - l) / l <= tol;
      rows.push({ part: 'gradient statistics', l, mean: round(mean), meanExpected: lambda, meanSe: round(meanSe, 3),
        varianceRatio: round(ratio), varianceRatioExpected: l, varianceRatioSe: round(ratioSe, 3), pass: meanOk && ratioOk });
    }
    return {
      check: 'svag', pass: rows.every((r) => r.pass === true), rows, params: p,
      criterion: `stationary loss within ${tol} (relative) of (ηs²/4)/(1 − ηλ(1−β)/(2ℓ(1+β))) at every ℓ; ĝ = r₁g¹ + r₂g²: |mean − ∇L| ≤ 5·SE and Var ĝ/Var g within ${tol} (relative) of ℓ`,
      notes: ['SVAG run: lr η/ℓ, ℓ× the steps (and burn-in), β unchanged; the curvature-induced part of the loss shrinks like 1/ℓ, the noise-induced ηs²/4 stays'],
    };
  },
  chart(r) {
    const values = r.rows.filter((x) => x.part === 'stationary loss');
    return {
      title: 'SVAG: stationary loss vs ℓ (points: simulation, line: formula)',
      data: { values },
      layer: [
        { mark: 'line', encoding: { x: { field: 'l', type: 'quantitative', title: 'ℓ', scale: { type: 'log', base: 2 } }, y: { field: 'formula', type: 'quantitative', title: 'E[L]∞', scale: { zero: false } } } },
        { mark: { type: 'point', filled: true, size: 60, color: 'firebrick' }, encoding: { x: { field: 'l', type: 'quantitative' }, y: { field: 'empirical', type: 'quantitative' } } },
      ],
    };
  },
};
