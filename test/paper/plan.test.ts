import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelLabel, paperPlan } from '../../src/experiments/paper/plan.js';
import { parseModelSpec } from '../../src/core/nn/models.js';

test('the full plan is the paper\'s protocol at CPU scale: B 32…≥4096, ≥3 final seeds, ℓ ∈ {1,2,4,8}, K ∈ {16,64,512}, five data seeds', () => {
  const p = paperPlan('full', 'fashion-mnist');
  assert.equal(p.batchSweep.batches[0], 32);
  assert.ok(p.batchSweep.batches[p.batchSweep.batches.length - 1]! >= 4096);
  assert.ok(p.batchSweep.finalSeeds.length >= 3);
  assert.equal(p.batchSweep.momentum, 0.9);
  assert.deepEqual(p.svag.levels, [1, 2, 4, 8]);
  assert.deepEqual(p.svag.decayAt, [0.5, 0.75]);
  assert.deepEqual(p.fineTune.shots, [16, 64, 512]);
  assert.deepEqual(p.fineTune.dataSeeds, [13, 21, 42, 87, 100]);
  assert.deepEqual(p.theory, ['stationary', 'weak-approx', 'coupling', 'slow-sde', 'svag', 'curvature-vs-noise']);
  // A CNN, as the paper's image experiments use, and a spec the engine accepts; every reduction against the paper is written down.
  for (const m of [p.batchSweep.model, p.svag.model, p.fineTune.model]) assert.equal(parseModelSpec(m).kind, 'cnn');
  assert.equal(modelLabel(p.batchSweep.model), 'cnn 16-32-128');
  assert.ok(p.reductions.length > 0 && p.reductions.some((r) => /3-epoch/.test(r)));
  // Unresolved ties get more seeds in stages: 3 → 8 → 16, every seed new.
  const all = [p.batchSweep.finalSeeds, ...p.batchSweep.extraSeeds];
  assert.deepEqual(all.map((x) => x.length).reduce<number[]>((acc, n) => [...acc, (acc[acc.length - 1] ?? 0) + n], []), [3, 8, 16]);
  assert.equal(new Set(all.flat()).size, 16);
});

test('the quick plan lists what it reduces', () => {
  const q = paperPlan('quick', 'mnist');
  assert.equal(modelLabel(q.batchSweep.model), 'mlp');
  assert.ok(q.reductions.length >= 5);
});
