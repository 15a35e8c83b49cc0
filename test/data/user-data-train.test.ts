// Training on users' data files: through the `train` CLI (exit codes, one-line errors) and, in process, the embedded
// MNIST digits written to an .npz train exactly as the built-in `mnist` dataset does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { loadDataset } from '../../src/node/data/load.js';
import { encodeNpy } from '../../src/node/data/npy.js';
import { encodeNpz } from '../../src/node/data/npz.js';
import { train } from '../../src/node/train.js';
import { optimizerConfig } from '../../src/core/optim/index.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const fixtures = join(repoRoot(), 'test', 'fixtures', 'data');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const tmp = mkdtempSync(join(tmpdir(), 'ml-user-train-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('train --data FILE.npz --json trains on the file and reports testLoss and testAccuracy', () => {
  const r = run(['train', '--data', join(fixtures, 'u8-nhwc.npz'), '--layout', 'nhwc', '--model', 'mlp', '--lr', '0.01',
    '--batch', '10', '--epochs', '2', '--inputs', 'raw', '--json', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { dataset: string; steps: number; testLoss: number; testAccuracy: number };
  assert.equal(out.dataset, 'u8-nhwc.npz');
  // 10 training samples, batch 10: one step per epoch
  assert.equal(out.steps, 2);
  assert.ok(Number.isFinite(out.testLoss) && out.testAccuracy >= 0 && out.testAccuracy <= 1);
});

test('train --data with a bad file: exit code 2, one line naming the file, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['--data', join(fixtures, 'bad', 'nan.npz')], /nan\.npz:x_train: NaN at sample 3/],
    [['--data', join(fixtures, 'bad', 'label-out-of-range.npz')], /y_test: label 2 at index 1 is out of range/],
    [['--data', join(fixtures, 'bad', 'truncated.npz')], /truncated\.npz: truncated archive/],
    [['--data', join(fixtures, 'bad', 'float16.npz')], /unsupported dtype '<f2'/],
    [['--data', join(fixtures, 'images')], /give --image-size HxW/],
    [['--data', join(fixtures, 'images'), '--image-size', '4by3'], /--image-size: must look like 32x32/],
    [['--layout', 'nhwc'], /--layout reads a --data file; give --data FILE too/],
    [['--data', join(fixtures, 'images'), '--image-size', '6x6', '--model', 'cnn'], /cnn needs images of at least 10×10 .* got 6×6/],
  ];
  for (const [args, re] of cases) {
    const r = run(['train', ...args, '--lr', '0.1', '--max-steps', '1']);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('the embedded MNIST digits saved as a user .npz train to the identical losses as --dataset mnist', async () => {
  const mnist = await loadDataset('mnist');
  const f32 = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const i64 = (a: Int32Array) => new Uint8Array(BigInt64Array.from(a, (v) => BigInt(v)).buffer);
  const file = join(tmp, 'mnist.npz');
  writeFileSync(file, encodeNpz([
    { name: 'x_train', npy: encodeNpy('<f4', [mnist.train.n, 1, 28, 28], f32(mnist.train.images)) },
    { name: 'y_train', npy: encodeNpy('<i8', [mnist.train.n], i64(mnist.train.labels)) },
    { name: 'x_test', npy: encodeNpy('<f4', [mnist.test.n, 1, 28, 28], f32(mnist.test.images)) },
    { name: 'y_test', npy: encodeNpy('<i8', [mnist.test.n], i64(mnist.test.labels)) },
  ], true));
  const config = { model: 'mlp', optimizer: optimizerConfig({ form: 'pytorch', lr: 0.05, momentum: 0.9 }), batch: 64, epochs: 1, seed: 3, maxSteps: 30, threads: 1, testLimit: 500 } as const;
  const builtIn = await train({ ...config, dataset: 'mnist' });
  const user = await train({ ...config, dataset: file });
  assert.equal(user.dataset, 'mnist.npz');
  assert.equal(builtIn.steps, 30);
  // same seed, same numbers: bit-identical, not merely close
  assert.equal(user.trainLoss, builtIn.trainLoss);
  assert.equal(user.testLoss, builtIn.testLoss);
  assert.equal(user.testAccuracy, builtIn.testAccuracy);
});

test('sweep with "data": FILE trains every run on it and evaluates its x_val/y_val as valid/*', () => {
  const config = join(tmp, 'sweep.json');
  writeFileSync(config, JSON.stringify({
    name: 'user-data', task: 'train',
    base: { params: { data: { file: join(fixtures, 'u8-nhwc.npz'), layout: 'nhwc' }, model: 'mlp', epochs: 1 }, optimizer: { lr: 0.01, momentum: 0.9 }, batchSize: 5 },
    grid: { lr: [0.01, 0.001] },
  }));
  const db = join(tmp, 'sweep.db');
  const r = run(['sweep', config, '--db', db, '--workers', '0', '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { counts: Record<string, number> }).counts, { done: 2 });
  const csv = run(['runs', 'export', db]);
  const tags = new Set(csv.stdout.trim().split('\n').slice(1).map((l) => l.split(',').at(-4)));
  assert.deepEqual([...tags].sort(), ['train/loss', 'valid/accuracy', 'valid/loss']);
});

test('sweep and advise refuse a bad data file with exit code 2 and write no results store', () => {
  const config = join(tmp, 'bad-sweep.json');
  writeFileSync(config, JSON.stringify({
    task: 'train', base: { params: { data: join(fixtures, 'bad', 'label-negative.npz'), epochs: 1 }, optimizer: { lr: 0.01 }, batchSize: 2 },
  }));
  const db = join(tmp, 'bad.db');
  const r = run(['sweep', config, '--db', db, '--workers', '0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^error: .*label-negative\.npz:y_train: label -1 at index 2 is out of range \(negative\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(existsSync(db), false);
  const adv = join(tmp, 'bad-advise.json');
  writeFileSync(adv, JSON.stringify({ model: 'mlp', data: join(fixtures, 'bad', 'empty-test.npz'), batch: 2, lr: 0.01, momentum: 0.9 }));
  const a = run(['advise', adv]);
  assert.equal(a.status, 2, a.stderr);
  assert.match(a.stderr.trim(), /empty-test\.npz:x_test: the test split is empty \(0 samples\)$/);
  writeFileSync(adv, JSON.stringify({ model: 'mlp', data: 'x.npz', dataset: 'mnist', batch: 2, lr: 0.01, momentum: 0.9 }));
  assert.match(run(['advise', adv]).stderr, /give "dataset" \(a built-in\) or "data" \(your file\), not both/);
});

test('advise with "data": FILE probes the model on the file', () => {
  const adv = join(tmp, 'advise.json');
  writeFileSync(adv, JSON.stringify({ model: 'mlp', data: join(fixtures, 'f32-nchw.npz'), batch: 4, lr: 0.01, momentum: 0.9, epochs: 1 }));
  const r = run(['advise', adv, '--probe-steps', '2', '--checkpoints', '1', '--seeds', '1', '--lanczos-steps', '3', '--threads', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { problem: string; recommendation: string; config: { data: { file: string } } };
  assert.match(out.problem, /^f32-nchw\.npz \/ mlp/);
  assert.equal(out.config.data.file, join(fixtures, 'f32-nchw.npz'));
  assert.match(out.recommendation, /momentum/);
});

test('paper --data FILE checks the file before it writes anything', () => {
  const out = join(tmp, 'paper');
  const bad = run(['paper', '--quick', '--data', join(fixtures, 'bad', 'nan.npz'), '--out', out]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr.trim(), /^error: .*nan\.npz:x_train: NaN at sample 3 \(flat index 14\)/);
  assert.equal(existsSync(join(out, 'runs.db')), false);
  // f32-nchw.npz has 3 classes: the 0–4 / 5–9 fine-tuning split cannot be made from it
  const few = run(['paper', '--quick', '--data', join(fixtures, 'f32-nchw.npz'), '--out', out]);
  assert.equal(few.status, 2, few.stderr);
  assert.match(few.stderr, /f32-nchw\.npz: the fine-tuning part splits classes 0–4 from 5–9, the file has 3 classes; add --skip fine-tuning/);
  assert.match(run(['paper', '--data', 'cifar10', '--out', out]).stderr, /--data must be mnist, fashion-mnist or a data file path/);
});
