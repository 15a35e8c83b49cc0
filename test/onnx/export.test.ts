/**
 * Engine models → ONNX files (src/core/onnx/export.ts), checked by running the files in onnxruntime (the
 * `onnxruntime-node` package, CPU) on fixed inputs: its float32 logits agree with the engine's float32 logits to
 * 1e-5 relative to the largest logit, the usual float32 tolerance for a few layers of sums in another order.
 * Reading a file back with `--model FILE.onnx` gives the same logits. PyTorch's files (scripts/gen_fixtures_onnx.py)
 * survive import → export → onnxruntime with PyTorch's logits. `train --save-onnx` writes a file that takes raw data.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseDataSpec } from '../../src/core/data/data-file.js';
import { float32Backend, type Backend } from '../../src/core/engine/backend.js';
import { Embedding, Sequential } from '../../src/core/engine/layers/index.js';
import { ParameterStore } from '../../src/core/engine/params.js';
import { buildModel, parseModelSpec, type Model } from '../../src/core/nn/models.js';
import { checkExportable, exportOnnx } from '../../src/core/onnx/export.js';
import { parseOnnx } from '../../src/core/onnx/proto.js';
import { UserError } from '../../src/core/util/errors.js';
import { Rng } from '../../src/core/util/rng.js';
import { loadUserData } from '../../src/node/data/user-data.js';
import { encodeNpy } from '../../src/node/data/npy.js';
import { encodeNpz } from '../../src/node/data/npz.js';
import { installNodeHost } from '../../src/node/host.js';
import { openKernels } from '../../src/node/kernels.js';
import { repoRoot } from '../helpers.js';

const fixtures = join(repoRoot(), 'test', 'fixtures', 'onnx');
const main = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'mlab-onnx-export-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
installNodeHost();

let backend: Backend | null = null;
async function f32(): Promise<Backend> {
  backend ??= float32Backend((await openKernels({ threads: 1 })).kernels);
  return backend;
}

/** n fixed samples in the kernels' memory: sin of the flat index, so every input value differs. */
function inputs(be: Backend, n: number, shape: readonly number[]): Float32Array {
  const x = be.alloc(n * shape.reduce((a, b) => a * b, 1)) as Float32Array;
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(0.37 * i + 0.1);
  return x;
}

async function onnxruntimeLogits(bytes: Uint8Array, x: Float32Array, shape: readonly number[]): Promise<Float32Array> {
  const runner = await ort.InferenceSession.create(bytes);
  const n = x.length / shape.reduce((a, b) => a * b, 1);
  const out = await runner.run({ input: new ort.Tensor('float32', Float32Array.from(x), [n, ...shape]) });
  const logits = out.logits!;
  assert.deepEqual(logits.dims, [n, logits.dims[1]]);
  return logits.data as Float32Array;
}

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * scale, `${what}[${i}]: ${got[i]} vs ${want[i]} (scale ${scale})`);
}

/** Three plain gradient steps, so that weights and BatchNorm's running statistics are no longer their initial values. */
function perturb(m: Model, x: Float32Array, n: number): void {
  const labels = Int32Array.from({ length: n }, (_, i) => i % m.classes);
  for (let k = 0; k < 3; k++) {
    m.lossAndGrad(x, labels, n);
    const p = m.store.params, g = m.store.grads;
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - 0.1 * g[i]!;
  }
}

const MODELS: [string, Record<string, unknown>, number[], boolean][] = [
  // name, spec, sample shape, whether the file reads back (the transformer's attention has no importer form)
  ['mlp (tanh, dropout)', { kind: 'mlp', hidden: [16, 8], activation: 'tanh', dropout: 0.2 }, [1, 6, 6], true],
  ['mlp (GELU)', { kind: 'mlp', hidden: [8], activation: 'gelu' }, [5], true],
  ['cnn with max pooling', { kind: 'cnn', channels: [3, 4], dense: 8 }, [2, 10, 10], true],
  ['resnet8 (BatchNorm, residual sums, global pooling)', { kind: 'resnet', depth: 8, width: 4 }, [3, 8, 8], true],
  ['transformer', { kind: 'transformer', patch: 2, dim: 8, heads: 2, layers: 1 }, [1, 4, 4], false],
  ['causal transformer', { kind: 'transformer', patch: 2, dim: 8, heads: 2, layers: 1, causal: true }, [2, 4, 6], false],
];

for (const [name, raw, shape, readsBack] of MODELS) {
  test(`export ${name}: onnxruntime's logits within 1e-5 of the engine's${readsBack ? ', and --model FILE.onnx reads them back' : ''}`, async () => {
    const be = await f32(), n = 6;
    const m = buildModel(parseModelSpec(raw), { inShape: shape, classes: 3, seed: 7, backend: be });
    m.setup(n);
    const x = inputs(be, n, shape);
    perturb(m, x, n);
    const ours = Float32Array.from(m.forward(x, n, false));
    const bytes = exportOnnx(m.net);
    const model = parseOnnx(bytes, 'exported.onnx');
    assert.equal(model.opsets.get(''), 17);
    assert.deepEqual(model.graph.inputs.map((v) => v.shape), [['batch', ...shape]]);
    assert.deepEqual(model.graph.outputs.map((v) => [v.name, v.shape]), [['logits', ['batch', 3]]]);
    assert.ok(!model.graph.nodes.some((node) => node.opType === 'Dropout'), 'an eval-mode graph');
    close('onnxruntime logits', await onnxruntimeLogits(bytes, x, shape), ours);
    if (!readsBack) return;
    const file = join(dir, `${raw.kind as string}-${shape.join('x')}.onnx`);
    writeFileSync(file, bytes);
    const back = buildModel(parseModelSpec(file), { inShape: shape, classes: 3, seed: 0, backend: be });
    assert.equal(back.store.size, m.store.size, 'the same parameter count');
    back.setup(n);
    close('re-imported logits', back.forward(x, n, false), ours);
  });
}

test('PyTorch\'s files survive import → export → onnxruntime with PyTorch\'s logits (1e-5)', async () => {
  const be = await f32();
  for (const name of ['mlp', 'cnn', 'residual', 'batchnorm', 'ln_gelu', 'ln_gelu_opset13', 'cnn_view', 'transpose', 'residual_stack', 'standardized', 'dropout']) {
    const fx = JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as { input_shape: number[]; x: number[]; logits: number[] };
    const m = buildModel(parseModelSpec(join(fixtures, `${name}.onnx`)), { inShape: fx.input_shape, classes: 3, seed: 0, backend: be });
    const x = Float32Array.from(fx.x);
    close(`${name}: onnxruntime logits of the re-exported file vs PyTorch`, await onnxruntimeLogits(exportOnnx(m.net), x, fx.input_shape), fx.logits);
  }
});

test('a layer without an ONNX form is refused in one line naming it', () => {
  const be = float32Backend();
  const ctx = { store: new ParameterStore(be), backend: be, rng: new Rng(0) };
  const net = new Sequential([new Embedding(ctx, 'tok', [4], 10, 3)]);
  assert.throws(() => checkExportable(net), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^layer embedding \[4\] → \[4, 3\] cannot be exported to ONNX \(exportable: linear, conv2d, /);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Two channels of different means and scales, so that standardisation changes every value. */
function twoChannelData(): string {
  const f32npy = (shape: number[], f: (i: number) => number): Uint8Array => {
    const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i));
    return encodeNpy('<f4', shape, new Uint8Array(v.buffer));
  };
  const i64npy = (n: number): Uint8Array => encodeNpy('<i8', [n], new Uint8Array(BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)).buffer));
  const pixel = (i: number): number => ((i % 200) < 100 ? 10 + 3 * Math.sin(i) : -2 + 0.5 * Math.cos(1.3 * i));
  const file = join(dir, 'two-channel.npz');
  writeFileSync(file, encodeNpz([
    { name: 'x_train', npy: f32npy([24, 2, 10, 10], pixel) }, { name: 'y_train', npy: i64npy(24) },
    { name: 'x_test', npy: f32npy([9, 2, 10, 10], (i) => pixel(i + 5)) }, { name: 'y_test', npy: i64npy(9) },
  ]));
  return file;
}

test('train --save-onnx with standardised inputs: the file takes raw data and gives the run\'s test loss (1e-5)', async () => {
  const data = twoChannelData(), file = join(dir, 'cnn-trained.onnx');
  const r = cli(['train', '--data', data, '--model', '{"kind":"cnn","channels":[3,4],"dense":8}', '--batch', '8', '--epochs', '2',
    '--lr', '0.05', '--threads', '1', '--json', '--save-onnx', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote .*cnn-trained\.onnx \(ONNX opset 17, input \[batch, 2, 10, 10\] raw, standardised in the graph, output logits \[batch, 3\]\)/);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { testLoss: number; inputs: { transform: string; mean: number[] } };
  assert.equal(result.inputs.transform, 'standardize');
  assert.equal(result.inputs.mean.length, 2);
  const ops = parseOnnx(readFileSync(file), file).graph.nodes.map((n) => n.opType);
  assert.deepEqual(ops.slice(0, 3), ['Mul', 'Add', 'Conv'], 'x·(1/std_c) − mean_c/std_c at the input');
  const test = loadUserData(parseDataSpec(data)).test;
  const logits = await onnxruntimeLogits(readFileSync(file), test.images, [2, 10, 10]);
  let loss = 0;
  for (let i = 0; i < test.n; i++) {
    const row = [...logits.subarray(3 * i, 3 * i + 3)], max = Math.max(...row);
    loss += Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max - row[test.labels[i]!]!;
  }
  close('test loss of the file on raw data vs the run\'s', [loss / test.n], [result.testLoss]);
  // The file reads back as a model that standardises raw data itself.
  const back = buildModel(parseModelSpec(file), { inShape: [2, 10, 10], classes: 3, seed: 0, backend: await f32() });
  back.setup(test.n);
  const raw = back.backend.alloc(test.images.length);
  raw.set(test.images);
  close('re-imported logits on raw data', back.forward(raw, test.n, false), logits);
});

test('train --save-onnx refuses an unwritable path before training, and writes nothing for a diverged run', () => {
  const data = join(fixtures, 'mlp_data.npz');
  const r = cli(['train', '--data', data, '--model', 'mlp', '--lr', '0.05', '--save-onnx', join(dir, 'missing', 'm.onnx')]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), `error: --save-onnx ${join(dir, 'missing', 'm.onnx')}: folder ${join(dir, 'missing')} does not exist; give another path`);
  const file = join(dir, 'diverged.onnx');
  const d = cli(['train', '--data', data, '--model', 'mlp', '--lr', '1e30', '--batch', '8', '--epochs', '1', '--threads', '1', '--save-onnx', file]);
  assert.equal(d.status, 3, d.stderr);
  assert.match(d.stderr, /--save-onnx .*diverged\.onnx: not written \(the run diverged\)/);
  assert.equal(existsSync(file), false);
});
