/**
 * `--model FILE.onnx` wherever a model is named: the float32 engine (WASM kernels) on the file's weights, `train`
 * against PyTorch's float32 full-batch SGDM on the same data, and a sweep whose runs go to a worker thread
 * (fixtures: scripts/gen_fixtures_onnx.py).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32Backend } from '../../src/core/engine/backend.js';
import { buildModel, modelFamily, parseModelSpec } from '../../src/core/nn/models.js';
import { installNodeHost } from '../../src/node/host.js';
import { openKernels } from '../../src/node/kernels.js';
import { repoRoot } from '../helpers.js';

const fixtures = join(repoRoot(), 'test', 'fixtures', 'onnx');
const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'mlab-onnx-cli-'));

function run(args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('parseModelSpec of a .onnx name builds the file\'s network: float32 logits within 1e-5 of PyTorch\'s', async () => {
  installNodeHost();
  for (const name of ['cnn', 'ln_gelu']) {
    const fx = JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as { input_shape: number[]; x: number[]; y: number[]; logits: number[] };
    const spec = parseModelSpec(join(fixtures, `${name}.onnx`));
    assert.deepEqual(spec, { kind: 'onnx', file: join(fixtures, `${name}.onnx`), dropout: true });
    assert.deepEqual(modelFamily(spec).hvpTwin(spec), { ...spec, dropout: false }); // the advisor's deterministic twin
    const m = buildModel(spec, { inShape: fx.input_shape, classes: 3, seed: 0, backend: float32Backend((await openKernels({ threads: 1 })).kernels) });
    m.setup(fx.y.length);
    const x = m.backend.alloc(fx.x.length);
    x.set(fx.x);
    const logits = m.forward(x, fx.y.length, false);
    const scale = Math.max(...fx.logits.map(Math.abs));
    fx.logits.forEach((v, i) => assert.ok(Math.abs(logits[i]! - v) <= 1e-5 * scale, `${name} logit ${i}: ${logits[i]} vs PyTorch ${v}`));
  }
});

test('train --model mlp.onnx --inputs raw with a full batch: test loss after 3 SGDM steps within 1e-5 of PyTorch float32', () => {
  const fx = JSON.parse(readFileSync(join(fixtures, 'mlp_data.json'), 'utf8')) as { batch: number; lr: number; momentum: number; steps: number; test_loss: number };
  const out = run(['train', '--model', join(fixtures, 'mlp.onnx'), '--data', join(fixtures, 'mlp_data.npz'), '--inputs', 'raw',
    '--batch', String(fx.batch), '--epochs', String(fx.steps), '--lr', String(fx.lr), '--momentum', String(fx.momentum), '--threads', '1', '--json']);
  const r = JSON.parse(out.trim().split('\n').pop()!) as { parameters: number; steps: number; testLoss: number; model: unknown };
  assert.equal(r.parameters, 12 * 10 + 10 + 10 * 3 + 3);
  assert.equal(r.steps, 3);
  assert.ok(Math.abs(r.testLoss - fx.test_loss) <= 1e-5 * fx.test_loss, `test loss ${r.testLoss} vs PyTorch ${fx.test_loss}`);
});

test('a sweep config with model: FILE.onnx runs SGD and SGDM in a worker thread', () => {
  const cfg = join(dir, 'sweep.json');
  writeFileSync(cfg, JSON.stringify({
    task: 'train',
    base: { params: { data: join(fixtures, 'mlp_data.npz'), model: join(fixtures, 'mlp.onnx'), epochs: 1 }, batchSize: 8, optimizer: { lr: 0.05 } },
    grid: { form: ['sgd', 'pytorch'], momentum: [0.9] },
  }));
  const r = JSON.parse(run(['sweep', cfg, '--db', join(dir, 'r.db'), '--workers', '1', '--json']).trim().split('\n').pop()!) as { counts: Record<string, number> };
  assert.deepEqual(r.counts, { done: 2 });
});
