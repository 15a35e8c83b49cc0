import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradientMoments, NoiseScaleTracker, gaussianNoiseStandardErrors, twoBatchNoiseEstimate } from '../../src/core/advisor/noise.js';
import { Rng } from '../../src/core/util/rng.js';

const meanSd = (a: number[]): { mean: number; sd: number } => {
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / (a.length - 1));
  return { mean, sd };
};

test('two-batch formulas invert E|G_B|² = |G|² + tr Σ / B exactly', () => {
  // |G|² = 3, tr Σ = 40: E|G_8|² = 3 + 5 = 8, E|G_64|² = 3 + 0.625 = 3.625 (hand).
  const e = twoBatchNoiseEstimate({ bSmall: 8, normSqSmall: 8, bBig: 64, normSqBig: 3.625 });
  assert.ok(Math.abs(e.gradNormSq - 3) < 1e-12 && Math.abs(e.traceSigma - 40) < 1e-12, JSON.stringify(e));
  assert.ok(Math.abs(e.bNoise - 40 / 3) < 1e-12);
});

test('Gaussian gradient oracle: per-microbatch estimates of |∇L|² and tr Σ are unbiased, with the predicted standard error', () => {
  // g = G + diag(s)·z per example, z ~ N(0, I): |G|² and tr Σ = Σ s_i² are known exactly.
  const d = 20;
  const G = Array.from({ length: d }, (_, i) => 0.3 * Math.cos(i));
  const s = Array.from({ length: d }, (_, i) => 0.5 + 0.1 * i);
  const G2 = G.reduce((a, x) => a + x * x, 0);
  const trS = s.reduce((a, x) => a + x * x, 0);
  const trS2 = s.reduce((a, x) => a + x ** 4, 0);
  const gSg = G.reduce((a, x, i) => a + x * x * s[i]! ** 2, 0);
  const m = 32, b = 4, R = 300;
  const rng = new Rng(2024);
  const traces: number[] = [], norms: number[] = [];
  const tracker = new NoiseScaleTracker();
  for (let r = 0; r < R; r++) {
    const mom = new GradientMoments(d, b);
    const g = new Float64Array(d);
    for (let j = 0; j < m; j++) {
      g.fill(0);
      for (let e = 0; e < b; e++) for (let i = 0; i < d; i++) g[i] += (G[i]! + s[i]! * rng.normal()) / b;
      mom.add(g);
    }
    const est = mom.estimate();
    traces.push(est.traceSigma);
    norms.push(est.gradNormSq);
    tracker.add(est);
  }
  const se = gaussianNoiseStandardErrors({ samples: m, microbatch: b, traceSigmaSq: trS2, gradSigmaGrad: gSg });
  const t = meanSd(traces), n = meanSd(norms);
  // Unbiasedness: the mean of R independent estimates lies within 4 standard errors of the truth.
  assert.ok(Math.abs(t.mean - trS) < (4 * se.traceSigma) / Math.sqrt(R), `tr Σ: mean ${t.mean} vs ${trS} (SE ${se.traceSigma / Math.sqrt(R)})`);
  assert.ok(Math.abs(n.mean - G2) < (4 * se.gradNormSq) / Math.sqrt(R), `|G|²: mean ${n.mean} vs ${G2} (SE ${se.gradNormSq / Math.sqrt(R)})`);
  // The standard-error formulas themselves: the replicate SD estimates them to ±1/√(2(R−1)) ≈ 4%; allow 20% (5σ).
  assert.ok(Math.abs(t.sd / se.traceSigma - 1) < 0.2, `SD of tr Σ estimates ${t.sd} vs formula ${se.traceSigma}`);
  assert.ok(Math.abs(n.sd / se.gradNormSq - 1) < 0.2, `SD of |G|² estimates ${n.sd} vs formula ${se.gradNormSq}`);
  // B_noise from the pooled means (ratio of averages): first-order error ≤ 4·√(relSE_S² + relSE_G²)/√R.
  const bTrue = trS / G2;
  const rel = Math.sqrt((se.traceSigma / trS) ** 2 + (se.gradNormSq / G2) ** 2) / Math.sqrt(R);
  const bEst = tracker.estimate().bNoise;
  assert.ok(Math.abs(bEst / bTrue - 1) < 4 * rel, `B_noise ${bEst} vs ${bTrue} (relative SE ${rel})`);
});

test('linear regression with Gaussian inputs: two independent batch sizes recover the closed-form |∇L|² and tr Σ', () => {
  // x ~ N(0, H), H = diag(h), y = x·w* + σε; at w = w* + r the per-example gradient g = x(xᵀw − y) has
  // E g = Hr and (Isserlis) Cov g = H r rᵀ H + (rᵀHr)·H + σ²·H, so tr Σ = |Hr|² + (rᵀHr + σ²)·tr H.
  const d = 8, sigma = 0.5;
  const h = Array.from({ length: d }, (_, i) => 0.2 + 0.3 * i);
  const r = Array.from({ length: d }, (_, i) => (i % 2 === 0 ? 0.4 : -0.25));
  const Hr = r.map((x, i) => h[i]! * x);
  const G2 = Hr.reduce((a, x) => a + x * x, 0);
  const rHr = r.reduce((a, x, i) => a + h[i]! * x * x, 0);
  const trH = h.reduce((a, x) => a + x, 0);
  const trS = G2 + (rHr + sigma * sigma) * trH;
  const rng = new Rng(77);
  const batchGrad = (B: number): Float64Array => {
    const g = new Float64Array(d), x = new Float64Array(d);
    for (let e = 0; e < B; e++) {
      let resid = sigma * -rng.normal(); // xᵀw − y = xᵀr − σε
      for (let i = 0; i < d; i++) { x[i] = Math.sqrt(h[i]!) * rng.normal(); resid += x[i]! * r[i]!; }
      for (let i = 0; i < d; i++) g[i] += (x[i]! * resid) / B;
    }
    return g;
  };
  const R = 400, bS = 8, bB = 128;
  const gs: number[] = [], ss: number[] = [];
  const tracker = new NoiseScaleTracker();
  for (let k = 0; k < R; k++) {
    const a = batchGrad(bS), c = batchGrad(bB);
    const e = twoBatchNoiseEstimate({ bSmall: bS, normSqSmall: a.reduce((p, x) => p + x * x, 0), bBig: bB, normSqBig: c.reduce((p, x) => p + x * x, 0) });
    gs.push(e.gradNormSq);
    ss.push(e.traceSigma);
    tracker.add(e);
  }
  // Tolerance: 4 empirical standard errors of the mean over R independent steps (gradients are not Gaussian here).
  const g = meanSd(gs), s = meanSd(ss);
  assert.ok(Math.abs(g.mean - G2) < (4 * g.sd) / Math.sqrt(R), `|G|² ${g.mean} vs closed form ${G2} ± ${g.sd / Math.sqrt(R)}`);
  assert.ok(Math.abs(s.mean - trS) < (4 * s.sd) / Math.sqrt(R), `tr Σ ${s.mean} vs closed form ${trS} ± ${s.sd / Math.sqrt(R)}`);
  const est = tracker.estimate();
  const rel = Math.sqrt((s.sd / s.mean) ** 2 + (g.sd / g.mean) ** 2) / Math.sqrt(R);
  assert.ok(Math.abs(est.bNoise / (trS / G2) - 1) < 4 * rel, `B_noise ${est.bNoise} vs ${trS / G2}`);
});
