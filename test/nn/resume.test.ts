// Checkpoint/resume of the training loop: a run continued from any snapshot ends bit-identical to an uninterrupted
// one — parameters, momentum buffer, BatchNorm statistics, data order and the reported losses.
import test from 'node:test';
import assert from 'node:assert/strict';
import { float32Backend } from '../../src/engine/backend.js';
import { getKernels } from '../../src/engine/kernels/index.js';
import { parseModelSpec } from '../../src/nn/models.js';
import { syntheticDataset, trainOnData, type TrainConfig, type TrainSnapshot } from '../../src/nn/train.js';
import { optimizerConfig } from '../../src/optim/index.js';
import { checkpointToSnapshot, snapshotToCheckpoint } from '../../src/experiments/train-checkpoint.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/experiments/checkpoint.js';

const data = syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 640, test: 200, seed: 3 });

/** A deep copy through the real file encoding, as a killed process would read it back. */
function throughFile(s: TrainSnapshot): TrainSnapshot {
  return checkpointToSnapshot(decodeCheckpoint(encodeCheckpoint(snapshotToCheckpoint(s, 'sig'))));
}

for (const [name, model, opt] of [
  ['MLP, heavy-ball SGDM with step decay', { kind: 'mlp', hidden: [32] }, optimizerConfig({ lr: 0.1, momentum: 0.9, schedule: { kind: 'multistep', milestones: [25], gamma: 0.1 } })],
  ['ResNet with BatchNorm, normalised SGDM, SVAG ℓ = 2', { kind: 'resnet', depth: 8, width: 4 }, optimizerConfig({ form: 'normalized', lr: 0.5, momentum: 0.9 })],
] as const) {
  test(`resume from a mid-run snapshot is bit-identical: ${name}`, async () => {
    const backend = float32Backend(await getKernels());
    const svag = name.includes('SVAG') ? 2 : 1;
    const config: TrainConfig = { model: parseModelSpec(model), optimizer: opt, batch: 32, epochs: 2, seed: 4, svag, checkpointEvery: 7 };
    const snaps: TrainSnapshot[] = [];
    const losses: number[] = [];
    const full = trainOnData(config, data, { backend, hooks: { onStep: (s) => losses.push(s.loss), onCheckpoint: (s) => snaps.push(throughFile(s)) } });
    // 40·ℓ steps, a snapshot every 7 steps and one at the end.
    assert.equal(snaps.length, Math.floor((40 * svag) / 7) + ((40 * svag) % 7 === 0 ? 0 : 1));
    const mid = snaps[Math.floor(snaps.length / 2)]!;
    const rest: number[] = [];
    let finalParams: Float32Array | Float64Array | null = null;
    const resumed = trainOnData({ ...config, resume: mid }, data, { backend, hooks: { onStep: (s) => rest.push(s.loss), onFinish: (p) => { finalParams = Float32Array.from(p); } } });
    assert.deepEqual(rest, losses.slice(mid.step), 'losses after the snapshot');
    assert.equal(resumed.testLoss, full.testLoss);
    assert.equal(resumed.trainLoss, full.trainLoss);
    assert.deepEqual(resumed.history.map((h) => h.testLoss), full.history.map((h) => h.testLoss));
    assert.deepEqual(Array.from(finalParams!), Array.from(snaps[snaps.length - 1]!.params));
  });
}
