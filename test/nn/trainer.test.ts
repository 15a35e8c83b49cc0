// The Trainer and the paths built on it reproduce, to the last bit, numbers recorded from the training loop, the
// advisor's engine probe and the T5 probe as they were before they shared one Trainer, sampler and standardisation
// (reference float32 kernels, so the numbers do not depend on the WebAssembly build).
import test from 'node:test';
import assert from 'node:assert/strict';
import { float32Backend } from '../../src/core/engine/backend.js';
import { syntheticDataset } from '../../src/core/data/synthetic.js';
import { parseModelSpec } from '../../src/core/nn/models.js';
import { trainOnData } from '../../src/core/nn/train.js';
import { Trainer } from '../../src/core/nn/trainer.js';
import { optimizerConfig } from '../../src/core/optim/index.js';
import { engineProblem, linearRegressionProblem, runProbe } from '../../src/core/advisor/probe.js';

const data = syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 640, test: 200, seed: 3, noise: 1.5 });
const sgdm = optimizerConfig({ lr: 0.1, momentum: 0.9 });
const mlp = parseModelSpec({ kind: 'mlp', hidden: [32] });

test('trainOnData: MLP on synthetic data, 2 epochs of 20 steps (recorded numbers)', () => {
  const r = trainOnData({ model: mlp, optimizer: sgdm, batch: 32, epochs: 2, seed: 4 }, data, { backend: float32Backend() });
  assert.equal(r.testLoss, 1.1160586037044526);
  assert.equal(r.trainLoss, 0.8895907530287899);
  assert.equal(r.testAccuracy, 0.565);
  assert.deepEqual(r.history.map((h) => h.testLoss), [1.0210068969925665, 1.1160586037044526]);
  // the standardisation constants: float64 mean and population std of the 640·64 training pixels
  assert.deepEqual(r.inputs, { transform: 'standardize', mean: [0.5065707777634068], std: [0.4543867337722851] });
});

test('trainOnData: SVAG ℓ = 2 doubles the steps (recorded numbers)', () => {
  const r = trainOnData({ model: mlp, optimizer: sgdm, batch: 32, epochs: 1, seed: 4, svag: 2 }, data, { backend: float32Backend() });
  assert.equal(r.steps, 40);
  assert.equal(r.testLoss, 1.1289424774099563);
  assert.equal(r.trainLoss, 1.1481839168233754);
});

test('a Trainer stepped by hand gives trainOnData\'s losses, evaluation and parameters', () => {
  const losses: number[] = [];
  let params: number[] = [];
  const r = trainOnData({ model: mlp, optimizer: sgdm, batch: 32, epochs: 1, seed: 9 }, data, {
    backend: float32Backend(), hooks: { onStep: (s) => losses.push(s.loss), onFinish: (p) => { params = Array.from(p); } },
  });
  const t = new Trainer({ model: mlp, optimizer: sgdm, data, batch: 32, seed: 9, epochs: 1, backend: float32Backend() });
  const mine: number[] = [];
  while (!t.done) mine.push(t.step().loss);
  assert.equal(t.stepsTaken, 20);
  assert.deepEqual(mine, losses);
  assert.deepEqual(Array.from(t.model.store.params), params);
  assert.equal(t.evaluate(data.test).loss, r.testLoss);
  // restore() of a copied snapshot rewinds the run
  const t2 = new Trainer({ model: mlp, optimizer: sgdm, data, batch: 32, seed: 9, epochs: 1, backend: float32Backend() });
  for (let k = 0; k < 7; k++) t2.step();
  const s = structuredClone(t2.snapshot());
  const next = t2.step().loss;
  t2.restore(s);
  assert.equal(t2.step().loss, next);
  assert.equal(next, losses[7]);
});

test('advisor probe on an engine MLP: λ_max and the coupled losses (recorded numbers)', () => {
  const problem = engineProblem({ model: parseModelSpec({ kind: 'mlp', hidden: [16] }), data, seed: 5, backend: float32Backend(), maxBatch: 32, measureSamples: 32 });
  const p = runProbe(problem, { steps: 12, batch: 32, optimizer: sgdm, checkpoints: 2, lanczosSteps: 5, microbatches: 4, seed: 5, shadowSgd: true });
  assert.equal(p.lambdaMax, 1.1446489505910817);
  assert.equal(p.initialEvalLoss, 1.3993714355958136);
  assert.equal(p.evalLoss, 1.2339747847767408);
  assert.equal(p.sgdShadow?.evalLoss, 1.1601011531549315);
  assert.equal(p.sgdShadowLower?.evalLoss, 1.212634613155196);
});

test('T5 linear-regression probe: λ_max of (1/n)XᵀX is 10, noise and coupled losses (recorded numbers)', () => {
  const l = runProbe(linearRegressionProblem({ seed: 1 }), { steps: 50, batch: 16, optimizer: optimizerConfig({ lr: 0.01, momentum: 0.9 }), checkpoints: 2, seed: 1 });
  assert.equal(l.lambdaMax, 10.000000296047418);
  assert.equal(l.evalLoss, 1.2514365359598962);
  assert.equal(l.sgdShadow?.evalLoss, 0.776863071146843);
  assert.equal(l.noise?.traceSigma, 156.84643402780506);
});
