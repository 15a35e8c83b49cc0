// The runner's divergence rule in the engine: a non-finite loss, or (with divergenceFactor) a loss above
// factor × the first step's loss, stops the run cleanly with diverged: true and the step.
import test from 'node:test';
import assert from 'node:assert/strict';
import { float32Backend } from '../../src/core/engine/backend.js';
import { openKernels } from '../../src/node/kernels.js';
import { parseModelSpec } from '../../src/core/nn/models.js';
import { syntheticDataset } from '../../src/core/data/synthetic.js';
import { trainOnData, type TrainConfig } from '../../src/core/nn/train.js';
import { optimizerConfig } from '../../src/core/optim/index.js';

const data = syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 640, test: 200, seed: 3 });

test('divergenceFactor stops at the first loss above factor × the step-0 loss, before it turns non-finite', async () => {
  const backend = float32Backend((await openKernels()).kernels);
  const base: TrainConfig = { model: parseModelSpec({ kind: 'mlp', hidden: [32] }), optimizer: optimizerConfig({ lr: 50, momentum: 0.9 }), batch: 32, epochs: 2, seed: 1 };
  const losses: number[] = [];
  const plain = trainOnData(base, data, { backend, hooks: { onStep: (s) => losses.push(s.loss) } });
  assert.equal(plain.diverged, true, 'lr 50 must blow up');
  // The first step whose loss exceeds 2 × losses[0] is where the factor-2 run must stop (it has the same losses up to there).
  const expected = losses.findIndex((l) => l > 2 * losses[0]!);
  assert.ok(expected > 0 && expected < plain.divergedAtStep!, `a finite spike precedes the NaN (spike at ${expected}, NaN at ${plain.divergedAtStep})`);
  const r = trainOnData({ ...base, divergenceFactor: 2 }, data, { backend });
  assert.equal(r.diverged, true);
  assert.equal(r.divergedAtStep, expected);
});
