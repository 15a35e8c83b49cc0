// The float64 backend's GEMM, in WebAssembly SIMD (build/gemm-f64.wasm) and in TypeScript, against the plain
// TypeScript oracle (src/core/engine/kernels/reference.ts): all three sum every output over p in ascending order
// from 0 with separate multiplies and adds, so they must agree bit for bit, not within a tolerance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gemmF64, gemmF64Backend, useGemmF64Wasm } from '../../src/core/engine/kernels/gemm-f64.js';
import { packageRoot } from '../../src/node/package-root.js';
import { installNodeHost } from '../../src/node/host.js';
import { referenceGemm } from '../../src/core/engine/kernels/reference.js';
import { float64Backend } from '../../src/core/engine/backend.js';
import { Rng } from '../../src/core/util/rng.js';

function normals(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

// [M, N, K]: 1s, K = 0, sizes off the 4×4 tile in each dimension, exact tiles, and the MLP's measurement shapes.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 7, 3], [5, 1, 9], [4, 4, 4], [6, 10, 0], [17, 33, 129], [3, 13, 2], [64, 10, 256], [37, 130, 45],
];

test('the float64 backend runs gemmF64: TypeScript until the Node host registers build/gemm-f64.wasm', () => {
  assert.equal(float64Backend().gemm, gemmF64);
  assert.equal(gemmF64Backend(), 'typescript');
  installNodeHost();
  assert.equal(gemmF64Backend(), 'wasm-simd');
});

const wasmBytes = readFileSync(join(packageRoot(), 'build', 'gemm-f64.wasm'));
const BACKENDS = [['wasm-simd', wasmBytes], ['typescript', null]] as const;

for (const [name, bytes] of BACKENDS) test(`gemmF64 (${name}) equals referenceGemm bit for bit for all four transpose forms, with and without accumulate`, () => {
  useGemmF64Wasm(bytes);
  assert.equal(gemmF64Backend(), name);
  const rng = new Rng(11);
  let compared = 0;
  for (const [M, N, K] of SHAPES) for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
    const A = normals(M * K, rng), B = normals(K * N, rng), C0 = normals(M * N, rng);
    const want = Float64Array.from(C0), got = Float64Array.from(C0);
    referenceGemm(ta, tb, M, N, K, A, B, want, acc);
    gemmF64(ta, tb, M, N, K, A, B, got, acc);
    for (let i = 0; i < M * N; i++) {
      if (!Object.is(got[i], want[i])) assert.fail(`M=${M} N=${N} K=${K} transA=${ta} transB=${tb} acc=${acc}: C[${i}] = ${got[i]} vs ${want[i]}`);
    }
    compared += M * N;
  }
  assert.ok(compared > 20_000, `compared ${compared} outputs`);
});

for (const [name, bytes] of BACKENDS) test(`gemmF64 (${name}) keeps non-finite inputs where the reference puts them, and reuses its buffers across shapes`, () => {
  useGemmF64Wasm(bytes);
  // Row 1 of A holds Inf and NaN: the outputs in row 1 are NaN or ±Inf in both kernels, the rows beside it finite.
  const M = 3, N = 5, K = 6;
  const rng = new Rng(3);
  const A = normals(M * K, rng), B = normals(K * N, rng);
  A[K + 2] = Infinity; A[K + 4] = NaN;
  const want = new Float64Array(M * N), got = new Float64Array(M * N);
  referenceGemm(false, false, M, N, K, A, B, want, false);
  gemmF64(false, false, M, N, K, A, B, got, false);
  assert.deepEqual([...got].map(String), [...want].map(String));
  assert.ok(Number.isNaN(got[N]!) && Number.isFinite(got[0]!) && Number.isFinite(got[2 * N]!));
  // A large call grows the buffers (the module's memory past its first 64 KiB page); a small one after it must not
  // read stale packed values.
  const big = [90, 110, 70] as const, small = [2, 3, 1] as const;
  for (const [m, n, k] of [big, small]) {
    const a = normals(m * k, rng), b = normals(k * n, rng);
    const w = new Float64Array(m * n), g = new Float64Array(m * n);
    referenceGemm(true, true, m, n, k, a, b, w, false);
    gemmF64(true, true, m, n, k, a, b, g, false);
    assert.deepEqual(g, w);
  }
});

