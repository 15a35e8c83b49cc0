// `eval --model M --data D`: a train checkpoint gives the test loss and accuracy its run printed, bit for bit (with
// the input statistics it carries, or recomputed for a checkpoint without them); an ONNX file gives PyTorch's loss
// (fixtures: scripts/gen_fixtures_onnx.py); a built-in spec gives its seeded initialisation's; bad input is one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/experiments/checkpoint.js';
import { Trainer } from '../../src/core/nn/trainer.js';
import { optimizerConfig } from '../../src/core/optim/index.js';
import { parseDataSpec } from '../../src/core/data/data-file.js';
import { loadUserData } from '../../src/node/data/user-data.js';
import { openKernels } from '../../src/node/kernels.js';
import { float32Backend } from '../../src/core/engine/backend.js';
import { readFixture, repoRoot } from '../helpers.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const fixtures = join(repoRoot(), 'test', 'fixtures', 'onnx');
const npz = join(fixtures, 'mlp_data.npz');
const dir = mkdtempSync(join(tmpdir(), 'mlab-eval-'));

function cliRun(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

interface Evaluated { loss: number; accuracy: number; examples: number }

function evalJson(args: string[]): Evaluated {
  const r = cliRun(['eval', ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = lastJson<Evaluated>(r.stdout);
  assert.deepEqual(Object.keys(out), ['loss', 'accuracy', 'examples']);
  return out;
}

/** Trains with `--checkpoint` and returns the checkpoint's path and the run's final `--json` numbers. */
function trainWithCheckpoint(name: string, extra: string[]): { ckpt: string; testLoss: number; testAccuracy: number } {
  const ckpt = join(dir, `${name}.ckpt`);
  const r = cliRun(['train', '--data', npz, '--lr', '0.05', '--batch', '8', '--epochs', '2', '--seed', '4', '--threads', '1', '--checkpoint', ckpt, '--json', ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const out = lastJson<{ testLoss: number; testAccuracy: number }>(r.stdout);
  return { ckpt, testLoss: out.testLoss, testAccuracy: out.testAccuracy };
}

test('eval of a train checkpoint gives the test loss and accuracy that train --json printed, bit for bit', () => {
  for (const [name, extra] of [['mlp', ['--model', 'mlp']], ['mlp-raw', ['--model', '{"kind":"mlp","hidden":[7]}', '--inputs', 'raw']]] as const) {
    const run = trainWithCheckpoint(name, [...extra]);
    const ck = loadCheckpoint(run.ckpt);
    const inputs = ck.meta.inputs as { transform: string; mean: number[]; std: number[] };
    assert.equal(inputs.transform, name === 'mlp' ? 'standardize' : 'raw');
    if (name === 'mlp-raw') assert.deepEqual({ mean: inputs.mean, std: inputs.std }, { mean: [0], std: [1] });
    const e = evalJson(['--model', run.ckpt, '--data', npz, '--threads', '1']);
    assert.equal(e.loss, run.testLoss);
    assert.equal(e.accuracy, run.testAccuracy);
    assert.equal(e.examples, 12); // mlp_data.npz: 12 test examples
  }
});

test('a checkpoint without its input statistics has them recomputed from the same data, and says so', () => {
  const run = trainWithCheckpoint('stats', ['--model', 'mlp']);
  const ck = loadCheckpoint(run.ckpt);
  delete ck.meta.inputs;
  const bare = join(dir, 'bare.ckpt');
  saveCheckpoint(bare, ck);
  const r = cliRun(['eval', '--model', bare, '--data', npz, '--threads', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /carries no input statistics; recomputed them from the training split of mlp_data\.npz/);
  const e = lastJson<Evaluated>(r.stdout);
  assert.equal(e.loss, run.testLoss);
  assert.equal(e.accuracy, run.testAccuracy);
  // Other data (same shape): the statistics cannot be recomputed from it.
  const other = join(dir, 'other.npz');
  copyFileSync(npz, other);
  const refused = cliRun(['eval', '--model', bare, '--data', other]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /^error: checkpoint \S+bare\.ckpt carries no input statistics; .* its data mlp_data\.npz, so give that data \(got other\.npz\)\n$/);
});

test('eval of mlp.onnx on its npz (the data as given) gives PyTorch\'s float32 test loss within 1e-5 relative', () => {
  const fx = readFixture<{ initial_test_loss: number }>('onnx', 'mlp_data.json');
  const e = evalJson(['--model', join(fixtures, 'mlp.onnx'), '--data', npz]);
  assert.equal(e.examples, 12);
  assert.ok(Math.abs(e.loss - fx.initial_test_loss) <= 1e-5 * fx.initial_test_loss, `loss ${e.loss} vs PyTorch ${fx.initial_test_loss}`);
});

test('eval of a built-in spec is the seeded initialisation a training run of that seed starts from', async () => {
  const e = evalJson(['--model', 'mlp', '--data', npz, '--seed', '5', '--batch', '24', '--threads', '1']);
  const data = loadUserData(parseDataSpec(npz, '--data'));
  const { kernels } = await openKernels({ threads: 1 });
  const t = new Trainer({ model: 'mlp', optimizer: optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9 }), data, batch: 24, seed: 5, backend: float32Backend(kernels) });
  const ref = t.evaluate(data.test);
  kernels.dispose();
  assert.equal(e.loss, ref.loss);
  assert.equal(e.accuracy, ref.accuracy);
});

test('bad eval input is one line with exit code 2', () => {
  const { ckpt } = trainWithCheckpoint('bad', ['--model', 'mlp']);
  const cases: [string[], RegExp][] = [
    [['eval', '--data', npz], /--model is required/],
    [['eval', '--model', 'mlp'], /name the data: --data FILE or --dataset NAME/],
    [['eval', '--model', 'mlp', '--data', npz, '--dataset', 'synthetic'], /give --data FILE or --dataset NAME, not both/],
    [['eval', '--model', join(dir, 'missing.ckpt'), '--data', npz], /--model \S+missing\.ckpt: no such file/],
    [['eval', '--model', join(repoRoot(), 'package.json'), '--data', npz], /is a file but neither a momentum-lab checkpoint .* nor an \.onnx model/],
    [['eval', '--model', ckpt, '--dataset', 'synthetic'], /checkpoint \S+ is of a mlp model for other inputs or classes than synthetic \(1×28×28, 10 classes\)/],
    [['eval', '--model', ckpt, '--data', npz, '--inputs', 'raw'], /--inputs does not apply to a checkpoint/],
    [['eval', '--model', join(fixtures, 'bad_op.onnx'), '--data', npz], /bad_op\.onnx: node \S+ \(Abs\) is not supported/],
    [['eval', '--model', 'mlpp', '--data', npz], /unknown model "mlpp"/],
    [['eval', '--model', 'mlp', '--data', npz, '--batch', '0'], /--batch must be ≥ 1, got 0/],
    [['eval', '--model', 'mlp', '--data', join(dir, 'none.npz')], /none\.npz: no such file/],
  ];
  for (const [args, expect] of cases) {
    const r = cliRun(args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, expect);
    assert.equal(r.stdout, '');
  }
});
