import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareFamily, pairBySeed, summarize } from '../../src/experiments/paper/stats.js';
import { median } from '../../src/core/util/stats.js';

test('summarize: mean and sample std (n − 1)', () => {
  // values 1, 2, 3, 4: mean 2.5, Σ(x−m)² = 5, std = √(5/3) = 1.2910
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-15);
  assert.equal(summarize([7]).std, 0);
});

test('pairBySeed keeps the seeds both optimisers ran, in seed order', () => {
  const p = pairBySeed(new Map([[2, 0.8], [0, 0.9], [5, 0.7]]), new Map([[0, 0.91], [2, 0.82], [3, 0.6]]));
  assert.deepEqual(p, { seeds: [0, 2], sgd: [0.9, 0.8], sgdm: [0.91, 0.82] });
});

test('compareFamily on the sleep data (Student 1908): paired t p = 0.002833, CI [−2.4599, −0.7001]; Holm doubles p in a family of two', () => {
  // R: t.test(extra ~ group, data = sleep, paired = TRUE); here "SGD" is drug 2 and "SGDM" drug 1, so diff = −1.58.
  const sleep = { seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], sgd: [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4], sgdm: [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0] };
  const [c] = compareFamily([sleep], 0.5);
  assert.ok(Math.abs(c!.pValue - 0.002833) < 5e-7);
  assert.ok(Math.abs(c!.ci95[0] - -2.4598858) < 5e-8 && Math.abs(c!.ci95[1] - -0.7001142) < 5e-8);
  assert.equal(c!.outcome, 'different');
  // A tie (all differences 0) as the other member: sorted p's 0.002833·2, then 1·1.
  const tie = { seeds: [1, 2], sgd: [1, 2], sgdm: [1, 2] };
  const [a, b] = compareFamily([sleep, tie], 0.5);
  assert.ok(Math.abs(a!.pHolm - 2 * 0.0028328) < 1e-6, String(a!.pHolm));
  assert.equal(b!.pHolm, 1);
  assert.equal(b!.outcome, 'equivalent');
});

test('one seed cannot be tested: inconclusive with the single difference recorded', () => {
  const [c] = compareFamily([{ seeds: [0], sgd: [0.9], sgdm: [0.95] }]);
  assert.equal(c!.outcome, 'inconclusive');
  assert.ok(Math.abs(c!.diff - 0.05) < 1e-15);
  assert.ok(Number.isNaN(c!.pValue));
});

test('median of timed rounds: the middle one, the upper middle for an even count, NaN for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 3);
  assert.equal(median([5]), 5);
  assert.ok(Number.isNaN(median([])));
  const rounds = [9, 7, 8];
  median(rounds);
  assert.deepEqual(rounds, [9, 7, 8]);
});
