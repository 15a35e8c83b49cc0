// The optional element-wise / pooling / loss kernels of the wasm implementation against reference.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/core/engine/kernels/wasm.js';
import { createReferenceKernels } from '../../src/core/engine/kernels/reference.js';
import { convOutputSize, type Kernels } from '../../src/core/engine/kernels/api.js';
import { Rng } from '../../src/core/util/rng.js';

const U = 2 ** -24; // float32 unit roundoff

type Full = Required<Kernels>;

function random(k: Kernels, n: number, rng: Rng, ties = false): Float32Array {
  const a = k.alloc(n);
  // Integer values in [−4, 4] make ties (and zeros) common, which exercises "first maximum" and relu at 0.
  for (let i = 0; i < n; i++) a[i] = ties ? rng.int(9) - 4 : rng.normal();
  return a;
}

async function withKernels(fn: (w: Full, r: Full) => void): Promise<void> {
  const w = await createWasmKernels({ threads: 1 }) as unknown as Full;
  try { fn(w, createReferenceKernels() as Full); } finally { w.dispose(); }
}

test('biasAdd is bit-identical to the reference (one float32 add per element)', () => withKernels((w, r) => {
  const rng = new Rng(1);
  for (const [outer, ch, inner] of [[5, 7, 1], [3, 10, 1], [2, 3, 17], [4, 32, 676], [1, 1, 1]] as const) {
    const y = random(w, outer * ch * inner, rng), b = random(w, ch, rng);
    const want = Float32Array.from(y);
    r.biasAdd(want, b, outer, ch, inner);
    w.biasAdd(y, b, outer, ch, inner);
    assert.deepEqual(Array.from(y), Array.from(want), `${outer}×${ch}×${inner}`);
  }
}));

test('biasGrad: exact for inner = 1; within float64-sum rounding for inner > 1', () => withKernels((w, r) => {
  const rng = new Rng(2);
  for (const [outer, ch, inner] of [[5, 7, 1], [128, 10, 1], [2, 3, 17], [3, 32, 676], [2, 5, 9]] as const) {
    const dy = random(w, outer * ch * inner, rng), db = random(w, ch, rng);
    const want = Float32Array.from(db);
    r.biasGrad(dy, want, outer, ch, inner);
    w.biasGrad(dy, db, outer, ch, inner);
    if (inner === 1) { assert.deepEqual(Array.from(db), Array.from(want)); continue; }
    // Each of the `outer` steps rounds a float64 sum to float32 (≤ u·|partial|) and the float64 sums differ
    // only in association (≤ inner·2⁻⁵³·Σ|dy|, far below u): tolerance 2u·(|db₀| + Σ|dy|) per channel.
    for (let c = 0; c < ch; c++) {
      let mag = Math.abs(want[c]!);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) mag += Math.abs(dy[(o * ch + c) * inner + i]!);
      assert.ok(Math.abs(db[c]! - want[c]!) <= 2 * U * mag * outer, `channel ${c}: ${db[c]} vs ${want[c]}`);
    }
  }
}));

test('relu forward/backward are bit-identical, including NaN, −0 and odd lengths', () => withKernels((w, r) => {
  const rng = new Rng(3);
  for (const n of [1, 3, 4, 17, 1001]) {
    const x = random(w, n, rng, true);
    x[0] = Number.NaN;
    if (n > 1) x[1] = -0;
    const y = w.alloc(n), want = new Float32Array(n);
    r.reluForward(x, want, n);
    w.reluForward(x, y, n);
    assert.deepEqual(Array.from(y), Array.from(want)); // deepEqual distinguishes −0 from +0 (Object.is)
    const dy = random(w, n, rng), dx = w.alloc(n), wantDx = new Float32Array(n);
    r.reluBackward(want, dy, wantDx, n);
    w.reluBackward(y, dy, dx, n);
    assert.deepEqual(Array.from(dx), Array.from(wantDx));
    w.reluForward(x, x, n); // in place
    assert.deepEqual(Array.from(x), Array.from(want));
  }
}));

test('max pooling forward (values and argmax) and backward are identical to the reference', () => withKernels((w, r) => {
  const rng = new Rng(4);
  // 2×2/2 uses the SIMD path (4 windows per step) plus a scalar tail; odd H, W drop the last row/column.
  for (const [planes, H, W, k, s] of [[3, 26, 26, 2, 2], [2, 11, 11, 2, 2], [1, 5, 19, 2, 2], [2, 7, 8, 3, 2], [1, 6, 6, 3, 3], [2, 4, 4, 1, 1]] as const) {
    const x = random(w, planes * H * W, rng, true);
    x[3] = Number.NaN; // NaN wins its window, as in PyTorch
    const m = planes * convOutputSize(H, k, s, 0) * convOutputSize(W, k, s, 0);
    const y = w.alloc(m), arg = w.allocInt32(m), wantY = new Float32Array(m), wantArg = new Int32Array(m);
    r.maxPoolForward(x, wantY, wantArg, planes, H, W, k, s);
    w.maxPoolForward(x, y, arg, planes, H, W, k, s);
    assert.deepEqual(Array.from(y), Array.from(wantY), `y ${[planes, H, W, k, s]}`);
    assert.deepEqual(Array.from(arg), Array.from(wantArg), `arg ${[planes, H, W, k, s]}`);
    const dy = random(w, m, rng), dx = w.alloc(planes * H * W).fill(7), wantDx = new Float32Array(planes * H * W);
    r.maxPoolBackward(dy, wantArg, wantDx, planes, H, W, k, s);
    w.maxPoolBackward(dy, arg, dx, planes, H, W, k, s);
    assert.deepEqual(Array.from(dx), Array.from(wantDx), `dx ${[planes, H, W, k, s]}`);
  }
}));

test('softmax cross-entropy loss and gradient match the reference', () => withKernels((w, r) => {
  const rng = new Rng(5);
  for (const [n, C] of [[1, 1], [7, 10], [128, 10], [3, 1000]] as const) {
    const z = random(w, n * C, rng);
    for (let i = 0; i < z.length; i++) z[i] = 8 * z[i]!;
    const labels = w.allocInt32(n);
    for (let i = 0; i < n; i++) labels[i] = rng.int(C);
    const g = w.alloc(n * C), wantG = new Float32Array(n * C);
    const want = r.softmaxCrossEntropy(z, labels, n, C, wantG);
    const got = w.softmaxCrossEntropy(z, labels, n, C, g);
    // Both evaluate the same float64 expression; libm exp/log may differ by an ulp: relative 1e-12.
    assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `loss ${got} vs ${want}`);
    // The gradient is then rounded to float32 once: within 1 ulp (2u relative) plus the float64 difference.
    for (let i = 0; i < n * C; i++) assert.ok(Math.abs(g[i]! - wantG[i]!) <= 2 * U * Math.abs(wantG[i]!) + 1e-15, `dz[${i}]`);
    assert.equal(w.softmaxCrossEntropy(z, labels, n, C, null), got);
  }
  const bad = w.allocInt32(1);
  bad[0] = 10;
  assert.throws(() => w.softmaxCrossEntropy(w.alloc(10), bad, 1, 10, null), /label 10 at row 0 outside 0..9/);
}));

test('im2colBatch / col2imBatch equal the per-image reference placed in the batch layout (exact)', () => withKernels((w, r) => {
  // Copies and float32 adds in the reference's order: bit-identical.
  const rng = new Rng(6);
  for (const [n, C, H, W, k, s, p] of [[3, 2, 7, 6, 3, 1, 0], [2, 3, 9, 9, 3, 2, 1], [4, 1, 5, 5, 1, 1, 0], [1, 2, 6, 7, 2, 2, 2]] as const) {
    const m = n * C * k * k * convOutputSize(H, k, s, p) * convOutputSize(W, k, s, p);
    const x = random(w, n * C * H * W, rng);
    const cols = w.alloc(m).fill(Number.NaN), want = new Float32Array(m);
    r.im2colBatch(x, n, C, H, W, k, k, s, p, want);
    w.im2colBatch(x, n, C, H, W, k, k, s, p, cols);
    assert.deepEqual(Array.from(cols), Array.from(want), `im2colBatch ${[n, C, H, W, k, s, p]}`);
    const g = random(w, m, rng), dx = w.alloc(n * C * H * W).fill(Number.NaN), wantDx = new Float32Array(n * C * H * W);
    r.col2imBatch(g, n, C, H, W, k, k, s, p, wantDx);
    w.col2imBatch(g, n, C, H, W, k, k, s, p, dx);
    assert.deepEqual(Array.from(dx), Array.from(wantDx), `col2imBatch ${[n, C, H, W, k, s, p]}`);
  }
}));

test('channelsToBatch / batchToChannels: permutes, bias, ReLU exact; bias gradient within float64-sum rounding', () => withKernels((w, r) => {
  const rng = new Rng(7);
  for (const [n, C, S] of [[3, 5, 7], [2, 4, 121], [1, 1, 1], [5, 3, 8]] as const) {
    const src = random(w, n * C * S, rng, true), bias = random(w, C, rng);
    src[1] = Number.NaN;
    for (const relu of [false, true]) for (const b of [bias, null]) {
      const y = w.alloc(n * C * S), want = new Float32Array(n * C * S);
      r.channelsToBatch(src, b, n, C, S, relu, want);
      w.channelsToBatch(src, b, n, C, S, relu, y);
      assert.deepEqual(Array.from(y), Array.from(want), `channelsToBatch ${[n, C, S]} relu=${relu} bias=${b !== null}`);
    }
    const dy = random(w, n * C * S, rng), mask = random(w, n * C * S, rng, true);
    for (const m of [mask, null]) {
      const dst = w.alloc(n * C * S), wantDst = new Float32Array(n * C * S);
      const db = random(w, C, rng), wantDb = Float32Array.from(db);
      r.batchToChannels(dy, m, n, C, S, wantDst, wantDb);
      w.batchToChannels(dy, m, n, C, S, dst, db);
      assert.deepEqual(Array.from(dst), Array.from(wantDst), `batchToChannels ${[n, C, S]} mask=${m !== null}`);
      // float64 sums that differ only in association, rounded once to float32: 2u·(|db₀| + Σ|dst|).
      for (let c = 0; c < C; c++) {
        let mag = Math.abs(wantDb[c]!);
        for (let i = 0; i < n * S; i++) mag += Math.abs(wantDst[c * n * S + i]!);
        assert.ok(Math.abs(db[c]! - wantDb[c]!) <= 2 * U * mag, `dbias[${c}] ${db[c]} vs ${wantDb[c]}`);
      }
    }
  }
}));

test('data-parallel kernels give the same bits on 3 threads as on 1 (split by image / channel / plane / chunk)', async () => {
  // Sizes above the 64K-float threading threshold; expected values are the 1-thread results, tied to the
  // reference by the tests above.
  const k1 = await createWasmKernels({ threads: 1 }), k3 = await createWasmKernels({ threads: 3 });
  try {
    const [n, C, H, W, OC] = [16, 8, 13, 13, 12];
    const S = 11 * 11, m = n * C * 9 * S;
    const rng = new Rng(8);
    const x = Float32Array.from({ length: n * C * H * W }, () => rng.normal());
    const g = Float32Array.from({ length: m }, () => rng.normal());
    const t = Float32Array.from({ length: n * OC * S * 4 }, () => rng.normal());
    const bias = Float32Array.from({ length: OC }, () => rng.normal());
    const run = (k: Kernels): number[][] => {
      const f = k as Full;
      const put = (a: Float32Array): Float32Array => { const b = k.alloc(a.length); b.set(a); return b; };
      const cols = k.alloc(m), dx = k.alloc(n * C * H * W), y = k.alloc(t.length), d = k.alloc(t.length), db = put(bias);
      f.im2colBatch(put(x), n, C, H, W, 3, 3, 1, 0, cols);
      f.col2imBatch(put(g), n, C, H, W, 3, 3, 1, 0, dx);
      const src = put(t);
      f.channelsToBatch(src, put(bias), 4 * n, OC, S, true, y);
      f.batchToChannels(src, y, 4 * n, OC, S, d, db);
      // max pooling over 384 planes of 13×13 (odd: uncovered last row/column), then ReLU on 90K elements
      const planes = 384, pm = planes * 36;
      const px = put(Float32Array.from({ length: planes * H * W }, (_, i) => Math.sin(i * 0.37) * 3));
      const py = k.alloc(pm), parg = f.allocInt32(pm), pdx = k.alloc(planes * H * W).fill(9);
      f.maxPoolForward(px, py, parg, planes, H, W, 2, 2);
      f.maxPoolBackward(put(t.subarray(0, pm)), parg, pdx, planes, H, W, 2, 2);
      const rn = 90_001, rx = put(t.subarray(0, rn)), ry = k.alloc(rn), rdx = k.alloc(rn);
      f.reluForward(rx, ry, rn);
      f.reluBackward(ry, put(t.subarray(1, rn + 1)), rdx, rn);
      return [cols, dx, y, d, db, py, parg, pdx, ry, rdx].map((a) => Array.from(a));
    };
    const [a, b] = [run(k1), run(k3)];
    for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i], `output ${i}`);
  } finally { k1.dispose(); k3.dispose(); }
});
