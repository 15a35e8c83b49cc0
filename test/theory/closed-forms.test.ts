// Closed forms against the values stated in docs/theory.md §3–§5 (themselves checked numerically there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  couplingConstant, normalizedStabilityThreshold, pytorchStabilityThreshold, slowSdeSharpness, stationaryLoss,
} from '../../src/core/theory/closed-forms.js';
import { UserError } from '../../src/core/util/errors.js';

const close = (a: number, b: number, tol = 5e-5): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('stationary loss (λ = s = 1): docs/theory.md §3.1 values', () => {
  // η=0.5: SGD 0.1667, SGDM(0.9) 0.1267; η=1: 0.5000, 0.2568; η=1.5: 1.5000, 0.3904.
  close(stationaryLoss(0.5, 0, 1, 1), 0.16667);
  close(stationaryLoss(0.5, 0.9, 1, 1), 0.12667);
  close(stationaryLoss(1, 0, 1, 1), 0.5);
  close(stationaryLoss(1, 0.9, 1, 1), 0.25676);
  close(stationaryLoss(1.5, 0, 1, 1), 1.5);
  close(stationaryLoss(1.5, 0.9, 1, 1), 0.39041);
});

test('SVAG stationary loss (η = λ = s = 1, SGD): ℓ = 1, 2, 4, 8 → 0.5, 1/3, 2/7, 4/15', () => {
  // (ηs²/4)/(1 − ηλ/(2ℓ)) = 0.25/(1 − 1/(2ℓ)).
  close(stationaryLoss(1, 0, 1, 1, 1), 0.5);
  close(stationaryLoss(1, 0, 1, 1, 2), 1 / 3);
  close(stationaryLoss(1, 0, 1, 1, 4), 2 / 7);
  close(stationaryLoss(1, 0, 1, 1, 8), 4 / 15);
});

test('no stationary law at or past the stability threshold: a UserError naming eta, not NaN', () => {
  assert.throws(() => stationaryLoss(2, 0, 1, 1), (e: unknown) => e instanceof UserError && /eta/.test(e.message) && /threshold/.test(e.message));
  assert.throws(() => stationaryLoss(38.5, 0.9, 1, 1), UserError);
  assert.ok(Number.isFinite(stationaryLoss(37.9, 0.9, 1, 1)));
});

test('stability thresholds 2, 6, 38 (normalised) and 2, 3, 3.8 (PyTorch) for β = 0, 0.5, 0.9', () => {
  close(normalizedStabilityThreshold(0), 2, 1e-12);
  close(normalizedStabilityThreshold(0.5), 6, 1e-12);
  close(normalizedStabilityThreshold(0.9), 38, 1e-12);
  close(pytorchStabilityThreshold(0.5), 3, 1e-12);
  close(pytorchStabilityThreshold(0.9), 3.8, 1e-12);
});

test('coupling constant β/√(1+β): 0.653 at β = 0.9, 0.408 at β = 0.5', () => {
  close(couplingConstant(0.9), 0.653, 5e-4);
  close(couplingConstant(0.5), 0.408, 5e-4);
});

test('slow-SDE sharpness from S₀ = 4.25, δ = 1: S(0.25) = 3.540, S(0.5) = 3.029, S(1) = 2.430, S(∞) = 2', () => {
  close(slowSdeSharpness(0, 4.25, 1), 4.25, 1e-12);
  close(slowSdeSharpness(0.25, 4.25, 1), 3.540, 5e-4);
  close(slowSdeSharpness(0.5, 4.25, 1), 3.029, 5e-4);
  close(slowSdeSharpness(1, 4.25, 1), 2.430, 5e-4);
  close(slowSdeSharpness(100, 4.25, 1), 2, 1e-9);
});

test('logLogSlope: exact power laws give their exponent', async () => {
  const { logLogSlope } = await import('../../src/core/theory/index.js');
  const x = [0.1, 0.05, 0.025, 0.0125];
  close(logLogSlope(x, x.map((v) => 3 * v ** 1.5)), 1.5, 1e-12); // y = 3x^1.5
  close(logLogSlope(x, x.map((v) => Math.sqrt(v))), 0.5, 1e-12); // the theorem's √(η/(1−β)) rate
});
