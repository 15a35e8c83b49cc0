/**
 * `eval`: the test loss and accuracy of a model — a `train --checkpoint` file, an ONNX file or a built-in spec's seeded
 * initialisation — computed as the training loop computes them (`Trainer.evaluate`): eval mode, batches of the run's
 * size, the input transform applied while each batch is gathered. A checkpoint therefore gives the numbers its run
 * printed, bit for bit, on the same kernels and thread count.
 */
import { readFileSync } from 'node:fs';
import { float32Backend } from '../core/engine/backend.js';
import { channelsOf, type Dataset, type Split } from '../core/data/dataset.js';
import { gatherBatch } from '../core/data/splits.js';
import { channelStats, identityStats, standardization, type ChannelStats } from '../core/data/transforms.js';
import { buildModel, parseModelSpec, type ModelSpec } from '../core/nn/models.js';
import { UserError } from '../core/util/errors.js';
import { Rng } from '../core/util/rng.js';
import { openKernels } from '../node/kernels.js';
import { loadCheckpoint } from './checkpoint.js';
import { trainSignature } from './train-checkpoint.js';

/** A model ready to evaluate: its spec, the weights to load (none: the seeded initialisation) and its input transform. */
export interface EvalModel {
  spec: ModelSpec;
  /** Seed of the initialisation (as a training run of this seed draws it); irrelevant when `params` is given. */
  seed: number;
  params?: Float32Array | Float64Array;
  /** Non-trainable state (BatchNorm running statistics), in the model's `stateBuffers` order. */
  state?: (Float32Array | Float64Array)[];
  /** 'standardize' with the statistics to apply, or 'raw' (the data exactly as given). */
  inputs: { transform: 'standardize' | 'raw'; stats: ChannelStats };
  /** Samples per forward pass: the training batch for a checkpoint, so the loss sums in the run's order. */
  batch: number;
  /** Where the statistics came from, for the user: 'checkpoint', 'recomputed' or 'data'. */
  statsFrom: 'checkpoint' | 'recomputed' | 'data';
}

export interface EvalResult { loss: number; accuracy: number; examples: number }

const MAGIC = 'MLCKPT01';

/** Whether `file` begins as a momentum-lab checkpoint does. */
export function isCheckpointFile(file: string): boolean {
  try {
    return readFileSync(file).subarray(0, MAGIC.length).toString('latin1') === MAGIC;
  } catch {
    return false;
  }
}

/** The training run a `train --checkpoint` file records (its `run` key: the run's flags as canonical JSON). */
interface RunRecord { model: unknown; batch: number; seed: number; inputs?: 'standardize' | 'raw'; dataset?: string }

function runRecord(meta: Record<string, unknown>, what: string): RunRecord {
  let run: unknown = null;
  try {
    run = typeof meta.run === 'string' ? JSON.parse(meta.run) : null;
  } catch { /* refused below */ }
  const r = run as Partial<RunRecord> | null;
  if (r === null || typeof r !== 'object' || r.model === undefined || typeof r.batch !== 'number' || typeof r.seed !== 'number') {
    throw new UserError(`${what} records no training run (model, batch, seed); eval reads the checkpoints that 'train --checkpoint FILE' writes`);
  }
  return r as RunRecord;
}

function savedStats(v: unknown, channels: number): ChannelStats | null {
  if (v === null || typeof v !== 'object') return null;
  const { mean, std } = v as { mean?: unknown; std?: unknown };
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === channels && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  return ok(mean) && ok(std) ? { mean, std } : null;
}

/** The model of a `train --checkpoint` file, checked against `data` (input shape and classes). */
export function checkpointModel(file: string, data: Dataset): EvalModel {
  const what = `checkpoint ${file}`;
  const ck = loadCheckpoint(file);
  const run = runRecord(ck.meta, what);
  const spec = parseModelSpec(run.model, `${what}: model`);
  if (ck.signature !== trainSignature(spec, data.shape, data.classes)) {
    throw new UserError(`${what} is of a ${spec.kind} model for other inputs or classes than ${data.name} (${data.shape.join('×')}, ${data.classes} classes)`);
  }
  const params = ck.buffers.params;
  if (!(params instanceof Float32Array || params instanceof Float64Array)) throw new UserError(`${what} holds no float parameters`);
  const count = typeof ck.meta.modelStateCount === 'number' ? ck.meta.modelStateCount : 0;
  const state = Array.from({ length: count }, (_, i) => {
    const b = ck.buffers[`model.state.${i}`];
    if (!(b instanceof Float32Array || b instanceof Float64Array)) throw new UserError(`${what} lacks model state buffer ${i}`);
    return b;
  });
  const C = channelsOf(data.shape);
  const transform = run.inputs ?? 'standardize';
  let stats: ChannelStats;
  let statsFrom: EvalModel['statsFrom'];
  if (transform === 'raw') {
    stats = identityStats(C);
    statsFrom = 'checkpoint';
  } else {
    const saved = savedStats(ck.meta.inputs, C);
    if (saved !== null) {
      stats = saved;
      statsFrom = 'checkpoint';
    } else {
      // A checkpoint without its input statistics: they are the per-channel mean/std of the run's training split,
      // recomputed here from the data given, which must therefore be the run's own data.
      if (run.dataset !== undefined && run.dataset !== data.name) {
        throw new UserError(`${what} carries no input statistics; they are recomputed from the training split of its data ${run.dataset}, so give that data (got ${data.name})`);
      }
      stats = channelStats(data.train, C);
      statsFrom = 'recomputed';
    }
  }
  return { spec, seed: run.seed, params, state, inputs: { transform, stats }, batch: run.batch, statsFrom };
}

/** Loss, accuracy and example count of `m` on `split` (eval mode), on a private kernel set. */
export async function evaluateModel(m: EvalModel, data: Dataset, split: Split, opts: { threads?: number } = {}): Promise<EvalResult> {
  if (split.n === 0) throw new UserError(`${data.name} has an empty test split; there is nothing to evaluate`);
  const { kernels, owned } = await openKernels(opts.threads !== undefined ? { threads: opts.threads } : {});
  try {
    const backend = float32Backend(kernels);
    // The model's seed is the root generator's first draw, as in a training run of `m.seed`.
    const model = buildModel(m.spec, { inShape: data.shape, classes: data.classes, seed: new Rng(m.seed).nextU32(), backend });
    if (m.params !== undefined) {
      if (m.params.length !== model.store.size) throw new UserError(`the checkpoint has ${m.params.length} parameters but the model has ${model.store.size}`);
      model.store.params.set(m.params);
    }
    if (m.state !== undefined) {
      const bufs = model.net.stateBuffers();
      if (m.state.length !== bufs.length || m.state.some((b, i) => b.length !== bufs[i]!.length)) throw new UserError(`the checkpoint's state buffers do not fit the model's ${bufs.length}`);
      bufs.forEach((b, i) => b.set(m.state![i]!));
    }
    const C = channelsOf(data.shape);
    const transform = m.inputs.transform === 'standardize' ? standardization(m.inputs.stats, model.inputSize / C, 'divide') : null;
    model.setup(m.batch);
    const cap = model.capacity;
    const x = backend.alloc(cap * model.inputSize);
    const labels = new Int32Array(cap);
    const rows = new Int32Array(cap);
    let lossSum = 0, correct = 0;
    for (let s = 0; s < split.n; s += cap) {
      const n = Math.min(cap, split.n - s);
      for (let i = 0; i < n; i++) rows[i] = s + i;
      gatherBatch(split, rows, n, x, labels, transform);
      const r = model.evaluate(x, labels, n);
      lossSum += r.lossSum;
      correct += r.correct;
    }
    return { loss: lossSum / split.n, accuracy: correct / split.n, examples: split.n };
  } finally {
    if (owned) kernels.dispose();
  }
}
