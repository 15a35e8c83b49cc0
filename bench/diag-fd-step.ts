/**
 * How the relative step of the float32 finite-difference HVP affects λ_max on an engine MLP: float32 Lanczos(FD)
 * against a float64 reference (same weights, same batch). Run: npx tsx bench/diag-fd-step.ts
 */
import { float32Backend, float64Backend } from '../src/core/engine/backend.js';
import { buildModel } from '../src/core/nn/models.js';
import { finiteDifferenceHvp, lanczos } from '../src/core/advisor/sharpness.js';
import { Rng } from '../src/core/util/rng.js';

const N = 256, D = 784, C = 10;
const rng = new Rng(1);
const x = Float64Array.from({ length: N * D }, () => rng.normal());
const labels = Int32Array.from({ length: N }, () => rng.int(C));
const spec = { kind: 'mlp' as const, hidden: [64], activation: (process.argv[2] ?? 'tanh') as 'tanh' | 'relu', dropout: 0 };
const m64 = buildModel(spec, { inShape: [D], classes: C, seed: 3, backend: float64Backend() });
const m32 = buildModel(spec, { inShape: [D], classes: C, seed: 3, backend: float32Backend() });
m64.setup(N); m32.setup(N);
const x32 = Float32Array.from(x);
const g64 = (p: Float32Array | Float64Array, out: Float32Array | Float64Array): number => { m64.store.params.set(p); const l = m64.lossAndGrad(x, labels, N); out.set(m64.store.grads); return l; };
const g32 = (p: Float32Array | Float64Array, out: Float32Array | Float64Array): number => { m32.store.params.set(p); const l = m32.lossAndGrad(x32, labels, N); out.set(m32.store.grads); return l; };
const n = m64.store.size;
// Train a few GD steps in float64 so the point is not the initialisation.
const th = Float64Array.from(m64.store.params), g = new Float64Array(n);
let l0 = 0; for (let k = 0; k < 20; k++) { l0 = g64(th, g); for (let i = 0; i < n; i++) th[i] -= 0.01 * g[i]!; }
console.log('loss after 20 GD steps', l0);
const ref = lanczos(finiteDifferenceHvp(g64, th).hvp, n, { steps: 30, seed: 2 }).top.value;
console.log(`params ${n}, reference λ_max (float64 FD) ${ref.toFixed(6)}`);
for (const c of [1e-3]) {
  const t0 = performance.now();
  const v = lanczos(finiteDifferenceHvp(g32, Float32Array.from(th), { relativeStep: c }).hvp, n, { steps: 30, seed: 2 }).top.value;
  console.log(`c=${c.toExponential(1)}  λ=${v.toFixed(6)}  rel.err=${((v - ref) / ref).toExponential(2)}  ${(performance.now() - t0).toFixed(0)} ms`);
}
for (const c of [1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]) {
  const v = lanczos(finiteDifferenceHvp(g64, th, { relativeStep: c }).hvp, n, { steps: 30, seed: 2 }).top.value;
  console.log(`float64 c=${c.toExponential(1)}  λ=${v.toFixed(6)}`);
}
