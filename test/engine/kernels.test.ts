// The WebAssembly kernels against the plain TypeScript oracle (src/core/engine/kernels/reference.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWasmKernels, openKernels, relaxedSimdSupported } from '../../src/node/kernels.js';
import { UserError } from '../../src/core/util/errors.js';
import { instantiateWasmKernels } from '../../src/core/engine/kernels/wasm.js';
import { packageRoot } from '../../src/node/package-root.js';
import { referenceCol2im, referenceGemm, referenceIm2col } from '../../src/core/engine/kernels/reference.js';
import { convOutputSize, type Kernels } from '../../src/core/engine/kernels/api.js';
import { Rng } from '../../src/core/util/rng.js';

const U = 2 ** -24; // unit roundoff of float32

function fillRandom(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

// Shapes [M, N, K]: odd sizes, 1s, exact 4×8 tiles, and sizes that cross the blocking (MC = 64 rows,
// KC = 256, NC = 512 columns) so edge tiles and multi-block accumulation are both exercised.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 17, 3], [3, 1, 33], [17, 33, 129], [129, 3, 17], [33, 129, 1], [4, 8, 4], [8, 16, 5],
  [67, 520, 300], [130, 9, 257],
];

/**
 * Checks C against the oracle with the standard forward error bound of a float32 dot product accumulated in
 * any order (Higham, Accuracy and Stability, Eq. 3.5): |ĉ − c| ≤ γ_n (Σ_p |a_p b_p| + |C₀|), γ_n = n·u/(1 − n·u),
 * n = K + 1 terms when accumulating into C₀. The oracle sums in float64 then rounds once (≤ u|c|), so the
 * tolerance is γ_{K+2} · (Σ|a||b| + |C₀|). A wrong index or transpose gives errors of order |c| ≫ this.
 */
function checkGemm(k: Kernels, rng: Rng, ta: boolean, tb: boolean, M: number, N: number, K: number, acc: boolean): void {
  const A = fillRandom(k.alloc(M * K), rng), B = fillRandom(k.alloc(K * N), rng), C = fillRandom(k.alloc(M * N), rng);
  const C0 = Float32Array.from(C);
  const want = Float64Array.from(C0);
  referenceGemm(ta, tb, M, N, K, A, B, want, acc);
  const mag = new Float64Array(M * N);
  referenceGemm(ta, tb, M, N, K, A.map(Math.abs), B.map(Math.abs), mag, false);
  k.gemm(ta, tb, M, N, K, A, B, C, acc);
  const n = K + 2;
  const gamma = (n * U) / (1 - n * U);
  for (let i = 0; i < M * N; i++) {
    const tol = gamma * (mag[i]! + (acc ? Math.abs(C0[i]!) : 0));
    const err = Math.abs(C[i]! - want[i]!);
    if (!(err <= tol)) {
      assert.fail(`gemm(transA=${ta}, transB=${tb}, ${M}×${N}×${K}, acc=${acc}) C[${i}] = ${C[i]}, want ${want[i]} (|err| ${err} > tol ${tol})`);
    }
  }
}

function gemmSuite(k: Kernels, seed: number): void {
  const rng = new Rng(seed);
  for (const [M, N, K] of SHAPES) for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
    checkGemm(k, rng, ta, tb, M, N, K, acc);
  }
}

test('wasm GEMM matches the reference for all four transpose forms, with and without accumulate (1 thread)', async () => {
  const k = await createWasmKernels({ threads: 1, variant: 'simd' });
  try {
    assert.match(k.name, /^wasm-simd-1t$/);
    gemmSuite(k, 1);
  } finally { k.dispose(); }
});

test('threaded GEMM matches the reference and is bit-identical to one thread', async () => {
  const k1 = await createWasmKernels({ threads: 1, variant: 'simd' });
  // minThreadedWork 0 forces the threaded path even for tiny shapes.
  const k3 = await createWasmKernels({ threads: 3, variant: 'simd', minThreadedWork: 0 });
  const k2 = await createWasmKernels({ threads: 2, variant: 'simd', minThreadedWork: 0, scheduler: 'static' });
  try {
    gemmSuite(k3, 2);
    // Row split (M ≥ N) and column split (N > M) both: same inputs ⇒ same bits whatever the thread count.
    for (const [M, N, K] of [[130, 100, 300], [10, 600, 300], [37, 41, 520]] as const) {
      for (const ta of [false, true]) for (const tb of [false, true]) {
        const rng = new Rng(M + N + K);
        const A = fillRandom(new Float32Array(M * K), rng), B = fillRandom(new Float32Array(K * N), rng);
        const out = [k1, k3, k2].map((k) => {
          const a = k.alloc(M * K), b = k.alloc(K * N), c = k.alloc(M * N);
          a.set(A); b.set(B); c.fill(0.5);
          k.gemm(ta, tb, M, N, K, a, b, c, true);
          return Array.from(c);
        });
        assert.deepEqual(out[1], out[0], `threads 3 vs 1, ${M}×${N}×${K} transA=${ta} transB=${tb}`);
        assert.deepEqual(out[2], out[0], `static threads 2 vs 1, ${M}×${N}×${K} transA=${ta} transB=${tb}`);
      }
    }
    gemmSuite(k2, 4);
  } finally { k1.dispose(); k3.dispose(); k2.dispose(); }
});

test('GEMM with K = 0 writes zeros, or leaves C unchanged when accumulating', async () => {
  const k = await createWasmKernels({ threads: 1 });
  try {
    const A = k.alloc(0), B = k.alloc(0), C = k.alloc(6);
    C.fill(3);
    k.gemm(false, false, 2, 3, 0, A, B, C, true);
    assert.deepEqual(Array.from(C), [3, 3, 3, 3, 3, 3]); // empty sum added to C
    k.gemm(false, false, 2, 3, 0, A, B, C, false);
    assert.deepEqual(Array.from(C), [0, 0, 0, 0, 0, 0]); // empty sum
  } finally { k.dispose(); }
});

test('relaxed-SIMD GEMM (FMA) matches the reference within the same bound', async (t) => {
  // Node 20 validates relaxed-SIMD only behind a V8 flag; this test process turns it on to exercise that build.
  if (!relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
  assert.ok(relaxedSimdSupported(), 'this runtime rejects relaxed-SIMD even with --experimental-wasm-relaxed-simd');
  const k = await createWasmKernels({ threads: 2, variant: 'relaxed', minThreadedWork: 0 });
  try {
    assert.equal(k.name, 'wasm-relaxed-simd-2t');
    gemmSuite(k, 3);
  } finally { k.dispose(); }
});

// (C, H, W, kh, kw, stride, pad): 1×1 kernels, padding wider than the kernel reach, strides that skip pixels.
const CONV_CASES: Array<[number, number, number, number, number, number, number]> = [
  [1, 28, 28, 3, 3, 1, 0], [3, 7, 5, 3, 3, 1, 1], [2, 9, 8, 3, 2, 2, 1], [4, 6, 6, 1, 1, 1, 0],
  [2, 5, 7, 5, 3, 3, 2], [1, 4, 4, 3, 3, 2, 3], [5, 11, 13, 4, 4, 3, 0],
];

test('im2col and col2im equal the reference exactly for strides and paddings', async () => {
  // Both only copy or add float32 values in the reference's order, so results are bit-identical.
  const k = await createWasmKernels({ threads: 1 });
  const rng = new Rng(5);
  try {
    for (const [C, H, W, kh, kw, stride, pad] of CONV_CASES) {
      const n = C * kh * kw * convOutputSize(H, kh, stride, pad) * convOutputSize(W, kw, stride, pad);
      const x = fillRandom(k.alloc(C * H * W), rng);
      const cols = k.alloc(n).fill(Number.NaN); // every entry must be written
      const wantCols = new Float32Array(n);
      referenceIm2col(x, C, H, W, kh, kw, stride, pad, wantCols);
      k.im2col(x, C, H, W, kh, kw, stride, pad, cols);
      assert.deepEqual(Array.from(cols), Array.from(wantCols), `im2col ${[C, H, W, kh, kw, stride, pad]}`);

      const g = fillRandom(k.alloc(n), rng);
      const dx = k.alloc(C * H * W).fill(Number.NaN); // overwritten, not added to
      const wantDx = new Float32Array(C * H * W);
      referenceCol2im(g, C, H, W, kh, kw, stride, pad, wantDx);
      k.col2im(g, C, H, W, kh, kw, stride, pad, dx);
      assert.deepEqual(Array.from(dx), Array.from(wantDx), `col2im ${[C, H, W, kh, kw, stride, pad]}`);
    }
  } finally { k.dispose(); }
});

test('alloc views stay valid after the memory grows, and foreign arrays are rejected', async () => {
  const k = await createWasmKernels({ threads: 2, minThreadedWork: 0 });
  try {
    const a = k.alloc(4 * 4);
    a.fill(1);
    const big = k.alloc(64 << 20 >> 2); // 64 MiB: forces WebAssembly.Memory.grow
    assert.equal(big.length, 16 << 20);
    assert.equal(big[big.length - 1], 0); // fresh memory is zero
    const c = k.alloc(4 * 4);
    k.gemm(false, false, 4, 4, 4, a, a, c, false); // the pre-growth view still works: every entry = Σ 1·1 = 4
    assert.deepEqual(Array.from(c), new Array(16).fill(4));
    assert.throws(() => k.gemm(false, false, 4, 4, 4, new Float32Array(16), a, c, false), /does not live in this kernel memory/);
    assert.throws(() => k.gemm(false, false, 4, 4, 5, a, a, c, false), /needs 20 elements/);
    const other = await createWasmKernels({ threads: 1 });
    assert.throws(() => k.gemm(false, false, 4, 4, 4, other.alloc(16), a, c, false), /does not live in this kernel memory/);
    other.dispose();
    k.dispose(); // workers gone: the kernels keep working on the calling thread
    k.gemm(false, false, 4, 4, 4, a, a, c, true);
    assert.deepEqual(Array.from(c), new Array(16).fill(8)); // 4 + Σ 1·1
  } finally { k.dispose(); }
});

test('openKernels: a fresh owned wasm set by default, the reference on request', async () => {
  const a = await openKernels({ threads: 2 }), b = await openKernels({ threads: 2 });
  try {
    assert.match(a.kernels.name, /^wasm-(relaxed-)?simd-2t$/);
    assert.equal(a.owned, true);
    assert.notEqual(a.kernels, b.kernels); // one set per run: disposing it frees its memory
  } finally { a.kernels.dispose(); b.kernels.dispose(); }
  const r = await openKernels({ variant: 'reference' });
  assert.deepEqual([r.kernels.name, r.owned], ['reference-ts', false]);
  await assert.rejects(openKernels({ threads: 0 }), UserError);
});

test('openKernels: WebAssembly that cannot load gives one stderr warning and the reference, or an error when required', async () => {
  const original = WebAssembly.Module;
  const write = process.stderr.write;
  const lines: string[] = [];
  (WebAssembly as { Module: unknown }).Module = function broken(): never { throw new Error('compile failed'); };
  process.stderr.write = ((chunk: string): boolean => { lines.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const r = await openKernels({ threads: 1 });
    assert.deepEqual([r.kernels.name, r.owned], ['reference-ts', false]);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^momentum-lab: warning: WebAssembly kernels unavailable \(compile failed\); using the slow TypeScript reference kernels\n$/);
    process.env['MOMENTUM_LAB_REQUIRE_WASM'] = '1';
    await assert.rejects(openKernels({ threads: 1 }), (e: unknown) => e instanceof UserError && /compile failed/.test(e.message));
    assert.equal(lines.length, 1);
  } finally {
    delete process.env['MOMENTUM_LAB_REQUIRE_WASM'];
    (WebAssembly as { Module: unknown }).Module = original;
    process.stderr.write = write;
  }
});

test('instantiateWasmKernels takes the module bytes from the host; threads beyond one need its spawnWorker', async () => {
  const bytes = readFileSync(join(packageRoot(), 'build', 'kernels.wasm'));
  const k = await instantiateWasmKernels({ module: bytes });
  try {
    assert.equal(k.name, 'wasm-simd-1t');
    const a = k.alloc(6).fill(1), c = k.alloc(4);
    k.gemm(false, false, 2, 2, 3, a, a, c, false); // every entry Σ_{p<3} 1·1 = 3
    assert.deepEqual(Array.from(c), [3, 3, 3, 3]);
  } finally { k.dispose(); }
  await assert.rejects(instantiateWasmKernels({ module: bytes, threads: 2 }), /needs a spawnWorker/);
});
