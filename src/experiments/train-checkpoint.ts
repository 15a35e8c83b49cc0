/**
 * The training engine's snapshots (`TrainSnapshot`, src/nn/train.ts) in the checkpoint file format of
 * checkpoint.ts — shared by `train --checkpoint/--resume`, `train --init-from` and the sweep runner's `train` task.
 */
import { canonicalJson } from './config.js';
import { modelSignature, optimizerStateToCheckpoint, type CheckpointBuffer, type CheckpointData } from './checkpoint.js';
import type { EpochMetrics, TrainSnapshot } from '../core/nn/train.js';
import type { ModelSpec } from '../core/nn/models.js';
import type { BatchStreamState } from '../core/data/index.js';
import { UserError } from '../core/util/errors.js';

/** Architecture, input shape and class count fix every parameter shape; a checkpoint of anything else is refused. */
export function trainSignature(model: ModelSpec, inShape: readonly number[], classes: number): string {
  return modelSignature({ input: inShape }, canonicalJson({ model, classes }));
}

export function snapshotToCheckpoint(s: TrainSnapshot, signature: string, meta: Record<string, unknown> = {}): CheckpointData {
  const opt = optimizerStateToCheckpoint(s.optimizer);
  const buffers: Record<string, CheckpointBuffer> = { params: s.params, ...opt.buffers };
  s.modelState.forEach((b, i) => { buffers[`model.state.${i}`] = b; });
  return {
    signature,
    buffers,
    meta: {
      ...meta, ...opt.meta, step: s.step, stream: s.stream, history: s.history, modelStateCount: s.modelState.length,
      // Plain numbers: sfc32 words are 32-bit integers and the cached normal is a double, both exact in JSON.
      ...(s.generatorStates === undefined ? {} : { generatorStates: s.generatorStates.map((g) => [...g]) }),
      epochLossSum: s.epochLossSum, epochLossCount: s.epochLossCount, trainSeconds: s.trainSeconds, samples: s.samples,
      firstLoss: s.firstLoss,
    },
  };
}

export function checkpointToSnapshot(d: CheckpointData, what = 'checkpoint'): TrainSnapshot {
  const m = d.meta;
  const num = (k: string): number => {
    const v = m[k];
    if (typeof v !== 'number') throw new UserError(`${what} has no ${k}: not a training checkpoint (use --init-from for bare weights)`);
    return v;
  };
  const params = d.buffers.params;
  if (!(params instanceof Float32Array || params instanceof Float64Array)) throw new UserError(`${what} holds no float parameters`);
  const count = num('modelStateCount');
  const modelState = Array.from({ length: count }, (_, i) => {
    const b = d.buffers[`model.state.${i}`];
    if (!(b instanceof Float32Array || b instanceof Float64Array)) throw new UserError(`${what} lacks model state buffer ${i}`);
    return b;
  });
  const buf = d.buffers['optimizer.buffer'];
  // Absent in checkpoints written before generator states were saved: the engine accepts that for models without
  // random layers and refuses it for a model with dropout.
  const gen = m.generatorStates;
  if (gen !== undefined && !(Array.isArray(gen) && gen.every((g) => Array.isArray(g) && g.every((v) => typeof v === 'number' && Number.isFinite(v))))) {
    throw new UserError(`${what} has malformed generatorStates (expected arrays of numbers)`);
  }
  return {
    step: num('step'),
    params,
    modelState,
    ...(gen === undefined ? {} : { generatorStates: gen as number[][] }),
    optimizer: { step: num('optimizer.step'), buffer: buf instanceof Float32Array || buf instanceof Float64Array ? buf : null },
    stream: m.stream as BatchStreamState,
    history: m.history as EpochMetrics[],
    epochLossSum: num('epochLossSum'),
    epochLossCount: num('epochLossCount'),
    trainSeconds: num('trainSeconds'),
    samples: num('samples'),
    firstLoss: num('firstLoss'),
  };
}
