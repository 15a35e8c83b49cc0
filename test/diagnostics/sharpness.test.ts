import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen, dot, norm2, randomUnitVector } from '../../src/core/advisor/linalg.js';
import { finiteDifferenceHvp, lanczos, powerIteration, topHessianEigenvalue, type Hvp } from '../../src/core/advisor/sharpness.js';
import { float64Backend } from '../../src/core/engine/backend.js';
import { buildModel } from '../../src/core/nn/models.js';
import { Rng } from '../../src/core/util/rng.js';
import { tinyMlp } from './tiny-mlp.js';

/** Dense symmetric matrix-vector product as an Hvp. */
function denseHvp(A: Float64Array, n: number): Hvp {
  return (v, out) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j]! * v[j]!;
      out[i] = s;
    }
  };
}

/** Q diag(d) Qᵀ with Q a random orthogonal matrix (Gram–Schmidt of Gaussian columns): eigenvalues exactly d. */
function randomSymmetric(d: readonly number[], seed: number): Float64Array {
  const n = d.length;
  const rng = new Rng(seed);
  const Q: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const q = randomUnitVector(n, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) for (const p of Q) { const c = dot(p, q); for (let i = 0; i < n; i++) q[i] -= c * p[i]!; }
    const s = norm2(q);
    for (let i = 0; i < n; i++) q[i] /= s;
    Q.push(q);
  }
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += Q[k]![i]! * d[k]! * Q[k]![j]!;
    A[i * n + j] = s;
  }
  return A;
}

/** Full Hessian, column j = hvp(e_j). */
function hessianFromHvp(hvp: Hvp, n: number): Float64Array {
  const Hm = new Float64Array(n * n);
  const e = new Float64Array(n), col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    hvp(e, col);
    for (let i = 0; i < n; i++) Hm[i * n + j] = col[i]!;
  }
  return Hm;
}

test('Jacobi: 2×2 closed form and A·V = V·Λ on a random symmetric matrix', () => {
  // [[2,1],[1,2]] has eigenvalues 3 and 1 (hand: (2−λ)² = 1).
  const e2 = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
  assert.ok(Math.abs(e2.values[0]! - 3) < 1e-14 && Math.abs(e2.values[1]! - 1) < 1e-14, `${e2.values}`);
  const d = [5, 3.5, 1, 0.25, -0.5, -2, -4, 7];
  const n = d.length;
  const A = randomSymmetric(d, 3);
  const { values, vectors } = symmetricEigen(A, n);
  // Eigenvalues are exactly d by construction (sorted descending).
  const want = [...d].sort((a, b) => b - a);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(values[i]! - want[i]!) < 1e-12, `λ_${i} = ${values[i]} vs ${want[i]}`);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    let av = 0;
    for (let k = 0; k < n; k++) av += A[i * n + k]! * vectors[k * n + j]!;
    assert.ok(Math.abs(av - values[j]! * vectors[i * n + j]!) < 1e-12);
  }
});

test('Lanczos and power iteration: exact λ_max of a diagonal quadratic', () => {
  // H = diag(1..50) ⇒ λ_max = 50, λ_2 = 49. With k = n Krylov steps Lanczos is exact (invariant subspace).
  const n = 50;
  const hvp: Hvp = (v, out) => { for (let i = 0; i < n; i++) out[i] = (i + 1) * v[i]!; };
  const full = lanczos(hvp, n, { steps: n, seed: 5, tol: 0 });
  for (let i = 0; i < n; i++) assert.ok(Math.abs(full.values[i]! - (n - i)) < 1e-9, `Ritz ${i}: ${full.values[i]}`);
  // k = 25 steps from start q: Kaniel–Paige (Saad, Numerical Methods for Large Eigenvalue Problems, Thm 6.4)
  // 0 ≤ λ₁ − θ₁ ≤ (λ₁ − λ_n)·(tan φ / T_{k−1}(1 + 2γ))², γ = (λ₁ − λ₂)/(λ₂ − λ_n), cos φ = |q·e₁|.
  const q = randomUnitVector(n, () => new Rng(5).normal());
  const cosPhi = Math.abs(q[n - 1]!);
  const tanPhi = Math.sqrt(1 - cosPhi * cosPhi) / cosPhi;
  const gamma = 1 / 48;
  const k = 25;
  const cheb = Math.cosh((k - 1) * Math.acosh(1 + 2 * gamma));
  const bound = 49 * (tanPhi / cheb) ** 2;
  const part = lanczos(hvp, n, { steps: k, start: q });
  const err = 50 - part.top.value;
  assert.ok(err >= -1e-12 && err <= bound, `Lanczos 25 steps: error ${err}, Kaniel–Paige bound ${bound}`);
  assert.ok(bound < 1e-2, `bound ${bound} should be informative`);
  // The residual bound ‖Hy − θy‖ also bounds |λ − θ| for the nearest eigenvalue.
  assert.ok(err <= part.top.residual + 1e-12, `error ${err} vs residual ${part.top.residual}`);
  // Power iteration converges as (49/50)^k; 2000 iterations give (0.98)^4000 ≈ 1e-35 in the Rayleigh quotient.
  const p = powerIteration(hvp, n, { maxIterations: 2000, tol: 1e-13, seed: 5 });
  assert.ok(Math.abs(p.value - 50) < 1e-6, `power: ${p.value}`);
});

test('Lanczos: random symmetric (indefinite) quadratic; power iteration finds the largest |λ| instead', () => {
  const n = 60;
  const rng = new Rng(11);
  const d = Array.from({ length: n }, () => rng.uniform() * 4 - 2);
  d[7] = 9; // λ_max = 9, well separated
  d[20] = -12; // larger in magnitude but negative
  const A = randomSymmetric(d, 12);
  const hvp = denseHvp(A, n);
  const l = lanczos(hvp, n, { steps: 30, seed: 2, vectors: 2 });
  assert.ok(Math.abs(l.top.value - 9) < 1e-9, `Lanczos λ_max ${l.top.value} vs 9`);
  assert.ok(Math.abs(l.values[l.steps - 1]! + 12) < 1e-9, `Lanczos λ_min ${l.values[l.steps - 1]} vs −12`);
  // Ritz vector is an eigenvector: ‖Ay − 9y‖ small.
  const y = l.ritzVectors[0]!, Ay = new Float64Array(n);
  hvp(y, Ay);
  for (let i = 0; i < n; i++) Ay[i] -= 9 * y[i]!;
  assert.ok(norm2(Ay) < 1e-7, `eigenvector residual ${norm2(Ay)}`);
  const p = powerIteration(hvp, n, { maxIterations: 500, tol: 1e-12, seed: 2 });
  assert.ok(Math.abs(p.value + 12) < 1e-6, `power iteration dominant eigenvalue ${p.value} vs −12`);
});

test('finite-difference HVP of a quadratic gradient is exact to rounding (float64)', () => {
  const n = 20;
  const d = Array.from({ length: n }, (_, i) => 0.1 * (i + 1));
  const A = randomSymmetric(d, 4);
  const grad = (p: Float32Array | Float64Array, out: Float32Array | Float64Array): void => {
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += A[i * n + j]! * (p[j]! - 1); out[i] = s; }
  };
  const theta = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const fd = finiteDifferenceHvp(grad, theta);
  const v = randomUnitVector(n, () => new Rng(9).normal());
  const got = new Float64Array(n), want = new Float64Array(n);
  fd.hvp(v, got);
  denseHvp(A, n)(v, want);
  // No truncation error on a quadratic; rounding ≈ u·|θ_j − 1|·‖A‖/ε with ε = 1e-9·(1+‖θ‖) ≈ 4e-9 gives ~1e-7.
  for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-6, `${i}: ${got[i]} vs ${want[i]}`);
  assert.equal(fd.gradCalls(), 2);
});

test('tiny tanh MLP (hand-written float64 R-operator): finite-difference HVP vs exact HVP, Lanczos vs Jacobi on the explicit Hessian', () => {
  const m = tinyMlp(4, 6, 3, 16, 21); // 51 parameters
  const theta = m.init;
  const exact: Hvp = (v, out) => m.hvp(theta, v, out);
  const fd = finiteDifferenceHvp(m.grad, theta);
  const rng = new Rng(8);
  for (let trial = 0; trial < 3; trial++) {
    const v = randomUnitVector(m.size, () => rng.normal());
    const a = new Float64Array(m.size), b = new Float64Array(m.size);
    fd.hvp(v, a);
    exact(v, b);
    const err = norm2(a.map((x, i) => x - b[i]!)) / norm2(b);
    // Central difference in float64 with ε = 1e-9·(1+‖θ‖) ≈ 7e-9: truncation ~ε²‖∇³L‖ is nil; rounding
    // ~u·‖g‖/ε ≈ 2e-16/7e-9 ≈ 3e-8 relative dominates (measured worst 5.8e-8); asserted at 1e-6.
    assert.ok(err < 1e-6, `FD vs R-operator relative error ${err}`);
  }
  // Explicit Hessian from exact R-operator columns; its eigenvalues by Jacobi are the reference.
  const Hm = hessianFromHvp(exact, m.size);
  let asym = 0;
  for (let i = 0; i < m.size; i++) for (let j = 0; j < m.size; j++) asym = Math.max(asym, Math.abs(Hm[i * m.size + j]! - Hm[j * m.size + i]!));
  assert.ok(asym < 1e-12, `exact Hessian must be symmetric, max asymmetry ${asym}`);
  const ref = symmetricEigen(Hm, m.size).values[0]!;
  const viaFd = lanczos(fd.hvp, m.size, { steps: 30, seed: 3 }).top.value;
  const viaExact = lanczos(exact, m.size, { steps: 30, seed: 3 }).top.value;
  assert.ok(Math.abs(viaExact - ref) < 1e-9 * ref, `Lanczos(exact HVP) ${viaExact} vs Jacobi ${ref}`);
  assert.ok(Math.abs(viaFd - ref) < 1e-6 * ref, `Lanczos(FD HVP) ${viaFd} vs Jacobi ${ref}`); // measured 1e-8
  // float32 parameters and gradients (c = 1e-3): truncation O(ε²) dominates on this tiny net with large weights;
  // measured 1.5e-4 relative (float64 FD: 4e-11), asserted at 2e-3.
  const theta32 = Float32Array.from(theta);
  const grad32 = (p: Float32Array | Float64Array, out: Float32Array | Float64Array): number => m.grad(Float64Array.from(p), out);
  const f32 = lanczos(finiteDifferenceHvp(grad32, theta32).hvp, m.size, { steps: 30, seed: 3 }).top.value;
  assert.ok(Math.abs(f32 - ref) < 2e-3 * ref, `Lanczos(float32 FD HVP) ${f32} vs ${ref}`);
});

test('engine float64 MLP (softmax cross-entropy): Lanczos on the FD HVP vs Jacobi on the explicit FD Hessian', () => {
  // The engine's float64 path gives an exact gradient; the explicit Hessian is formed column by column from
  // central differences of it with a fixed ε = 1e-5 (independent of finiteDifferenceHvp's step rule), symmetrised.
  const model = buildModel({ kind: 'mlp', hidden: [5], activation: 'tanh', dropout: 0 }, { inShape: [4], classes: 3, seed: 7, backend: float64Backend() });
  const N = 12;
  model.setup(N);
  const rng = new Rng(31);
  const x = Float64Array.from({ length: N * 4 }, () => rng.normal());
  const labels = Int32Array.from({ length: N }, () => rng.int(3));
  const store = model.store;
  const n = store.size; // 4·5+5+5·3+3 = 43
  assert.equal(n, 43);
  const grad = (p: Float32Array | Float64Array, out: Float32Array | Float64Array): number => {
    store.params.set(p);
    const loss = model.lossAndGrad(x, labels, N);
    out.set(store.grads);
    return loss;
  };
  const theta = Float64Array.from(store.params);
  const Hm = new Float64Array(n * n);
  const gp = new Float64Array(n), gm = new Float64Array(n), p = Float64Array.from(theta);
  const h = 1e-5;
  for (let j = 0; j < n; j++) {
    p[j] = theta[j]! + h; grad(p, gp);
    p[j] = theta[j]! - h; grad(p, gm);
    p[j] = theta[j]!;
    for (let i = 0; i < n; i++) Hm[i * n + j] = (gp[i]! - gm[i]!) / (2 * h);
  }
  const ref = symmetricEigen(Hm, n).values[0]!;
  const est = topHessianEigenvalue(finiteDifferenceHvp(grad, theta).hvp, n, { steps: 30, seed: 4 });
  // The reference carries FD error ~ε² + u/ε ≈ 1e-10, the estimate ~1e-8 (step 1e-9); 1e-6 still catches any wrong eigenvalue.
  assert.ok(Math.abs(est.value - ref) < 1e-6 * Math.abs(ref), `Lanczos ${est.value} vs Jacobi ${ref}`);
  const pw = topHessianEigenvalue(finiteDifferenceHvp(grad, theta).hvp, n, { method: 'power', maxIterations: 3000, tol: 1e-12, seed: 4 });
  assert.ok(Math.abs(pw.value - ref) < 1e-4 * Math.abs(ref), `power ${pw.value} vs Jacobi ${ref}`);
});
