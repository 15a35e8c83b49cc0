import { statSync } from 'node:fs';
import { channelsOf } from '../../core/data/dataset.js';
import { datasetNames } from '../../core/data/registry.js';
import { channelStats, identityStats } from '../../core/data/transforms.js';
import { parseModelSpec } from '../../core/nn/models.js';
import { UserError } from '../../core/util/errors.js';
import { checkSeed } from '../../core/util/rng.js';
import { checkpointModel, evaluateModel, isCheckpointFile, type EvalModel } from '../../experiments/evaluate.js';
import { loadDataset } from '../../node/data/load.js';
import { loadUserData } from '../../node/data/user-data.js';
import type { Command } from '../command.js';
import { DATA_FILE_FLAGS, dataFileSpec } from './data-file-flags.js';
import { modelArg } from './train.js';

/** What `--model` names: a checkpoint file, an ONNX file, or else a built-in spec (a name or JSON). */
function modelKind(raw: string): 'checkpoint' | 'onnx' | 'spec' {
  if (raw.trim().startsWith('{')) return 'spec';
  if (/\.onnx$/i.test(raw)) return 'onnx';
  let isFile = false;
  try { isFile = statSync(raw).isFile(); } catch { /* not a file: a spec, or a missing file */ }
  if (!isFile) {
    if (/[\\/]|\.(ckpt|pt|pth)$/i.test(raw)) throw new UserError(`--model ${raw}: no such file (a checkpoint from train --checkpoint FILE, a FILE.onnx, or a built-in model name)`);
    return 'spec';
  }
  if (isCheckpointFile(raw)) return 'checkpoint';
  throw new UserError(`--model ${raw} is a file but neither a momentum-lab checkpoint (train --checkpoint FILE) nor an .onnx model`);
}

export const evalCommand: Command = {
  path: ['eval'],
  summary: 'test loss and accuracy of a model on a dataset\'s test split: a train checkpoint, an ONNX file, or a built-in spec at its seeded initialisation',
  usage: 'momentum-lab eval --model CHECKPOINT|FILE.onnx|SPEC (--data FILE | --dataset NAME) [--seed N] [--inputs standardize|raw] [--batch N] [--json]',
  positionals: 0,
  flags: {
    model: { kind: 'string', help: 'a checkpoint written by train --checkpoint FILE (its weights and input transform), a FILE.onnx (its weights; the data as given), or a built-in model: mlp, cnn, resnet20, resnet32, transformer or a JSON spec' },
    dataset: { kind: 'string', help: `a registered dataset: ${datasetNames().join(', ')}` },
    'data-dir': { kind: 'string', help: 'folder holding the dataset files' },
    ...DATA_FILE_FLAGS,
    'cache-dir': { kind: 'string', help: 'folder for downloads and the decoded cache' },
    seed: { kind: 'int', help: 'a built-in spec: the seed of its initialisation (as train --seed draws it)', default: 0 },
    inputs: { kind: 'string', help: 'the input transform of an ONNX file or spec: standardize (the train split\'s per-channel mean/std) or raw (default for ONNX: the data as given; for a spec: standardize, as train); a checkpoint carries its own', choices: ['standardize', 'raw'] },
    batch: { kind: 'int', help: 'examples per forward pass (default: a checkpoint\'s training batch, else 128); only the last bits of the loss depend on it' },
    threads: { kind: 'int', threads: true, help: 'kernel threads (default: all cores)' },
    json: { kind: 'boolean', help: 'print exactly {"loss", "accuracy", "examples"} as JSON' },
  },
  async run(flags) {
    if (typeof flags.model !== 'string') throw new UserError('--model is required: a checkpoint file, a FILE.onnx or a built-in model (e.g. --model mlp)');
    const file = dataFileSpec(flags);
    if (file !== null && typeof flags.dataset === 'string') throw new UserError('give --data FILE or --dataset NAME, not both');
    if (file === null && typeof flags.dataset !== 'string') throw new UserError('name the data: --data FILE or --dataset NAME');
    checkSeed(flags.seed as number, '--seed');
    if (flags.batch !== undefined && (flags.batch as number) < 1) throw new UserError(`--batch must be ≥ 1, got ${String(flags.batch)}`);
    const kind = modelKind(flags.model);
    if (kind === 'checkpoint' && flags.inputs !== undefined) throw new UserError('--inputs does not apply to a checkpoint: it carries the transform its run trained with');
    // parsed before the data loads, so a bad model name is a one-line error at once
    const spec = kind === 'checkpoint' ? null : parseModelSpec(modelArg(flags.model), '--model');
    const data = file !== null ? loadUserData(file) : await loadDataset(flags.dataset as string, {
      ...(typeof flags['data-dir'] === 'string' ? { dataDir: flags['data-dir'] } : {}),
      ...(typeof flags['cache-dir'] === 'string' ? { cacheDir: flags['cache-dir'] } : {}),
    });
    let m: EvalModel;
    if (spec === null) {
      m = checkpointModel(flags.model, data);
      if (m.statsFrom === 'recomputed') process.stderr.write(`eval: ${flags.model} carries no input statistics; recomputed them from the training split of ${data.name}\n`);
    } else {
      const transform = (flags.inputs as 'standardize' | 'raw' | undefined) ?? (kind === 'onnx' ? 'raw' : 'standardize');
      const C = channelsOf(data.shape);
      m = { spec, seed: flags.seed as number, inputs: { transform, stats: transform === 'raw' ? identityStats(C) : channelStats(data.train, C) }, batch: 128, statsFrom: 'data' };
    }
    if (flags.batch !== undefined) m.batch = flags.batch as number;
    const r = await evaluateModel(m, data, data.test, flags.threads !== undefined ? { threads: flags.threads as number } : {});
    if (flags.json === true) {
      process.stdout.write(JSON.stringify({ loss: r.loss, accuracy: r.accuracy, examples: r.examples }) + '\n');
    } else {
      process.stdout.write(`${data.name} test split, ${r.examples} examples: loss ${r.loss.toFixed(4)}, accuracy ${(r.accuracy * 100).toFixed(2)}%\n`);
    }
    return 0;
  },
};
