import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianMixture, linearRegressionTask, logSpaced, teacherStudentClassification, teacherStudentRegression } from '../../src/core/data/synthetic.js';

function gram(x: Float64Array, n: number, d: number): Float64Array {
  const g = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) g[a * d + b]! += (x[i * d + a]! * x[i * d + b]!) / n;
  return g;
}

test('logSpaced: ends and constant ratio', () => {
  const l = logSpaced(1e-2, 10, 50);
  assert.equal(l.length, 50);
  assert.ok(Math.abs(l[0]! - 1e-2) < 1e-15 && Math.abs(l[49]! - 10) < 1e-12);
  // ratio (10/0.01)^(1/49) = 1000^(1/49) between neighbours
  for (let j = 1; j < 50; j++) assert.ok(Math.abs(l[j]! / l[j - 1]! - Math.pow(1000, 1 / 49)) < 1e-12);
});

test('linear regression (T5 defaults): empirical Hessian is exactly diag(λ), label noise 0.5', () => {
  const t = linearRegressionTask({ seed: 1 });
  const { d, train } = t;
  assert.equal(d, 50);
  assert.equal(train.n, 4096);
  const lambda = t.meta.eigenvalues as number[];
  const g = gram(train.x, train.n, d);
  // exactSpectrum: (1/n)XᵀX = diag(λ) to float64 rounding (Gram–Schmidt, d = 50)
  let maxErr = 0;
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) maxErr = Math.max(maxErr, Math.abs(g[a * d + b]! - (a === b ? lambda[a]! : 0)));
  assert.ok(maxErr < 1e-9, `max |XᵀX/n − diag λ| = ${maxErr}`);
  assert.equal(Math.max(...lambda), 10);
  // residual y − x·w* is the label noise: sd 0.5; the sample sd over 4096 has sd 0.5/√8192 ≈ 0.0055 → ±0.03
  const w = t.meta.wStar as number[];
  let ss = 0;
  for (let i = 0; i < train.n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += train.x[i * d + j]! * w[j]!;
    ss += (train.y[i]! - s) ** 2;
  }
  assert.ok(Math.abs(Math.sqrt(ss / train.n) - 0.5) < 0.03, `noise sd ${Math.sqrt(ss / train.n)}`);
  // deterministic in the seed
  const t2 = linearRegressionTask({ seed: 1 });
  assert.deepEqual(Array.from(t2.train.y.subarray(0, 20)), Array.from(train.y.subarray(0, 20)));
  assert.notDeepEqual(Array.from(linearRegressionTask({ seed: 2 }).train.y.subarray(0, 20)), Array.from(train.y.subarray(0, 20)));
});

test('linear regression without whitening: diagonal within sampling error of λ', () => {
  const t = linearRegressionTask({ d: 5, n: 20000, spectrum: [0.1, 2], seed: 3, exactSpectrum: false });
  const g = gram(t.train.x, t.train.n, 5);
  const lambda = t.meta.eigenvalues as number[];
  // Var of (1/n)Σx_j² is 2λ²/n → relative sd √(2/20000) = 1% → allow 5%
  for (let j = 0; j < 5; j++) assert.ok(Math.abs(g[j * 5 + j]! / lambda[j]! - 1) < 0.05);
});

test('teacher–student classification: label noise flips ≈ p·(1 − 1/C) of labels, inputs unchanged', () => {
  const clean = teacherStudentClassification({ d: 10, n: 4000, classes: 4, seed: 8 });
  const noisy = teacherStudentClassification({ d: 10, n: 4000, classes: 4, seed: 8, labelNoise: 0.3 });
  assert.deepEqual(clean.shape, [1, 1, 10]);
  assert.deepEqual(Array.from(noisy.train.images.subarray(0, 50)), Array.from(clean.train.images.subarray(0, 50)));
  let diff = 0;
  for (let i = 0; i < 4000; i++) if (clean.train.labels[i] !== noisy.train.labels[i]) diff++;
  // replaced w.p. 0.3 by a uniform class, which differs w.p. 3/4 → 0.225; sd √(0.225·0.775/4000) ≈ 0.0066
  assert.ok(Math.abs(diff / 4000 - 0.225) < 0.035, `flip rate ${diff / 4000}`);
  // test labels are clean in both
  assert.deepEqual(Array.from(noisy.test.labels), Array.from(clean.test.labels));
  // the teacher uses several classes
  assert.ok(new Set(clean.train.labels).size >= 3);
});

test('teacher–student regression: noise is added on top of the same teacher outputs', () => {
  const a = teacherStudentRegression({ d: 8, n: 5000, seed: 4 });
  const b = teacherStudentRegression({ d: 8, n: 5000, seed: 4, noise: 0.2 });
  let ss = 0;
  for (let i = 0; i < 5000; i++) ss += (b.train.y[i]! - a.train.y[i]!) ** 2;
  // differences are 0.2·ξ: rms 0.2 ± 0.2/√10000
  assert.ok(Math.abs(Math.sqrt(ss / 5000) - 0.2) < 0.01);
});

test('Gaussian mixture: well separated classes are separable by nearest estimated mean', () => {
  const ds = gaussianMixture({ d: 20, classes: 3, n: 3000, nTest: 600, separation: 10, seed: 6 });
  const d = 20;
  const mean = new Float64Array(3 * d);
  const cnt = [0, 0, 0];
  for (let i = 0; i < ds.train.n; i++) {
    const c = ds.train.labels[i]!;
    cnt[c]!++;
    for (let j = 0; j < d; j++) mean[c * d + j]! += ds.train.images[i * d + j]!;
  }
  for (let c = 0; c < 3; c++) for (let j = 0; j < d; j++) mean[c * d + j]! /= cnt[c]!;
  let correct = 0;
  for (let i = 0; i < ds.test.n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (ds.test.images[i * d + j]! - mean[c * d + j]!) ** 2;
      if (s < bestD) [best, bestD] = [c, s];
    }
    if (best === ds.test.labels[i]) correct++;
  }
  // ‖μ_a − μ_b‖² ≈ 2·separation² = 200 → distance ≈ 14 with unit noise: pairwise error Φ(−7) ≈ 1e−12, so > 97% even with estimated means
  assert.ok(correct / ds.test.n > 0.97, `accuracy ${correct / ds.test.n}`);
  // labels roughly uniform: each class 1000 ± 5·√(3000·(1/3)(2/3))
  for (const c of cnt) assert.ok(Math.abs(c - 1000) < 130);
});
