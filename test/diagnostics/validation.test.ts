import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOf, seedSummary, sweepAgreement } from '../../src/core/advisor/validation.js';

test('seed summary and outcome: a difference counts only beyond 2 standard errors of the difference', () => {
  // [1, 2, 3]: mean 2, sample sd 1 (hand).
  const s = seedSummary([1, 2, 3]);
  assert.equal(s.mean, 2);
  assert.ok(Math.abs(s.std - 1) < 1e-15);
  // SE = √(1/4 + 1/4) = 0.7071; advantage 1.5 > 2·0.7071 = 1.414 → momentum-better; 1.4 → tie.
  const base = { batch: 64, verdict: 'noise-dominated' as const, sgd: { mean: 80, std: 1, n: 4 }, higherIsBetter: true };
  assert.equal(outcomeOf({ ...base, sgdm: { mean: 81.5, std: 1, n: 4 } }).outcome, 'momentum-better');
  assert.equal(outcomeOf({ ...base, sgdm: { mean: 81.4, std: 1, n: 4 } }).outcome, 'tie');
  // A floor of 2 (e.g. the suite's accuracy floor) turns the 1.5 gap into a tie.
  assert.equal(outcomeOf({ ...base, sgdm: { mean: 81.5, std: 1, n: 4 } }, { floor: 2 }).outcome, 'tie');
  // Loss (lower is better): SGDM 0.5 vs SGD 0.3 with zero spread → SGD better.
  assert.equal(outcomeOf({ ...base, higherIsBetter: false, sgd: { mean: 0.3, std: 0, n: 1 }, sgdm: { mean: 0.5, std: 0, n: 1 } }).outcome, 'sgd-better');
});

test('sweep agreement: rate over decided points, borderline abstains, disagreements listed', () => {
  const acc = (m: number) => ({ mean: m, std: 0.2, n: 3 });
  const r = sweepAgreement([
    { batch: 32, verdict: 'noise-dominated', sgd: acc(90), sgdm: acc(90.1), higherIsBetter: true }, // tie → agrees
    { batch: 256, verdict: 'borderline', sgd: acc(89), sgdm: acc(89.5), higherIsBetter: true }, // abstains
    { batch: 2048, verdict: 'curvature-limited', sgd: acc(80), sgdm: acc(86), higherIsBetter: true }, // momentum-better → agrees
    { batch: 4096, verdict: 'noise-dominated', sgd: acc(70), sgdm: acc(85), higherIsBetter: true }, // momentum-better → disagrees
  ]);
  assert.equal(r.decided, 3);
  assert.equal(r.abstained, 1);
  assert.equal(r.agreed, 2);
  assert.ok(Math.abs(r.rate - 2 / 3) < 1e-15);
  assert.deepEqual(r.disagreements.map((d) => d.batch), [4096]);
});
