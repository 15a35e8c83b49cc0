// Checkpoint/resume of the training loop: a run continued from any snapshot ends bit-identical to an uninterrupted
// one — parameters, momentum buffer, BatchNorm statistics, dropout generators, data order and the reported losses.
import test from 'node:test';
import assert from 'node:assert/strict';
import { float32Backend } from '../../src/core/engine/backend.js';
import { openKernels } from '../../src/node/kernels.js';
import { parseModelSpec } from '../../src/core/nn/models.js';
import { syntheticDataset } from '../../src/core/data/synthetic.js';
import { trainOnData, type TrainConfig, type TrainSnapshot } from '../../src/core/nn/train.js';
import { optimizerConfig } from '../../src/core/optim/index.js';
import { checkpointToSnapshot, snapshotToCheckpoint } from '../../src/experiments/train-checkpoint.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../../src/experiments/checkpoint.js';
import { UserError } from '../../src/core/util/errors.js';

const data = syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 640, test: 200, seed: 3 });

/** A deep copy through the real file encoding, as a killed process would read it back. */
function throughFile(s: TrainSnapshot): TrainSnapshot {
  return checkpointToSnapshot(decodeCheckpoint(encodeCheckpoint(snapshotToCheckpoint(s, 'sig'))));
}

for (const [name, model, opt] of [
  ['MLP, heavy-ball SGDM with step decay', { kind: 'mlp', hidden: [32] }, optimizerConfig({ lr: 0.1, momentum: 0.9, schedule: { kind: 'multistep', milestones: [25], gamma: 0.1 } })],
  // The masks after the snapshot come from the restored generator; a fresh one would repeat the first steps' masks.
  ['MLP with dropout 0.3, heavy-ball SGDM', { kind: 'mlp', hidden: [32], dropout: 0.3 }, optimizerConfig({ lr: 0.1, momentum: 0.9 })],
  ['ResNet with BatchNorm, normalised SGDM, SVAG ℓ = 2', { kind: 'resnet', depth: 8, width: 4 }, optimizerConfig({ form: 'normalized', lr: 0.5, momentum: 0.9 })],
] as const) {
  test(`resume from a mid-run snapshot is bit-identical: ${name}`, async () => {
    const backend = float32Backend((await openKernels()).kernels);
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

/** The checkpoint of a 2-epoch run (40 steps) at step 21, through the file format, with its meta editable. */
function checkpointAt21(model: object): { config: TrainConfig; meta: Record<string, unknown>; data: CheckpointData } {
  const config: TrainConfig = { model: parseModelSpec(model), optimizer: optimizerConfig({ lr: 0.1, momentum: 0.9 }), batch: 32, epochs: 2, seed: 4, checkpointEvery: 7 };
  const found: CheckpointData[] = [];
  trainOnData(config, data, { backend: float32Backend(), hooks: { onCheckpoint: (s) => { if (s.step === 21) found.push(decodeCheckpoint(encodeCheckpoint(snapshotToCheckpoint(s, 'sig')))); } } });
  return { config, meta: found[0]!.meta, data: found[0]! };
}

test('a checkpoint stores one generator state per dropout layer, as six plain numbers', () => {
  // {"hidden":[32, 16]} has a dropout layer after each hidden layer: two generators; sfc32's a, b, c, d, spare flag, spare.
  const { meta } = checkpointAt21({ kind: 'mlp', hidden: [32, 16], dropout: 0.3 });
  const g = meta['generatorStates'] as number[][];
  assert.equal(g.length, 2);
  for (const st of g) { assert.equal(st.length, 6); assert.ok(st.every((v) => typeof v === 'number')); }
  assert.deepEqual(checkpointAt21({ kind: 'mlp', hidden: [32] }).meta['generatorStates'], []);
});

test('a checkpoint without generator states resumes a model without dropout, and is refused for one with dropout', () => {
  // Checkpoints written before generator states were saved have no meta.generatorStates.
  const plain = checkpointAt21({ kind: 'mlp', hidden: [32] });
  delete plain.meta['generatorStates'];
  const ref = trainOnData(plain.config, data, { backend: float32Backend() });
  const resumed = trainOnData({ ...plain.config, resume: checkpointToSnapshot(plain.data) }, data, { backend: float32Backend() });
  assert.equal(resumed.testLoss, ref.testLoss);
  assert.equal(resumed.trainLoss, ref.trainLoss);

  const drop = checkpointAt21({ kind: 'mlp', hidden: [32], dropout: 0.3 });
  delete drop.meta['generatorStates'];
  const snap = checkpointToSnapshot(drop.data);
  assert.throws(() => trainOnData({ ...drop.config, resume: snap }, data, { backend: float32Backend() }),
    (e: unknown) => e instanceof UserError && /no generator states/.test(e.message) && /dropout/.test(e.message) && !e.message.includes('\n'));
  // A snapshot of another model (one generator too many) is refused as the other mismatches are.
  const other = checkpointAt21({ kind: 'mlp', hidden: [32], dropout: 0.3 });
  (other.meta['generatorStates'] as number[][]).push([1, 2, 3, 4, 0, 0]);
  assert.throws(() => trainOnData({ ...other.config, resume: checkpointToSnapshot(other.data) }, data, { backend: float32Backend() }),
    (e: unknown) => e instanceof UserError && /the snapshot is of another model/.test(e.message));
  // Malformed states are refused when the file is read.
  drop.meta['generatorStates'] = [[1, 2, 'x', 4, 0, 0]];
  assert.throws(() => checkpointToSnapshot(drop.data, 'checkpoint f.ckpt'), (e: unknown) => e instanceof UserError && /^checkpoint f\.ckpt has malformed generatorStates/.test(e.message));
});
