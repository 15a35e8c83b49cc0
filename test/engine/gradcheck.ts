/** Shared helpers for the engine tests: float64 layers checked against central finite differences. */
import assert from 'node:assert/strict';
import { float64Backend, type Buf } from '../../src/core/engine/backend.js';
import type { BuildContext, Layer } from '../../src/core/engine/layers/index.js';
import { ParameterStore } from '../../src/core/engine/params.js';
import { Rng } from '../../src/core/util/rng.js';

export interface Built { layer: Layer; store: ParameterStore }

export function build64(make: (ctx: BuildContext) => Layer, seed = 1): Built {
  const backend = float64Backend();
  const store = new ParameterStore(backend);
  const ctx: BuildContext = { store, backend, rng: new Rng(seed) };
  const layer = make(ctx);
  store.finalize(new Rng(seed + 1));
  return { layer, store };
}

export function randomBuf(n: number, rng: Rng, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/**
 * Checks dL/dx and dL/dθ of L = Σ r ⊙ layer(x) against central differences (L(v+ε) − L(v−ε))/2ε, ε = 1e-6.
 * Truncation error is O(ε²·L''') ≈ 1e-12 and rounding ≈ 1e-16/ε = 1e-10 in float64, so 1e-6 relative is a strict bound.
 */
export function checkGradients(b: Built, n: number, opts: { inputs?: Float64Array; train?: boolean; checkInput?: boolean; perturbParams?: boolean; maxChecks?: number; seed?: number } = {}): void {
  const { layer, store } = b;
  const rng = new Rng(opts.seed ?? 7);
  const train = opts.train ?? true;
  layer.setup(n);
  const inSize = layer.inShape.reduce((a, c) => a * c, 1), outSize = layer.outShape.reduce((a, c) => a * c, 1);
  const x = opts.inputs ?? randomBuf(n * inSize, rng);
  const r = randomBuf(n * outSize, rng);
  if (opts.perturbParams ?? true) for (let i = 0; i < store.params.length; i++) store.params[i] += 0.3 * rng.normal();
  const loss = (): number => {
    const y = layer.forward(x, n, train);
    let s = 0;
    for (let i = 0; i < n * outSize; i++) s += r[i]! * y[i]!;
    return s;
  };
  store.zeroGrad();
  loss();
  const dx = Float64Array.from(layer.backward(r, n).subarray(0, n * inSize));
  const grads = Float64Array.from(store.grads);
  const eps = 1e-6;
  const max = opts.maxChecks ?? 200;
  const fd = (buf: Buf, i: number): number => {
    const v = buf[i]!;
    buf[i] = v + eps; const lp = loss();
    buf[i] = v - eps; const lm = loss();
    buf[i] = v;
    return (lp - lm) / (2 * eps);
  };
  const close = (what: string, a: number, e: number): void => {
    assert.ok(Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)), `${layer.kind} ${what}: analytic ${a} vs finite difference ${e}`);
  };
  const pick = (m: number): number[] => {
    if (m <= max) return Array.from({ length: m }, (_, i) => i);
    return Array.from({ length: max }, () => rng.int(m));
  };
  if (opts.checkInput ?? true) for (const i of pick(n * inSize)) close(`dx[${i}]`, dx[i]!, fd(x, i));
  for (const i of pick(store.params.length)) close(`dθ[${i}]`, grads[i]!, fd(store.params, i));
}
