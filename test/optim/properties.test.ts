// Properties of the optimizer core that follow from the paper's definitions (docs/theory.md §1, §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averagedSchedule, effectiveLearningRate, initOptimizer, normalizedScheduleToPytorch, normalizedToPytorch,
  optimizerConfig, optimizerStep, pytorchToNormalized, svagCoefficients, svagCombine, svagPlan, learningRates,
  type OptimizerConfig,
} from '../../src/core/optim/index.js';
import { Rng } from '../../src/core/util/rng.js';

/** Runs `cfg` for `steps` on the noisy quadratic g = h⊙x + ξ_k with a fixed seeded noise stream. */
function run(cfg: OptimizerConfig, steps: number, seed = 7, dim = 5): Float64Array[] {
  const rng = new Rng(seed);
  const h = Float64Array.from({ length: dim }, () => 0.1 + 2 * rng.uniform());
  const x = Float64Array.from({ length: dim }, () => rng.normal());
  const g = new Float64Array(dim);
  const state = initOptimizer(cfg, dim);
  const out: Float64Array[] = [];
  for (let k = 0; k < steps; k++) {
    for (let i = 0; i < dim; i++) g[i] = h[i]! * x[i]! + 0.5 * rng.normal();
    optimizerStep(cfg, x, g, state);
    out.push(Float64Array.from(x));
  }
  return out;
}

function maxRelDiff(a: Float64Array[], b: Float64Array[]): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) for (let i = 0; i < a[k]!.length; i++) {
    m = Math.max(m, Math.abs(a[k]![i]! - b[k]![i]!) / Math.max(1, Math.abs(b[k]![i]!)));
  }
  return m;
}

test('PyTorch (γ, β) ≡ normalised (η = γ/(1−β), β): identical iterates up to float64 rounding', () => {
  for (const [gamma, beta] of [[0.05, 0.9], [0.01, 0.99], [0.2, 0.5]] as const) {
    const pt = optimizerConfig({ form: 'pytorch', lr: gamma, momentum: beta });
    const nz = optimizerConfig({ form: 'normalized', ...pytorchToNormalized({ lr: gamma, momentum: beta }) });
    // 200 steps of a contraction: rounding differences stay ~1e-15 per step; 1e-11 leaves room, still 10 decades below any real difference.
    assert.ok(maxRelDiff(run(pt, 200), run(nz, 200)) < 1e-11);
  }
});

test('PyTorch ≡ normalised also across a step-decay schedule (the buffer rescales at the drop in both)', () => {
  const schedule = { kind: 'multistep' as const, milestones: [30, 60], gamma: 0.1 };
  const pt = optimizerConfig({ form: 'pytorch', lr: 0.05, momentum: 0.9, schedule });
  const nz = optimizerConfig({ form: 'normalized', lr: 0.5, momentum: 0.9, schedule });
  assert.ok(maxRelDiff(run(pt, 100), run(nz, 100)) < 1e-11);
});

test('general normalised schedule (η_k, β_k) → PyTorch (γ_k, b_k) gives the same iterates', () => {
  const steps = 80;
  const etas = Array.from({ length: steps }, (_, k) => (k < 40 ? 0.4 : 0.04) * (1 + 0.3 * Math.sin(k)));
  const betas = Array.from({ length: steps }, (_, k) => Math.min(0.95, 0.3 + 0.02 * k) - (k % 7 === 0 ? 0.1 : 0));
  const nz = optimizerConfig({ form: 'normalized', lr: 1, betas, schedule: { kind: 'array', values: etas } });
  const { lrs, momenta } = normalizedScheduleToPytorch(etas, betas);
  const pt = optimizerConfig({ form: 'pytorch', lr: 1, betas: momenta, schedule: { kind: 'array', values: lrs } });
  assert.ok(maxRelDiff(run(pt, steps), run(nz, steps)) < 1e-11);
  // b_k formula by hand at k = 1: β₁(1−β₀)/(1−β₁).
  assert.equal(momenta[1], (betas[1]! * (1 - betas[0]!)) / (1 - betas[1]!));
  assert.equal(lrs[3], etas[3]! * (1 - betas[3]!));
});

test('Keras velocity form = PyTorch while γ is constant, ≠ after an lr drop (docs/theory.md §1.4 values)', () => {
  // f(x) = 0.1x² (h = 0.2), x₀ = 1, β = 0.9, γ = 0.1, ×0.1 at step 3; no noise.
  const schedule = { kind: 'multistep' as const, milestones: [3], gamma: 0.1 };
  const trace = (form: 'pytorch' | 'keras'): number[] => {
    const cfg = optimizerConfig({ form, lr: 0.1, momentum: 0.9, schedule });
    const x = Float64Array.of(1);
    const s = initOptimizer(cfg, 1);
    const xs: number[] = [];
    for (let k = 0; k < 6; k++) {
      optimizerStep(cfg, x, Float64Array.of(0.2 * x[0]!), s);
      xs.push(x[0]!);
    }
    return xs;
  };
  const pt = trace('pytorch');
  const ke = trace('keras');
  // Before the drop: x = 0.98, 0.9424, 0.889712 (hand: b = 0.2, 0.376, 0.52688) in both forms.
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(pt[k]! - ke[k]!) < 1e-15);
  assert.ok(Math.abs(pt[2]! - 0.889712) < 1e-12);
  // After the drop docs/theory.md §1.4 gives PyTorch 0.883191, 0.875555, 0.866932 and Keras 0.840513, 0.794554, 0.751601.
  [0.883191, 0.875555, 0.866932].forEach((v, i) => assert.ok(Math.abs(pt[3 + i]! - v) < 5e-7, `pytorch ${pt[3 + i]} vs ${v}`));
  [0.840513, 0.794554, 0.751601].forEach((v, i) => assert.ok(Math.abs(ke[3 + i]! - v) < 5e-7, `keras ${ke[3 + i]} vs ${v}`));
});

test('averaged schedule: η̄ = η for constant (η, β); it is the displacement a gradient impulse causes', () => {
  const n = 50;
  const eb = averagedSchedule(new Array(n).fill(0.3), new Array(n).fill(0.9));
  for (const v of eb) assert.ok(Math.abs(v - 0.3) < 1e-15, `η̄ = ${v}`);

  // Step decay ×0.1 at 20, β = 0.9: far before the drop η̄ ≈ η, right before it η̄ mixes both rates.
  const etas = Array.from({ length: n }, (_, k) => (k < 20 ? 1 : 0.1));
  const betas = new Array(n).fill(0.9);
  const bar = averagedSchedule(etas, betas);
  // Hand: η̄_19 = (1−β)(η_19 + Σ_{s≥20} 0.1·β^{s−19}) = 0.1·(1 + 0.1·0.9/0.1) = 0.19.
  assert.ok(Math.abs(bar[19]! - 0.19) < 1e-12);
  // Hand: η̄_0 = (1−β)[Σ_{s<20} β^s·1 + Σ_{s≥20} β^s·0.1] = (1 − β²⁰) + 0.1·β²⁰ = 1 − 0.9·0.9²⁰.
  assert.ok(Math.abs(bar[0]! - (1 - 0.9 * 0.9 ** 20)) < 1e-12);
  // Direct check of the definition: feed a unit gradient at step k only into normalised SGDM (truncate tail)
  // and measure the total displacement within the run.
  const truncated = averagedSchedule(etas, betas, 'truncate');
  for (const k of [0, 5, 19, 20, 35, 49]) {
    const cfg = optimizerConfig({ form: 'normalized', lr: 1, momentum: 0.9, schedule: { kind: 'array', values: etas } });
    const x = Float64Array.of(0);
    const s = initOptimizer(cfg, 1);
    for (let j = 0; j < n; j++) optimizerStep(cfg, x, Float64Array.of(j === k ? 1 : 0), s);
    assert.ok(Math.abs(-x[0]! - truncated[k]!) < 1e-12, `k=${k}: displacement ${-x[0]!} vs η̄ ${truncated[k]}`);
  }
});

test('effective learning rate and conversions', () => {
  assert.equal(effectiveLearningRate(0.1, 0.9), 0.1 / (1 - 0.9)); // ≈ 1.0
  const back = normalizedToPytorch(pytorchToNormalized({ lr: 0.05, momentum: 0.9 }));
  assert.ok(Math.abs(back.lr - 0.05) < 1e-17);
  assert.throws(() => effectiveLearningRate(0.1, 1), /momentum/);
});

test('SVAG coefficients: r₁ + r₂ = 1 and r₁² + r₂² = ℓ', () => {
  for (const l of [1, 2, 3.5, 4, 8, 64]) {
    const { r1, r2 } = svagCoefficients(l);
    assert.ok(Math.abs(r1 + r2 - 1) < 1e-14);
    assert.ok(Math.abs(r1 * r1 + r2 * r2 - l) < 1e-12 * l);
  }
  assert.deepEqual(svagCoefficients(1), { r1: 1, r2: 0 });
  assert.throws(() => svagCoefficients(0.5), /svag\.l/);
});

test('SVAG ℓ = 1 reduces to the plain optimizer bit for bit, even with non-finite second gradients', () => {
  const g1 = Float64Array.of(0.1, -2, 3e-300);
  const g2 = Float64Array.of(NaN, Infinity, 1);
  const out = svagCombine(g1, g2, 1, new Float64Array(3));
  assert.deepEqual(Array.from(out), [0.1, -2, 3e-300]);
});

test('SVAG plan: lr/ℓ, steps ×ℓ, milestones ×ℓ, β unchanged', () => {
  const plan = svagPlan({ lr: 0.2, steps: 100, momentum: 0.9, schedule: { kind: 'multistep', milestones: [50, 75], gamma: 0.1 } }, 4);
  assert.equal(plan.lr, 0.05);
  assert.equal(plan.steps, 400);
  assert.equal(plan.momentum, 0.9);
  assert.deepEqual(plan.schedule, { kind: 'multistep', milestones: [200, 300], gamma: 0.1 });
  // The stretched schedule gives lr_{ℓk} = lr_k/ℓ: the same curve on the effective-step axis.
  const base = learningRates(0.2, { kind: 'multistep', milestones: [50, 75], gamma: 0.1 }, 100);
  const stretched = learningRates(plan.lr, plan.schedule, 400);
  for (let k = 0; k < 100; k++) assert.ok(Math.abs(stretched[4 * k]! * 4 - base[k]!) < 1e-15);
});

test('plain SGD and momentum 0 keep no buffer; SGDM state is one buffer of the parameters\' precision', () => {
  assert.equal(initOptimizer(optimizerConfig({ form: 'sgd', lr: 0.1 }), 1000).buffer, null);
  assert.equal(initOptimizer(optimizerConfig({ form: 'pytorch', lr: 0.1 }), 1000).buffer, null);
  const s = initOptimizer(optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9 }), 1000, 'float32');
  assert.equal(s.buffer!.byteLength, 4000); // 1000 float32 = 4000 bytes
});

test('decoupled weight decay: x ← x(1 − γ·wd) before the step, not through momentum', () => {
  // One step from x = 2, g = 0, γ = 0.1, wd = 0.5, β = 0.9: decoupled gives 2·(1 − 0.05) = 1.9;
  // coupled gives 2 − 0.1·(0.5·2) = 1.9 too on step 0, but on step 1 coupled carries momentum: 1.9 − 0.1·(0.9·1 + 0.95) = 1.715.
  const dec = optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9, weightDecay: 0.5, weightDecayMode: 'decoupled' });
  const cou = optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9, weightDecay: 0.5 });
  const xd = Float64Array.of(2), xc = Float64Array.of(2);
  const sd = initOptimizer(dec, 1), sc = initOptimizer(cou, 1);
  for (let k = 0; k < 2; k++) {
    optimizerStep(dec, xd, Float64Array.of(0), sd);
    optimizerStep(cou, xc, Float64Array.of(0), sc);
  }
  assert.ok(Math.abs(xd[0]! - 2 * 0.95 * 0.95) < 1e-15);
  assert.ok(Math.abs(xc[0]! - 1.715) < 1e-15);
});
