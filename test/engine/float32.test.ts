/**
 * The float32 path (fast kernels, fused conv/linear→ReLU, the kernels' max pooling)
 * against the float64 path of the same layer with the same parameters and inputs. float32 rounding over sums of
 * ≤ 300 terms of O(1) values bounds the difference by ~1e-5 relative; 1e-4 leaves margin and still catches any
 * indexing or layout mistake (which gives O(1) differences).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { float32Backend, float64Backend, type Backend } from '../../src/core/engine/backend.js';
import { openKernels } from '../../src/node/kernels.js';
import { Conv2d, Linear, MaxPool2d, ReLU, Sequential, type BuildContext, type Layer } from '../../src/core/engine/layers/index.js';
import { ParameterStore } from '../../src/core/engine/params.js';
import { Rng } from '../../src/core/util/rng.js';
import { build64, checkGradients } from './gradcheck.js';

function buildOn(be: Backend, make: (ctx: BuildContext) => Layer): { layer: Layer; store: ParameterStore } {
  const store = new ParameterStore(be);
  const layer = make({ store, backend: be, rng: new Rng(1) });
  store.finalize(new Rng(2));
  return { layer, store };
}

async function compare(make: (ctx: BuildContext) => Layer, n: number): Promise<void> {
  const k = (await openKernels()).kernels;
  const a = buildOn(float64Backend(), make), b = buildOn(float32Backend(k), make);
  b.store.params.set(a.store.params);
  a.layer.setup(n); b.layer.setup(n);
  const rng = new Rng(9);
  const inSize = a.layer.inShape.reduce((p, q) => p * q, 1), outSize = a.layer.outShape.reduce((p, q) => p * q, 1);
  const x64 = Float64Array.from({ length: n * inSize }, () => rng.normal());
  const x32 = b.store.backend.alloc(n * inSize); x32.set(x64);
  const r64 = Float64Array.from({ length: n * outSize }, () => rng.normal());
  const r32 = b.store.backend.alloc(n * outSize); r32.set(r64);
  const close = (what: string, u: ArrayLike<number>, v: ArrayLike<number>, m: number): void => {
    let scale = 0;
    for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(u[i]!));
    for (let i = 0; i < m; i++) assert.ok(Math.abs(u[i]! - v[i]!) <= 1e-4 * Math.max(1, scale), `${what}[${i}]: f64 ${u[i]} vs f32 ${v[i]}`);
  };
  a.store.zeroGrad(); b.store.zeroGrad();
  close('y', a.layer.forward(x64, n, true), b.layer.forward(x32, n, true), n * outSize);
  close('dx', a.layer.backward(r64, n), b.layer.backward(r32, n), n * inSize);
  close('grads', a.store.grads, b.store.grads, a.store.size);
  k.dispose();
}

test('float32 Conv2d (fused ReLU, padding, stride) equals float64', async () => {
  await compare((ctx) => new Conv2d(ctx, 'c', [3, 9, 9], 8, 3, 1, 0, true, true), 5);
  await compare((ctx) => new Conv2d(ctx, 'c', [4, 8, 8], 6, 3, 2, 1, false), 3);
  await compare((ctx) => new Conv2d(ctx, 'c', [4, 8, 8], 6, 1, 2, 0, false), 3);
});

test('float32 Linear with fused ReLU and MaxPool2d equal float64', async () => {
  await compare((ctx) => new Linear(ctx, 'l', [20], 13, true, true), 7);
  await compare((ctx) => new Sequential([new ReLU(ctx, [3, 8, 8]), new MaxPool2d(ctx, [3, 8, 8], 2)]), 4);
  await compare((ctx) => new MaxPool2d(ctx, [2, 7, 7], 3, 2), 3);
});

test('fused ReLU layers pass finite-difference checks in float64', () => {
  checkGradients(build64((ctx) => new Conv2d(ctx, 'c', [2, 6, 6], 3, 3, 1, 1, true, true)), 2);
  checkGradients(build64((ctx) => new Linear(ctx, 'l', [6], 5, true, true)), 3);
});

test('max pooling keeps the first maximum and propagates NaN (PyTorch semantics), float32 path', async () => {
  const k = (await openKernels()).kernels;
  const { layer } = buildOn(float32Backend(k), (ctx) => new MaxPool2d(ctx, [1, 2, 4], 2));
  layer.setup(1);
  const x = float32Backend(k).alloc(8);
  // windows: [[-3, -1], [-2, -1]] → max −1 (first at index 1); [[NaN, 5], [7, 7]] → NaN
  x.set([-3, -1, NaN, 5, -2, -1, 7, 7]);
  const y = layer.forward(x, 1, true);
  assert.equal(y[0], -1);
  assert.ok(Number.isNaN(y[1]));
  const dy = float32Backend(k).alloc(2); dy.set([1, 1]);
  assert.deepEqual(Array.from(layer.backward(dy, 1)), [0, 1, 1, 0, 0, 0, 0, 0]);
});
