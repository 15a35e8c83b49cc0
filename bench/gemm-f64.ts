/**
 * Float64 GEMM throughput of the float64 backend (the advisor's Hessian-vector products): the reference triple loop
 * (src/core/engine/kernels/reference.ts), the packed TypeScript tiles and the WebAssembly SIMD tiles
 * (src/core/engine/kernels/gemm-f64.ts, build/gemm-f64.wasm), which give the same bits; then one advisor regime
 * probe of `paper --quick` (the MLP at B = 32, 100 steps) on each of the last two.
 *
 *   npm run build && node dist/bench/gemm-f64.js [--min-ms 40] [--no-probe]
 *
 * Shapes are the MLP's (784-256-256-10) first-layer GEMMs over the probe's 256-sample measurement batch. Each
 * figure is the best of 5 timing windows of ≥ min-ms, in GFLOP/s = 2·M·N·K / seconds / 1e9, one thread.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceGemm } from '../src/core/engine/kernels/reference.js';
import { gemmF64, useGemmF64Wasm } from '../src/core/engine/kernels/gemm-f64.js';
import { packageRoot } from '../src/node/package-root.js';
import { installNodeHost } from '../src/node/host.js';
import { adviseConfig } from '../src/node/advise.js';
import { parseModelSpec } from '../src/core/nn/models.js';
import { Rng } from '../src/core/util/rng.js';

const SHAPES = [
  { label: 'fwd  X·Wᵀ', ta: false, tb: true, M: 256, N: 256, K: 784 },
  { label: 'dW   dYᵀ·X', ta: true, tb: false, M: 256, N: 784, K: 256 },
  { label: 'dX   dY·W', ta: false, tb: false, M: 256, N: 784, K: 256 },
] as const;

const args = process.argv.slice(2);
const minMsAt = args.indexOf('--min-ms');
const minMs = minMsAt >= 0 ? Number(args[minMsAt + 1]) : 40;
if (!(minMs > 0)) { process.stderr.write('error: --min-ms: give a positive number of milliseconds\n'); process.exit(2); }
installNodeHost();
const wasm = readFileSync(join(packageRoot(), 'build', 'gemm-f64.wasm'));

type Gemm = typeof referenceGemm;
function gflops(g: Gemm, s: (typeof SHAPES)[number]): number {
  const rng = new Rng(1);
  const fill = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());
  const A = fill(s.M * s.K), B = fill(s.K * s.N), C = new Float64Array(s.M * s.N);
  let best = Infinity;
  for (let w = 0; w < 5; w++) {
    let n = 0;
    const t0 = performance.now();
    do { g(s.ta, s.tb, s.M, s.N, s.K, A, B, C, false); n++; } while (performance.now() - t0 < minMs);
    best = Math.min(best, (performance.now() - t0) / 1e3 / n);
  }
  return (2 * s.M * s.N * s.K) / best / 1e9;
}

const columns: [string, Gemm, () => void][] = [
  ['reference', referenceGemm, () => {}],
  ['ts tiles', gemmF64, () => useGemmF64Wasm(null)],
  ['wasm tiles', gemmF64, () => useGemmF64Wasm(wasm)],
];
console.log(`| shape | M×N×K | ${columns.map((c) => `${c[0]} GFLOP/s`).join(' | ')} |`);
console.log(`| --- | --- |${columns.map(() => ' ---: |').join('')}`);
for (const s of SHAPES) {
  const row = columns.map(([, g, use]) => { use(); return gflops(g, s).toFixed(2); });
  console.log(`| ${s.label} | ${s.M}×${s.N}×${s.K} | ${row.join(' | ')} |`);
}

if (!args.includes('--no-probe')) {
  const config = {
    problem: null, model: parseModelSpec('mlp'), dataset: 'mnist' as const, dataDir: null, batch: 32, lr: 0.016, momentum: 0.9,
    form: 'pytorch' as const, seed: 0, measureSamples: null, inputs: 'standardize' as const, epochs: 4,
  };
  for (const [name, , use] of columns.slice(1)) {
    use();
    const t0 = performance.now();
    const r = await adviseConfig(config, { probeSteps: 100, checkpoints: 2, lanczosSteps: 10, wholeRunSeeds: 1, wholeRunMaxSteps: 1, threads: 1 });
    console.log(`regime probe (mlp, B = 32, 100 steps) on ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s, SGD's ηλ_max ${r.verdict.numbers.sgdEtaLambdaMax}`);
  }
}
