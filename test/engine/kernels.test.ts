// The WebAssembly kernels against the plain TypeScript oracle (src/engine/kernels/reference.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { createWasmKernels, relaxedSimdSupported } from '../../src/core/engine/kernels/wasm.js';
import { referenceCol2im, referenceGemm, referenceGemmBatchSum, referenceIm2col } from '../../src/core/engine/kernels/reference.js';
import { convOutputSize, type Kernels } from '../../src/core/engine/kernels/api.js';
import { getKernels } from '../../src/core/engine/kernels/index.js';
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
  if (!relaxedSimdSupported()) { t.skip('runtime rejects relaxed-SIMD even with --experimental-wasm-relaxed-simd'); return; }
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

test('getKernels returns the shared wasm kernels when built', async () => {
  const k = await getKernels();
  assert.match(k.name, /^wasm-(relaxed-)?simd-\d+t$/);
  assert.equal(await getKernels(), k);
  k.dispose();
});

test('gemmBatch / gemmBatchSum equal per-image gemm calls bit for bit, at 1 and 3 threads', async () => {
  // Batched dispatch must not change arithmetic: expected values are the wasm kernels' own per-image gemm results,
  // which the tests above tie to the reference. Shapes: conv-like (shared W, stride 0) and a few odd ones.
  const k1 = await createWasmKernels({ threads: 1, variant: 'simd' });
  const k3 = await createWasmKernels({ threads: 3, variant: 'simd', minThreadedWork: 0 });
  const rng = new Rng(11);
  try {
    for (const [M, N, K, count] of [[64, 121, 288, 5], [3, 17, 33, 4], [33, 9, 129, 1], [8, 8, 4, 7]] as const) {
      for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
        const A = fillRandom(new Float32Array(M * K), rng);
        const B = fillRandom(new Float32Array(count * K * N), rng);
        const C0 = fillRandom(new Float32Array(count * M * N), rng);
        // Expected: separate gemm calls on one thread.
        const a = k1.alloc(M * K), b = k1.alloc(count * K * N), c = k1.alloc(count * M * N), s = k1.alloc(M * N);
        a.set(A); b.set(B); c.set(C0); s.set(C0.subarray(0, M * N));
        for (let i = 0; i < count; i++) {
          k1.gemm(ta, tb, M, N, K, a, b.subarray(i * K * N), c.subarray(i * M * N), acc);
          k1.gemm(ta, tb, M, N, K, a, b.subarray(i * K * N), s, acc || i > 0);
        }
        for (const k of [k1, k3]) {
          const a2 = k.alloc(M * K), b2 = k.alloc(count * K * N), c2 = k.alloc(count * M * N), s2 = k.alloc(M * N);
          a2.set(A); b2.set(B); c2.set(C0); s2.set(C0.subarray(0, M * N));
          k.gemmBatch!(ta, tb, M, N, K, a2, 0, b2, K * N, c2, M * N, count, acc);
          k.gemmBatchSum!(ta, tb, M, N, K, a2, 0, b2, K * N, s2, count, acc);
          const what = `${k.name} ${M}×${N}×${K}×${count} transA=${ta} transB=${tb} acc=${acc}`;
          assert.deepEqual(Array.from(c2), Array.from(c), `gemmBatch ${what}`);
          assert.deepEqual(Array.from(s2), Array.from(s), `gemmBatchSum ${what}`);
        }
      }
    }
    assert.throws(() => k1.gemmBatch!(false, false, 2, 2, 2, k1.alloc(4), 0, k1.alloc(8), 4, k1.alloc(8), 3, 2, false), /overlap/);
  } finally { k1.dispose(); k3.dispose(); }
});

test('gemmBatchSum matches the float64 reference sum within the dot-product bound', async () => {
  // Σ_i op(A_i)·op(B_i) is one dot product of count·K terms per element: tolerance γ_{count·K+2}·(Σ|a||b| + |C₀|).
  const k = await createWasmKernels({ threads: 2, minThreadedWork: 0 });
  const rng = new Rng(12);
  try {
    const [M, N, K, count] = [17, 40, 30, 6];
    const A = fillRandom(k.alloc(count * M * K), rng), B = fillRandom(k.alloc(count * K * N), rng), C = fillRandom(k.alloc(M * N), rng);
    const C0 = Float32Array.from(C);
    const want = Float32Array.from(C0), mag = new Float32Array(M * N);
    referenceGemmBatchSum(false, true, M, N, K, A, M * K, B, K * N, want, count, true);
    referenceGemmBatchSum(false, true, M, N, K, A.map(Math.abs), M * K, B.map(Math.abs), K * N, mag, count, false);
    k.gemmBatchSum!(false, true, M, N, K, A, M * K, B, K * N, C, count, true);
    const n = count * K + 2, gamma = (n * U) / (1 - n * U);
    for (let i = 0; i < M * N; i++) {
      // `want` and `mag` are float32-rounded: allow their own rounding (u each) on top.
      const tol = gamma * (mag[i]! + Math.abs(C0[i]!)) * (1 + 2 * U) + U * Math.abs(want[i]!);
      assert.ok(Math.abs(C[i]! - want[i]!) <= tol, `C[${i}] = ${C[i]}, want ${want[i]}`);
    }
  } finally { k.dispose(); }
});

test('mark/release frees an arena span, re-zeroes it, and GEMM pack buffers made inside it are rebuilt', async () => {
  const k = await createWasmKernels({ threads: 2, minThreadedWork: 0 });
  try {
    const keep = k.alloc(8).fill(5);
    const m = k.mark();
    const M = 40, N = 48, K = 30;
    const rng = new Rng(13);
    const A = fillRandom(k.alloc(M * K), rng), B = fillRandom(k.alloc(K * N), rng), C = k.alloc(M * N);
    k.gemm(false, false, M, N, K, A, B, C, false); // threaded: reserves shared pack buffers after the mark
    const first = Array.from(C), a0 = A.slice(), b0 = B.slice();
    k.release(m);
    const again = k.alloc(M * K);
    assert.equal(again.byteOffset, A.byteOffset); // the span is reused …
    assert.ok(again.every((v) => v === 0)); // … and zero-filled again
    assert.deepEqual(Array.from(keep), new Array(8).fill(5)); // allocations before the mark are untouched
    // Same GEMM again on fresh buffers: the released pack buffers must not alias the new operands.
    again.set(a0);
    const B2 = k.alloc(K * N), C2 = k.alloc(M * N);
    B2.set(b0);
    k.gemm(false, false, M, N, K, again, B2, C2, false);
    assert.deepEqual(Array.from(C2), first);
    assert.throws(() => k.release(m - 4096), /not a mark/);
  } finally { k.dispose(); }
});
