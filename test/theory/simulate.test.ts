// Problems (analytic gradients, noise models) and the many-chain simulator (src/theory/problems.ts, simulate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initOptimizer, optimizerConfig, optimizerStep, svagCombine } from '../../src/core/optim/index.js';
import {
  NormalStream, diagonalQuadratic, doubleWell, labelNoiseUV, linearRegression, linearRegressionData, noisyValley,
  simulate, simulateSde, meanAndError, blockSeed, useSimulationThreads, CHAIN_BLOCK, type Problem,
} from '../../src/core/theory/index.js';
import { installNodeHost } from '../../src/node/host.js';
import { nodeSimulationThreads } from '../../src/node/sim-threads.js';

installNodeHost();

/** Central finite difference of the per-chain loss, summed over chains (chains are independent). */
function numericGradient(p: Problem, x: Float64Array): Float64Array {
  const chains = x.length / p.dim, out = new Float64Array(x.length), l = new Float64Array(chains);
  const h = 1e-6;
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / p.dim), xi = x[i]!;
    x[i] = xi + h; p.loss(x, l); const up = l[c]!;
    x[i] = xi - h; p.loss(x, l); const down = l[c]!;
    x[i] = xi;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

test('analytic gradients equal finite differences of the loss; zero noise gives the gradient', () => {
  const rng = new NormalStream(5);
  const data = linearRegressionData({ n: 64, d: 5, lambdaMin: 0.1, lambdaMax: 2, labelNoise: 0.5, normals: (o) => rng.fillNormal(o) });
  const problems = [diagonalQuadratic([0.5, 2, 3], 1), doubleWell(2), labelNoiseUV(1), noisyValley(), linearRegression(data, 4)];
  for (const p of problems) {
    const x = rng.fillNormal(new Float64Array(3 * p.dim));
    const g = new Float64Array(x.length);
    p.gradient(x, g);
    const fd = numericGradient(p, x);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(g[i]! - fd[i]!) < 1e-5 * Math.max(1, Math.abs(g[i]!)), `${p.name}: ∂${i} ${g[i]} vs ${fd[i]}`);
    if (p.noise.kind === 'normal') {
      const o = new Float64Array(x.length);
      p.oracle(x, new Float64Array(3 * p.noise.perChain), o); // ω = 0: no noise
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(o[i]! - g[i]!) < 1e-12);
    }
  }
});

test('linear-regression oracle: averaging over every row once is the full gradient', () => {
  const rng = new NormalStream(9);
  const data = linearRegressionData({ n: 32, d: 4, lambdaMin: 0.01, lambdaMax: 10, labelNoise: 0.5, normals: (o) => rng.fillNormal(o) });
  const p = linearRegression(data, 32);
  const w = rng.fillNormal(new Float64Array(4));
  const omega = Float64Array.from({ length: 32 }, (_, i) => (i + 0.5) / 32); // row i exactly once
  const o = new Float64Array(4), g = new Float64Array(4);
  p.oracle(w, omega, o);
  p.gradient(w, g);
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(o[j]! - g[j]!) < 1e-12);
  // Spectrum log-spaced in [0.01, 10]: endpoints exact, ratio constant.
  assert.ok(Math.abs(data.spectrum[0]! - 0.01) < 1e-15 && Math.abs(data.spectrum[3]! - 10) < 1e-12);
});

test('label-noise oracle: mean ∇L̄, covariance δ²(v,u)(v,u)ᵀ on uv = 1 (5·SE)', () => {
  const n = 200_000, delta = 0.7;
  const p = labelNoiseUV(delta);
  const x = new Float64Array(2 * n);
  for (let c = 0; c < n; c++) { x[2 * c] = 2; x[2 * c + 1] = 0.5; }
  const g = new Float64Array(2 * n);
  p.oracle(x, new NormalStream(1).fillNormal(new Float64Array(n)), g);
  const gu = g.filter((_, i) => i % 2 === 0), gv = g.filter((_, i) => i % 2 === 1);
  const mu = meanAndError(gu), mv = meanAndError(gv);
  // ∇L̄ = 0 on the manifold; Var g_u = δ²v² = 0.1225, Var g_v = δ²u² = 1.96.
  assert.ok(Math.abs(mu.mean) < 5 * mu.se && Math.abs(mv.mean) < 5 * mv.se);
  const varU = mu.se ** 2 * n, varV = mv.se ** 2 * n;
  assert.ok(Math.abs(varU / 0.1225 - 1) < 5 * Math.sqrt(2 / n));
  assert.ok(Math.abs(varV / 1.96 - 1) < 5 * Math.sqrt(2 / n));
});

test('simulate = optimizerStep by hand, for coupled SGD and SGDM fed the same normals', () => {
  const chains = 7, dim = 3, steps = 50, seed = 11;
  const lam = [0.3, 1, 2];
  const runs = [optimizerConfig({ form: 'sgd', lr: 0.1 }), optimizerConfig({ form: 'normalized', lr: 0.1, momentum: 0.9 }),
    optimizerConfig({ form: 'pytorch', lr: 0.01, momentum: 0.9 }), optimizerConfig({ form: 'keras', lr: 0.01, momentum: 0.9 })];
  const res = simulate({ problem: diagonalQuadratic(lam, 0.5), chains, x0: [1, -1, 0.5], runs, steps, seed });
  // By hand: block 0's stream (fewer than CHAIN_BLOCK chains), one fill per step of chains·dim normals,
  // g = λx + 0.5z for each run.
  const rng = new NormalStream(blockSeed(seed, 0));
  const xs = runs.map(() => Float64Array.from({ length: chains * dim }, (_, i) => [1, -1, 0.5][i % dim]!));
  const states = runs.map((c) => initOptimizer(c, chains * dim));
  const z = new Float64Array(chains * dim), g = new Float64Array(chains * dim);
  for (let k = 0; k < steps; k++) {
    rng.fillNormal(z);
    runs.forEach((cfg, r) => {
      for (let i = 0; i < z.length; i++) g[i] = lam[i % dim]! * xs[r]![i]! + 0.5 * z[i]!;
      optimizerStep(cfg, xs[r]!, g, states[r]!);
    });
  }
  runs.forEach((_, r) => assert.deepEqual(res.xs[r], xs[r]));
  // PyTorch (γ = η(1−β)) and normalised forms agree to rounding at constant lr; Keras equals PyTorch.
  for (let i = 0; i < z.length; i++) {
    assert.ok(Math.abs(res.xs[1]![i]! - res.xs[2]![i]!) < 1e-9 * (1 + Math.abs(res.xs[1]![i]!)));
    assert.ok(Math.abs(res.xs[2]![i]! - res.xs[3]![i]!) < 1e-9 * (1 + Math.abs(res.xs[2]![i]!)));
  }
});

test('simulate with SVAG ℓ = 4: svagCombine of two oracle calls, lr × 1/4', () => {
  const chains = 5, steps = 30, seed = 3, l = 4;
  const cfg = optimizerConfig({ form: 'normalized', lr: 0.2, momentum: 0.5 });
  const res = simulate({ problem: diagonalQuadratic([1], 1), chains, x0: [0.5], runs: [cfg], steps, seed, svag: l });
  const rng = new NormalStream(blockSeed(seed, 0));
  const x = new Float64Array(chains).fill(0.5), st = initOptimizer(cfg, chains);
  const z1 = new Float64Array(chains), z2 = new Float64Array(chains), g1 = new Float64Array(chains), g2 = new Float64Array(chains);
  for (let k = 0; k < steps; k++) {
    rng.fillNormal(z1);
    rng.fillNormal(z2);
    for (let c = 0; c < chains; c++) { g1[c] = x[c]! + z1[c]!; g2[c] = x[c]! + z2[c]!; }
    optimizerStep(cfg, x, svagCombine(g1, g2, l), st, 1 / l);
  }
  assert.deepEqual(res.xs[0], x);
});

test('worker threads give bit-identical results (per-block noise streams), observe sees every chain', (t) => {
  if (import.meta.url.endsWith('.ts')) {
    t.skip('run from .ts sources (tsx) the simulator stays on one thread; this runs in the built suite (npm test)');
    return;
  }
  const chains = 2 * CHAIN_BLOCK + 77; // three blocks, split 1 + 2 between two threads
  const runs = [optimizerConfig({ form: 'sgd', lr: 0.05 }), optimizerConfig({ form: 'normalized', lr: 0.05, momentum: 0.9 })];
  const seen: number[][] = [];
  const go = (threads: number) => simulate({
    problem: labelNoiseUV(1), chains, x0: [2, 0.5], runs, steps: 40, seed: 5, threads, every: 20, svag: 2,
    observe: (k, xs) => { if (threads === 2) seen.push([k, xs[1]![2 * (chains - 1)]!]); },
  });
  // Count the helper threads the simulator borrows from the Node host, to see the threaded path is taken.
  const node = nodeSimulationThreads()!;
  let lent = 0;
  useSimulationThreads({ available: node.available, acquire: () => { lent++; return node.acquire(); } });
  let one: ReturnType<typeof go>, two: ReturnType<typeof go>, again: ReturnType<typeof go>, three: ReturnType<typeof go>;
  try {
    one = go(1); two = go(2); again = go(2); three = go(3);
  } finally {
    useSimulationThreads(node);
  }
  assert.equal(lent, 1 + 1 + 2);
  assert.deepEqual(two.xs, one.xs);
  // The last chain lives in the worker's slice: at k = 20 and 40 observe already sees it moved.
  assert.deepEqual(seen.map((s) => s[0]), [0, 20, 40, 0, 20, 40]); // both 2-thread runs
  assert.equal(seen[0]![1], 2);
  assert.notEqual(seen[1]![1], 2);
  // Worker threads are kept between simulations: a second threaded run (same worker, new job) and a 3-thread
  // run (one kept, one new worker) give the same bits again.
  assert.deepEqual(again.xs, one.xs);
  assert.deepEqual(three.xs, one.xs);
  // Without a host every chain runs on this thread, whatever `threads` asks: same bits.
  useSimulationThreads(null);
  try {
    assert.deepEqual(go(3).xs, one.xs);
  } finally {
    useSimulationThreads(node);
  }
});

test('divergence: chains past the bound are flagged and restarted, never NaN', () => {
  // GD at ηλ = 3 > 2 diverges (|1 − 3|^k); SGDM(0.9) normalised is stable up to ηλ = 38.
  const res = simulate({
    problem: diagonalQuadratic([1], 0.1), chains: 4, x0: [1], steps: 200, seed: 1,
    runs: [optimizerConfig({ form: 'sgd', lr: 3 }), optimizerConfig({ form: 'normalized', lr: 3, momentum: 0.9 })],
  });
  assert.deepEqual([...res.diverged[0]!], [1, 1, 1, 1]);
  assert.deepEqual([...res.diverged[1]!], [0, 0, 0, 0]);
  // |x_k| = 2^k crosses 1e12 at k = 40; detection within guardEvery = 8 steps.
  for (const at of res.divergedAt[0]!) assert.ok(at >= 40 && at < 48, `detected at ${at}`);
  for (const x of res.xs[0]!) assert.ok(Number.isFinite(x));
});

test('Euler–Maruyama: Ornstein–Uhlenbeck variance ησ²/(2λ)(1 − e^{−2λT}) within 5·SE + O(dt)', () => {
  // dX = −λX dt + √η σ dW from 0: Var X_T = ησ²(1 − e^{−2λT})/(2λ); λ = 2, σ = 1, η = 0.5, T = 1 → 0.12271.
  const chains = 40_000, lambda = 2, eta = 0.5, T = 1, dt = 1e-3;
  const x = simulateSde({ problem: diagonalQuadratic([lambda], 1), chains, x0: [0], eta, dt, T, seed: 4 });
  const exact = (eta * (1 - Math.exp(-2 * lambda * T))) / (2 * lambda);
  const sq = x.map((v) => v * v);
  const { mean, se } = meanAndError(sq);
  // EM bias on the variance is O(λ·dt) relative (0.2% here), below the 5·SE ≈ 3.5% band.
  assert.ok(Math.abs(mean - exact) < 5 * se + 2 * lambda * dt * exact, `${mean} vs ${exact} (se ${se})`);
});
