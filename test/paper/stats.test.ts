import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, differenceNoise, summarize } from '../../src/experiments/paper/stats.js';

test('summarize: mean and sample std (n − 1)', () => {
  // values 1, 2, 3, 4: mean 2.5, Σ(x−m)² = 5, std = √(5/3) = 1.2910
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-15);
  assert.equal(summarize([7]).std, 0);
});

test('differenceNoise is 2 standard errors of the difference, floored', () => {
  // std 0.02 and 0.01 over 4 seeds each: SE = √(0.0004/4 + 0.0001/4) = 0.01118; 2·SE = 0.02236
  const a = { mean: 0.9, std: 0.02, n: 4 };
  const b = { mean: 0.91, std: 0.01, n: 4 };
  assert.ok(Math.abs(differenceNoise(a, b, 0) - 2 * Math.sqrt(0.0001 + 0.000025)) < 1e-15);
  assert.equal(differenceNoise({ mean: 1, std: 0, n: 1 }, { mean: 1, std: 0, n: 1 }, 0.005), 0.005);
  assert.equal(compare(a, b, 0).outcome, 'same');
  assert.equal(compare(a, { mean: 0.95, std: 0.01, n: 4 }, 0).outcome, 'b-higher');
});
