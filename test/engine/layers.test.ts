/**
 * Every layer's hand-written backward against central finite differences in float64 (see gradcheck.ts for the
 * tolerance argument), plus forward values derived by hand.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  AvgPool2d, BatchNorm, Conv2d, Dropout, Embedding, Flatten, GELU, GlobalAvgPool, LayerNorm, Linear, MaxPool2d,
  Patchify, PositionalEmbedding, ReLU, Residual, SelfAttention, Sequential, Tanh, TokenMeanPool, erf, erfFast,
} from '../../src/core/engine/layers/index.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../src/core/engine/loss.js';
import { float64Backend } from '../../src/core/engine/backend.js';
import { Rng } from '../../src/core/util/rng.js';
import { build64, checkGradients, randomBuf } from './gradcheck.js';

test('Linear: forward by hand and gradients (vector and token inputs)', () => {
  const b = build64((ctx) => new Linear(ctx, 'l', [2], 1));
  // W = [1, 2], b = 0.5, x = [3, 4] → y = 3 + 8 + 0.5 = 11.5
  b.store.params.set([1, 2, 0.5]);
  b.layer.setup(1);
  assert.equal(b.layer.forward(Float64Array.from([3, 4]), 1, true)[0], 11.5);
  checkGradients(build64((ctx) => new Linear(ctx, 'l', [5], 3)), 4);
  checkGradients(build64((ctx) => new Linear(ctx, 'l', [3, 5], 4, false)), 2);
});

test('Conv2d: stride, padding, pointwise and bias-free variants', () => {
  checkGradients(build64((ctx) => new Conv2d(ctx, 'c', [2, 6, 5], 3, 3)), 2);
  checkGradients(build64((ctx) => new Conv2d(ctx, 'c', [2, 7, 7], 3, 3, 2, 1, false)), 2);
  checkGradients(build64((ctx) => new Conv2d(ctx, 'c', [3, 4, 4], 2, 1)), 2);
  checkGradients(build64((ctx) => new Conv2d(ctx, 'c', [3, 5, 5], 2, 1, 2, 0, false)), 2);
});

test('pooling: max, average, global average', () => {
  const m = build64((ctx) => new MaxPool2d(ctx, [1, 2, 2], 2));
  m.layer.setup(1);
  // max of [1, 5, 3, 2] is 5
  assert.equal(m.layer.forward(Float64Array.from([1, 5, 3, 2]), 1, true)[0], 5);
  checkGradients(build64((ctx) => new MaxPool2d(ctx, [2, 6, 6], 2)), 2);
  checkGradients(build64((ctx) => new MaxPool2d(ctx, [2, 7, 7], 3, 2)), 2);
  checkGradients(build64((ctx) => new AvgPool2d(ctx, [2, 6, 6], 2)), 2);
  checkGradients(build64((ctx) => new GlobalAvgPool(ctx, [3, 4, 4])), 2);
});

test('BatchNorm: train-mode gradients (1d, 2d), eval mode, running statistics', () => {
  checkGradients(build64((ctx) => new BatchNorm(ctx, 'bn', [3, 4, 4])), 3);
  checkGradients(build64((ctx) => new BatchNorm(ctx, 'bn', [5])), 4);
  checkGradients(build64((ctx) => new BatchNorm(ctx, 'bn', [3, 2, 2])), 2, { train: false });
  // One channel, batch [1, 2, 3, 4]: mean 2.5, biased var 1.25, unbiased 5/3.
  // running_mean = 0.9·0 + 0.1·2.5 = 0.25; running_var = 0.9·1 + 0.1·5/3 = 1.0666…
  const b = build64((ctx) => new BatchNorm(ctx, 'bn', [1]));
  b.layer.setup(4);
  const y = b.layer.forward(Float64Array.from([1, 2, 3, 4]), 4, true);
  const [rm, rv] = b.layer.stateBuffers();
  assert.ok(Math.abs(rm![0]! - 0.25) < 1e-15);
  assert.ok(Math.abs(rv![0]! - (0.9 + 0.1 * 5 / 3)) < 1e-15);
  // y_0 = (1 − 2.5)/√(1.25 + 1e-5)
  assert.ok(Math.abs(y[0]! - (-1.5 / Math.sqrt(1.25 + 1e-5))) < 1e-14);
});

test('LayerNorm, activations, reshapes, token layers', () => {
  checkGradients(build64((ctx) => new LayerNorm(ctx, 'ln', [3, 6])), 2);
  checkGradients(build64((ctx) => new ReLU(ctx, [7])), 3);
  checkGradients(build64((ctx) => new Tanh(ctx, [7])), 3);
  checkGradients(build64((ctx) => new GELU(ctx, [9])), 3, { inputs: randomBuf(27, new Rng(3), 3) });
  checkGradients(build64((ctx) => new Flatten(ctx, [2, 3])), 2);
  checkGradients(build64((ctx) => new Patchify(ctx, [2, 4, 6], 2)), 2);
  checkGradients(build64((ctx) => new TokenMeanPool(ctx, [4, 3])), 2);
  checkGradients(build64((ctx) => new PositionalEmbedding(ctx, 'p', [4, 3])), 2);
  const ids = Float64Array.from([0, 3, 3, 1, 2, 0]);
  checkGradients(build64((ctx) => new Embedding(ctx, 'e', [3], 4, 5)), 2, { inputs: ids, checkInput: false });
});

test('erf matches tabulated values to 1e-15', () => {
  // Abramowitz & Stegun Table 7.1 / mpmath: erf(0.5), erf(1), erf(2), erf(3)
  const table: [number, number][] = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1, -0.8427007929497149]];
  for (const [x, e] of table) assert.ok(Math.abs(erf(x) - e) < 2e-15, `erf(${x}) = ${erf(x)} vs ${e}`);
  // The float32 path's erfFast: Numerical Recipes bounds its error by 1.2e-7 everywhere; check on a fine grid.
  for (let x = -7; x <= 7; x += 0.0007) assert.ok(Math.abs(erfFast(x) - erf(x)) < 1.2e-7, `erfFast(${x})`);
});

test('self-attention: causal and bidirectional, with several heads', () => {
  checkGradients(build64((ctx) => new SelfAttention(ctx, [4, 12], 2, true)), 2);
  checkGradients(build64((ctx) => new SelfAttention(ctx, [3, 6], 1, false)), 2);
  // Causal: the first token attends only to itself, so its output is its own v.
  const b = build64((ctx) => new SelfAttention(ctx, [2, 3], 1, true));
  b.layer.setup(1);
  const x = Float64Array.from([1, 2, 3, 4, 5, 6]); // token0: q=1,k=2,v=3; token1: q=4,k=5,v=6
  const y = b.layer.forward(x, 1, true);
  assert.equal(y[0], 3);
  // token1: scores 4·2 = 8 and 4·5 = 20 (scale 1), softmax weights 1/(1+e^12) and e^12/(1+e^12) on v = 3, 6
  const w = Math.exp(12) / (1 + Math.exp(12));
  assert.ok(Math.abs(y[1]! - (3 * (1 - w) + 6 * w)) < 1e-12);
});

test('residual add with identity and projection shortcuts', () => {
  checkGradients(build64((ctx) => new Residual(ctx, new Sequential([new Linear(ctx, 'a', [4], 4), new Tanh(ctx, [4])]), null)), 3);
  checkGradients(build64((ctx) => {
    const main = new Sequential([new Conv2d(ctx, 'c1', [2, 4, 4], 3, 3, 2, 1, false), new BatchNorm(ctx, 'bn', [3, 2, 2])]);
    const sc = new Sequential([new Conv2d(ctx, 'sc', [2, 4, 4], 3, 1, 2, 0, false)]);
    return new Residual(ctx, main, sc);
  }), 3);
  checkGradients(build64((ctx) => new Residual(ctx, new Sequential([new Linear(ctx, 'a', [5], 5)]), null, true)), 3);
});

test('dropout: eval is the identity, train keeps ≈(1−p) scaled by 1/(1−p), backward uses the same mask', () => {
  const b = build64((ctx) => new Dropout(ctx, [1000], 0.25));
  b.layer.setup(4);
  const x = new Float64Array(4000).fill(1);
  assert.equal(b.layer.forward(x, 4, false), x);
  const y = Float64Array.from(b.layer.forward(x, 4, true));
  const kept = y.filter((v) => v !== 0);
  // every kept value is 1/(1 − 0.25) = 4/3; the kept fraction is 0.75 ± 4σ with σ = √(0.75·0.25/4000) ≈ 0.0068
  assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-15));
  assert.ok(Math.abs(kept.length / 4000 - 0.75) < 0.03);
  const dx = b.layer.backward(x, 4);
  for (let i = 0; i < 4000; i++) assert.equal(dx[i], y[i]);
});

test('generators: containers collect each dropout layer\'s generator in layer order; a restored state repeats the masks', () => {
  // Residual(main: [Dropout, Linear, Dropout], shortcut: [Dropout]) inside a Sequential with one more: four generators.
  const b = build64((ctx) => new Sequential([
    new Residual(ctx, new Sequential([new Dropout(ctx, [6], 0.5), new Linear(ctx, 'l', [6], 6), new Dropout(ctx, [6], 0.5)]), new Sequential([new Dropout(ctx, [6], 0.5)])),
    new Dropout(ctx, [6], 0.5),
  ]));
  const net = b.layer as Sequential;
  assert.equal(net.generators().length, 4);
  assert.equal((build64((ctx) => new Sequential([new Linear(ctx, 'l', [3], 2), new Tanh(ctx, [2])])).layer as Sequential).generators().length, 0);
  net.setup(3);
  const x = new Float64Array(18).fill(1);
  const saved = net.generators().map((g) => g.getState());
  const first = Float64Array.from(net.forward(x, 3, true));
  net.generators().forEach((g, i) => g.setState(saved[i]!));
  assert.deepEqual(Array.from(net.forward(x, 3, true)), Array.from(first));
});

test('losses: cross-entropy and MSE gradients against finite differences and by hand', () => {
  // CE of logits [0, 0] with label 0 is log 2
  assert.ok(Math.abs(softmaxCrossEntropy(Float64Array.from([0, 0]), Int32Array.from([0]), 1, 2, null) - Math.LN2) < 1e-15);
  const rng = new Rng(5);
  const n = 3, C = 4, z = randomBuf(n * C, rng), labels = Int32Array.from([1, 3, 0]);
  const dz = new Float64Array(n * C);
  softmaxCrossEntropy(z, labels, n, C, dz);
  const t = randomBuf(n * C, rng), dm = new Float64Array(n * C);
  meanSquaredError(z, t, n, C, dm);
  const eps = 1e-6;
  for (let i = 0; i < n * C; i++) {
    const v = z[i]!;
    z[i] = v + eps; const cp = softmaxCrossEntropy(z, labels, n, C, null), mp = meanSquaredError(z, t, n, C, null);
    z[i] = v - eps; const cm = softmaxCrossEntropy(z, labels, n, C, null), mm = meanSquaredError(z, t, n, C, null);
    z[i] = v;
    assert.ok(Math.abs(dz[i]! - (cp - cm) / (2 * eps)) < 1e-8);
    assert.ok(Math.abs(dm[i]! - (mp - mm) / (2 * eps)) < 1e-8);
  }
  // MSE of [1, 2] vs [0, 0] = (1 + 4)/2 = 2.5
  assert.equal(meanSquaredError(Float64Array.from([1, 2]), [0, 0], 1, 2, null), 2.5);
  void float64Backend;
});
