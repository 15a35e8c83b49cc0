import { float32Backend } from '../../core/engine/backend.js';
import { benchTrain } from '../../core/nn/bench.js';
import type { EpochMetrics, StepInfo, TrainHooks, TrainResult } from '../../core/nn/train.js';
import { train, type NodeTrainConfig as TrainConfig } from '../../node/train.js';
import { parseModelSpec } from '../../core/nn/models.js';
import { optimizerConfig, parseSchedule, type OptimizerForm } from '../../core/optim/index.js';
import { UserError, check } from '../../core/util/errors.js';
import { checkSeed } from '../../core/util/rng.js';
import { checkJsonDepth } from '../../core/util/limits.js';
import type { Command } from '../command.js';
import type { FlagValues } from '../args.js';
import { existsSync } from 'node:fs';
import { loadDataset } from '../../node/data/load.js';
import { loadUserData } from '../../node/data/user-data.js';
import { DATA_FILE_FLAGS, dataFileSpec } from './data-file-flags.js';
import { datasetNames } from '../../core/data/registry.js';
import { channelsOf } from '../../core/data/dataset.js';
import { channelStats, identityStats } from '../../core/data/transforms.js';
import { canonicalJson, loadCheckpoint, saveCheckpoint } from '../../experiments/index.js';
import { checkpointToSnapshot, snapshotToCheckpoint, trainSignature } from '../../experiments/train-checkpoint.js';
import { openKernels } from '../../node/kernels.js';
import { checkOutputFile } from '../../node/output-paths.js';
import { planOnnxExport } from '../../node/onnx.js';

function parseJsonFlag(raw: string, flag: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UserError(`--${flag} must be JSON, e.g. '{"kind":"multistep","milestones":[900],"gamma":0.1}', got '${raw}'`);
  }
  checkJsonDepth(value, `--${flag}`);
  return value;
}

/** A --model value: JSON when it looks like an object, else a name (or a file). */
export function modelArg(raw: string): unknown {
  return raw.trim().startsWith('{') ? parseJsonFlag(raw, 'model') : raw;
}

export const trainCommand: Command = {
  path: ['train'],
  summary: 'train a model (mlp, cnn, resnet20/32, transformer) with SGD or SGDM and report test accuracy',
  usage: 'momentum-lab train --dataset fashion-mnist --model mlp --optimizer sgdm --lr 0.05 --momentum 0.9 --batch 128 --epochs 3 --seed 0 [--json]',
  positionals: 0,
  flags: {
    dataset: { kind: 'string', help: `a registered dataset: ${datasetNames().join(', ')} (synthetic: random prototypes, for smoke tests)`, default: 'fashion-mnist' },
    'data-dir': { kind: 'string', help: 'folder holding the dataset files' },
    ...DATA_FILE_FLAGS,
    'cache-dir': { kind: 'string', help: 'folder for downloads and the decoded cache' },
    model: { kind: 'string', help: 'mlp, cnn, resnet20, resnet32, transformer, a FILE.onnx from torch.onnx.export, or a JSON spec like {"kind":"mlp","hidden":[512]}', default: 'mlp' },
    optimizer: { kind: 'string', help: 'sgd (no momentum) or sgdm', choices: ['sgd', 'sgdm'], default: 'sgdm' },
    form: { kind: 'string', help: 'SGDM form: pytorch (lr = γ) or normalized (lr = η, EMA momentum) or keras', choices: ['pytorch', 'normalized', 'keras'], default: 'pytorch' },
    lr: { kind: 'number', help: 'learning rate (γ, or η with --form normalized)' },
    momentum: { kind: 'number', help: 'β for sgdm (default 0.9)' },
    nesterov: { kind: 'boolean', help: 'Nesterov momentum' },
    'weight-decay': { kind: 'number', help: 'coupled L2 weight decay', default: 0 },
    schedule: { kind: 'string', help: 'JSON learning-rate schedule in steps, e.g. {"kind":"cosine","total":1400}' },
    svag: { kind: 'int', help: 'SVAG level ℓ: two batches per step, lr/ℓ, steps ×ℓ', default: 1 },
    batch: { kind: 'int', help: 'minibatch size', default: 128 },
    epochs: { kind: 'int', help: 'passes over the training set (×ℓ steps under SVAG)', default: 3 },
    seed: { kind: 'int', help: 'seed for initialisation and data order', default: 0 },
    threads: { kind: 'int', threads: true, help: 'kernel threads (default: all cores)' },
    'max-steps': { kind: 'int', help: 'stop after this many steps (smoke tests)' },
    inputs: { kind: 'string', help: 'standardize (per-channel mean/std of the train split) or raw (the data exactly as given; [0, 1] pixels for the built-in datasets)', choices: ['standardize', 'raw'], default: 'standardize' },
    json: { kind: 'boolean', help: 'print one JSON object with the results at the end' },
    checkpoint: { kind: 'string', help: 'checkpoint file: written atomically every --checkpoint-every steps and at the end' },
    'checkpoint-every': { kind: 'int', help: 'steps between checkpoints (with --checkpoint)', default: 100 },
    resume: { kind: 'boolean', help: 'continue from --checkpoint if it exists (same flags required); bit-identical to an uninterrupted run' },
    'init-from': { kind: 'string', help: 'start from the weights of a checkpoint of the same model (fine-tuning)' },
    'save-onnx': { kind: 'string', help: 'write the trained model as an ONNX file for PyTorch/onnxruntime (takes raw data: a standardisation is in the graph)' },
  },
  async run(flags) {
    if (flags.lr === undefined) throw new UserError('--lr is required (e.g. --lr 0.05)');
    if (typeof flags.checkpoint === 'string') checkOutputFile(flags.checkpoint, '--checkpoint');
    checkSeed(flags.seed as number, '--seed');
    const sgd = flags.optimizer === 'sgd';
    if (sgd) check(flags.momentum === undefined || flags.momentum === 0, '--momentum', 'plain SGD has no momentum; use --optimizer sgdm');
    const schedule = flags.schedule === undefined ? undefined : parseSchedule(parseJsonFlag(flags.schedule as string, 'schedule'), '--schedule');
    const optimizer = optimizerConfig({
      form: sgd ? 'sgd' : (flags.form as OptimizerForm),
      lr: flags.lr as number,
      momentum: sgd ? 0 : ((flags.momentum as number | undefined) ?? 0.9),
      nesterov: flags.nesterov === true,
      weightDecay: flags['weight-decay'] as number,
      ...(schedule !== undefined ? { schedule } : {}),
    });
    const file = dataFileSpec(flags);
    const dataset = file === null ? (flags.dataset as string) : loadUserData(file);
    const config: TrainConfig = {
      dataset,
      // parsed before the dataset loads, so a bad model name is a one-line error at once
      model: parseModelSpec(modelArg(flags.model as string), '--model'),
      optimizer,
      batch: flags.batch as number,
      epochs: flags.epochs as number,
      seed: flags.seed as number,
      svag: flags.svag as number,
      inputs: flags.inputs as 'standardize' | 'raw',
      ...(flags['data-dir'] !== undefined ? { dataDir: flags['data-dir'] as string } : {}),
      ...(flags['cache-dir'] !== undefined ? { cacheDir: flags['cache-dir'] as string } : {}),
      ...(flags.threads !== undefined ? { threads: flags.threads as number } : {}),
      ...(flags['max-steps'] !== undefined ? { maxSteps: flags['max-steps'] as number } : {}),
    };
    const progress = progressReporter(process.stderr.isTTY === true);
    const ckpt = await checkpointOptions(flags, config);
    const onnx = await planOnnxExport(flags['save-onnx'] as string | undefined, { ...config, ...ckpt.config });
    const t0 = performance.now();
    const result = await train({ ...config, ...ckpt.config, ...onnx.config }, { ...progress.hooks, ...ckpt.hooks, ...onnx.hooks });
    progress.done();
    const wall = (performance.now() - t0) / 1000;
    const wrote = onnx.write(result);
    if (wrote !== null) process.stderr.write(wrote + '\n');
    if (flags.json === true) {
      process.stdout.write(JSON.stringify({ ...result, wallSeconds: wall, peakRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
    } else {
      process.stdout.write(summary(result, wall) + '\n');
    }
    return result.diverged ? 3 : 0;
  },
};

/**
 * --checkpoint / --resume / --init-from: snapshots in the checkpoint format of src/experiments (atomic write, checksum,
 * model signature). The run's flags are stored with the snapshot so --resume refuses a checkpoint of another run.
 */
async function checkpointOptions(flags: FlagValues, config: TrainConfig): Promise<{ config: Partial<TrainConfig>; hooks: TrainHooks }> {
  const file = flags.checkpoint as string | undefined;
  const from = flags['init-from'] as string | undefined;
  if (file === undefined && from === undefined) {
    if (flags.resume === true) throw new UserError('--resume needs --checkpoint FILE');
    return { config: {}, hooks: {} };
  }
  if (flags.resume === true && from !== undefined) throw new UserError('give --resume or --init-from, not both');
  const every = flags['checkpoint-every'] as number;
  if (!(every >= 1)) throw new UserError(`--checkpoint-every must be ≥ 1, got ${every}`);
  const data = typeof config.dataset === 'string'
    ? await loadDataset(config.dataset, { ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }), ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }) })
    : config.dataset!;
  const model = typeof config.model === 'string' ? parseModelSpec(config.model) : config.model;
  const signature = trainSignature(model, data.shape, data.classes);
  const { dataset: _d, threads: _t, ...identity } = config;
  const runKey = canonicalJson({ ...identity, dataset: data.name });
  const out: Partial<TrainConfig> = { dataset: data };
  if (from !== undefined) {
    const ck = loadCheckpoint(from, { expectSignature: signature });
    out.initParams = ck.buffers.params as Float32Array;
    const states = Object.keys(ck.buffers).filter((k) => k.startsWith('model.state.')).length;
    if (states > 0) out.initState = Array.from({ length: states }, (_, i) => ck.buffers[`model.state.${i}`] as Float32Array);
  }
  if (file !== undefined && flags.resume === true && existsSync(file)) {
    const ck = loadCheckpoint(file, { expectSignature: signature });
    if (ck.meta.run !== runKey) throw new UserError(`checkpoint ${file} was written by a run with other flags; resume with the same flags or pick another --checkpoint file`);
    out.resume = checkpointToSnapshot(ck, `checkpoint ${file}`);
    process.stderr.write(`resuming from step ${out.resume.step} of ${file}\n`);
  }
  if (file === undefined) return { config: out, hooks: {} };
  out.checkpointEvery = every;
  // The input transform the run trains with (the training split's statistics), so that eval applies the same one.
  const C = channelsOf(data.shape);
  const inputs = { transform: config.inputs, ...(config.inputs === 'raw' ? identityStats(C) : channelStats(data.train, C)) };
  return { config: out, hooks: { onCheckpoint: (snap) => saveCheckpoint(file, snapshotToCheckpoint(snap, signature, { run: runKey, inputs })) } };
}

function summary(r: TrainResult, wall: number): string {
  const lines = [
    `${r.dataset} ${r.model.kind} (${r.parameters} parameters, kernels ${r.kernels}), ${r.steps} steps of batch ${r.batch}${r.svag > 1 ? `, SVAG ℓ=${r.svag}` : ''}`,
    r.diverged
      ? `DIVERGED at step ${r.divergedAtStep} (non-finite loss); last train loss ${fmt(r.trainLoss)}`
      : `test accuracy ${(r.testAccuracy * 100).toFixed(2)}%  test loss ${fmt(r.testLoss)}  train loss ${fmt(r.trainLoss)}`,
    `${Math.round(r.samplesPerSec)} samples/s (training), ${wall.toFixed(1)} s wall`,
  ];
  return lines.join('\n');
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** A progress bar on a terminal (redrawn ≤ 10×/s), one plain line per epoch otherwise; both on stderr. */
function progressReporter(tty: boolean): { hooks: TrainHooks; done(): void } {
  let last = 0;
  const onEpoch = (m: EpochMetrics): void => {
    const acc = m.testAccuracy === null ? '' : `  test acc ${(m.testAccuracy * 100).toFixed(2)}%  test loss ${fmt(m.testLoss!)}`;
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}epoch ${m.epoch}  step ${m.step}  train loss ${fmt(m.trainLoss)}${acc}  (${m.seconds.toFixed(1)} s)\n`);
  };
  if (!tty) return { hooks: { onEpoch }, done: () => {} };
  const onStep = (i: StepInfo): void => {
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    const within = ((i.step % i.epochSteps) + 1) / i.epochSteps;
    const w = 30, f = Math.round(within * w);
    process.stderr.write(`\r\x1b[Kepoch ${i.epoch + 1} [${'#'.repeat(f)}${'-'.repeat(w - f)}] step ${i.step + 1}/${i.totalSteps}  loss ${fmt(i.loss)}`);
  };
  return { hooks: { onStep, onEpoch }, done: () => process.stderr.write('\r\x1b[K') };
}

export const benchTrainCommand: Command = {
  path: ['bench', 'train'],
  summary: 'training throughput (samples/s) of a model on random data of its input shape',
  usage: 'momentum-lab bench train --model mlp|cnn --batch 128 --steps 50 [--json]',
  positionals: 0,
  flags: {
    model: { kind: 'string', help: 'mlp, cnn, resnet20, resnet32, transformer or a JSON spec', default: 'mlp' },
    batch: { kind: 'int', help: 'minibatch size', default: 128 },
    steps: { kind: 'int', help: 'timed steps (after 3 warm-up steps)', default: 50 },
    threads: { kind: 'int', threads: true, help: 'kernel threads (default: all cores)' },
    input: { kind: 'string', help: 'input shape CxHxW of the random data, e.g. 3x32x32 for CIFAR-10', default: '1x28x28' },
    json: { kind: 'boolean', help: 'print {"samplesPerSec": …} as JSON' },
  },
  async run(flags) {
    check((flags.steps as number) >= 1, '--steps', 'must be ≥ 1');
    check((flags.batch as number) >= 1, '--batch', 'must be ≥ 1');
    const model = parseModelSpec(modelArg(flags.model as string), '--model');
    const inShape = (flags.input as string).split('x').map(Number);
    check(inShape.length === 3 && inShape.every((v) => Number.isInteger(v) && v > 0), '--input', `must look like 1x28x28, got '${flags.input as string}'`);
    const { kernels, owned } = await openKernels({ threads: flags.threads as number | undefined });
    try {
      const r = benchTrain({ model, batch: flags.batch as number, steps: flags.steps as number, inShape }, float32Backend(kernels));
      const out = { ...r, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
      process.stdout.write(flags.json === true ? JSON.stringify(out) + '\n' : `${model.kind}: ${Math.round(r.samplesPerSec)} samples/s (batch ${r.batch}, ${r.steps} steps, kernels ${r.kernels})\n`);
    } finally {
      if (owned) kernels.dispose();
    }
  },
};
