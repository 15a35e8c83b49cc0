import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelLabel, paperPlan } from '../../src/experiments/paper/plan.js';
import { warmupStepSchedule } from '../../src/experiments/paper/batch-size.js';
import { learningRateAt } from '../../src/core/optim/schedules.js';
import { budgetSteps } from '../../src/core/nn/trainer.js';
import { parseModelSpec } from '../../src/core/nn/models.js';

test('the full plan is the paper\'s protocol at CPU scale: B 32…2048, ≥3 final seeds, ℓ ∈ {1,2,4,8}, K ∈ {16,64,512}, five data seeds', () => {
  const p = paperPlan('full', 'fashion-mnist');
  assert.equal(p.batchSweep.batches[0], 32);
  assert.equal(p.batchSweep.batches[p.batchSweep.batches.length - 1], 2048);
  assert.ok(p.batchSweep.finalSeeds.length >= 3);
  assert.equal(p.batchSweep.momentum, 0.9);
  assert.equal(p.margin, 0.01);
  assert.deepEqual(p.svag.levels, [1, 2, 4, 8]);
  assert.deepEqual(p.svag.decayAt, [0.5, 0.75]);
  assert.deepEqual(p.fineTune.shots, [16, 64, 512]);
  assert.deepEqual(p.fineTune.dataSeeds, [13, 21, 42, 87, 100]);
  assert.deepEqual(p.theory, ['stationary', 'weak-approx', 'coupling', 'slow-sde', 'svag', 'curvature-vs-noise']);
  // A CNN, as the paper's image experiments use, and a spec the engine accepts; every reduction against the paper is written down.
  for (const m of [p.batchSweep.model, p.svag.model, p.fineTune.model]) assert.equal(parseModelSpec(m).kind, 'cnn');
  assert.equal(modelLabel(p.batchSweep.model), 'cnn 16-32-128');
  assert.ok(p.reductions.length > 0 && p.reductions.some((r) => /8-epoch/.test(r)));
  // Inconclusive comparisons get more seeds in stages: 3 → 8 → 16, every seed new.
  const all = [p.batchSweep.finalSeeds, ...p.batchSweep.extraSeeds];
  assert.deepEqual(all.map((x) => x.length).reduce<number[]>((acc, n) => [...acc, (acc[acc.length - 1] ?? 0) + n], []), [3, 8, 16]);
  assert.equal(new Set(all.flat()).size, 16);
  assert.ok(p.batchSweep.matched.seeds.length >= 3);
});

test('the full budget gives the largest batch at least 200 steps: Fashion-MNIST 60,000 − 5,000 held out, B = 2048, 8 epochs', () => {
  const p = paperPlan('full', 'fashion-mnist');
  const largest = p.batchSweep.batches[p.batchSweep.batches.length - 1]!;
  // ⌊55,000 / 2048⌋ = 26 steps per epoch × 8 = 208
  assert.equal(budgetSteps(60_000 - p.batchSweep.validation, largest, p.batchSweep.epochs), 208);
});

test('the full schedule: linear warm-up over 5%, then ×0.1 at 50% and 75% of the steps', () => {
  const s = warmupStepSchedule(208, paperPlan('full', 'fashion-mnist').batchSweep.schedule!);
  // warm-up round(0.05·208) = 10 steps: lr·(k+1)/10; decays at steps round(0.5·208) = 104 and round(0.75·208) = 156.
  assert.equal(learningRateAt(1, s, 0), 0.1);
  assert.equal(learningRateAt(1, s, 9), 1);
  assert.equal(learningRateAt(1, s, 103), 1);
  assert.ok(Math.abs(learningRateAt(1, s, 104) - 0.1) < 1e-15);
  assert.ok(Math.abs(learningRateAt(1, s, 155) - 0.1) < 1e-15);
  assert.ok(Math.abs(learningRateAt(1, s, 156) - 0.01) < 1e-15);
});

test('the quick plan lists what it reduces, keeps a constant lr and stops adding seeds at 8', () => {
  const q = paperPlan('quick', 'mnist');
  assert.equal(modelLabel(q.batchSweep.model), 'mlp');
  assert.ok(q.reductions.length >= 5);
  assert.equal(q.batchSweep.schedule, null);
  assert.equal(q.batchSweep.finalSeeds.length + q.batchSweep.extraSeeds.flat().length, 8);
});
