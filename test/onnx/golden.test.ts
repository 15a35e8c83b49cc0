/**
 * ONNX graphs from torch.onnx.export against PyTorch 1.13 (fixtures: scripts/gen_fixtures_onnx.py, Debian
 * python3-torch). The engine runs in float64 on the file's float32 weights, as PyTorch did after `.double()`, so
 * logits, loss and gradients agree to float64 rounding (1e-9 relative to each array's largest value) and the eval
 * loss after 3 full-batch SGDM steps (lr 0.05, β 0.9, PyTorch form) to 1e-9 as well.
 * Every file's opset and op types are listed in its .json (`ops`).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { float64Backend } from '../../src/core/engine/backend.js';
import { Scratch } from '../../src/core/engine/layers/index.js';
import { softmaxCrossEntropy } from '../../src/core/engine/loss.js';
import { ParameterStore } from '../../src/core/engine/params.js';
import { graphToNetwork } from '../../src/core/onnx/graph-to-model.js';
import { parseOnnx } from '../../src/core/onnx/proto.js';
import { initOptimizer, optimizerConfig, optimizerStep } from '../../src/core/optim/sgd.js';
import { Rng } from '../../src/core/util/rng.js';
import { repoRoot } from '../helpers.js';

interface Fixture {
  model: string; input_shape: number[]; classes: number; x: number[]; y: number[]; logits: number[]; loss: number;
  grads: Record<string, number[]>; lr: number; momentum: number; steps: number; loss_after: number; ops: string[];
}

export const fixtureDir = join(repoRoot(), 'test', 'fixtures', 'onnx');
const NAMES = ['mlp', 'cnn', 'residual', 'batchnorm', 'ln_gelu', 'ln_gelu_opset13', 'cnn_view', 'transpose', 'residual_stack', 'standardized'];

function close(what: string, got: ArrayLike<number>, want: readonly number[], tol = 1e-9): void {
  assert.equal(got.length, want.length, `${what}: length`);
  // A gradient that is zero in exact arithmetic (a bias before a BatchNorm) is float64 rounding noise (~1e-17), so the scale is at least 1e-6.
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol * scale, `${what}[${i}]: ${got[i]} vs PyTorch ${want[i]} (scale ${scale})`);
  }
}

for (const name of NAMES) {
  test(`onnx ${name}: logits, loss, gradients and 3 SGDM steps match PyTorch`, () => {
    const fx = JSON.parse(readFileSync(join(fixtureDir, `${name}.json`), 'utf8')) as Fixture;
    const file = join(fixtureDir, fx.model);
    const backend = float64Backend();
    const store = new ParameterStore(backend);
    const ctx = { store, backend, rng: new Rng(1), scratch: new Scratch(backend) };
    const { net, bindings } = graphToNetwork(parseOnnx(readFileSync(file), file), file, fx.input_shape, fx.classes, ctx);
    store.finalize(new Rng(2));
    net.needsInputGrad = false;
    const n = fx.y.length, K = fx.classes;
    net.setup(n);
    const x = Float64Array.from(fx.x), labels = Int32Array.from(fx.y);
    close('logits', net.forward(x, n, false), fx.logits);

    const dlogits = new Float64Array(n * K);
    const lossAndGrad = (): number => {
      store.zeroGrad();
      const loss = softmaxCrossEntropy(net.forward(x, n, true), labels, n, K, dlogits);
      net.backward(dlogits, n);
      return loss;
    };
    close('loss', [lossAndGrad()], [fx.loss]);
    assert.deepEqual(Object.keys(fx.grads).sort(), bindings.map((b) => b.initializer).sort(), 'every trainable initializer is a parameter');
    for (const b of bindings) {
      let g: ArrayLike<number> = b.param.grad;
      if (b.transposed) {
        const [O, I] = b.param.shape as [number, number];
        const t = new Float64Array(O * I);
        for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[i * O + o] = b.param.grad[o * I + i]!;
        g = t;
      }
      close(`grad ${b.initializer}`, g, fx.grads[b.initializer]!);
    }

    const cfg = optimizerConfig({ lr: fx.lr, momentum: fx.momentum });
    const state = initOptimizer(cfg, store.size);
    // As the generator does: each step runs its own train-mode forward (BatchNorm's running statistics move 1 + 3 times).
    for (let k = 0; k < fx.steps; k++) {
      lossAndGrad();
      optimizerStep(cfg, store.params, store.grads, state);
    }
    close('eval loss after 3 SGDM steps', [softmaxCrossEntropy(net.forward(x, n, false), labels, n, K, null)], [fx.loss_after]);
  });
}

test('onnx dropout (a training-mode export): eval logits match PyTorch; in training it drops, and the advisor\'s twin does not', () => {
  const fx = JSON.parse(readFileSync(join(fixtureDir, 'dropout.json'), 'utf8')) as { model: string; input_shape: number[]; p: number; x: number[]; logits: number[]; ops: string[] };
  assert.ok(fx.ops.includes('Dropout'));
  const file = join(fixtureDir, fx.model);
  const n = fx.logits.length / 3, x = Float64Array.from(fx.x);
  const forward = (dropout: boolean, train: boolean): number[] => {
    const backend = float64Backend();
    const store = new ParameterStore(backend);
    const { net } = graphToNetwork(parseOnnx(readFileSync(file), file), file, fx.input_shape, 3, { store, backend, rng: new Rng(5) }, dropout);
    store.finalize(new Rng(6));
    net.setup(n);
    return [...net.forward(x, n, train)];
  };
  close('eval logits', forward(true, false), fx.logits);
  close('train logits without dropout', forward(false, true), fx.logits);
  // 4 samples × 8 hidden units each dropped with p = 0.25: the chance that no unit of any sample is dropped is 0.75³² ≈ 1e-4.
  assert.notDeepEqual(forward(true, true), fx.logits);
});
