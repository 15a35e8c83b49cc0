// The optional element-wise and pooling kernels of the wasm implementation against reference.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/node/kernels.js';
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

test('max pooling and ReLU give the same bits on 3 threads as on 1 (split by plane group / chunk)', async () => {
  // Sizes above the 64K-float threading threshold; expected values are the 1-thread results, tied to the
  // reference by the tests above.
  const k1 = await createWasmKernels({ threads: 1 }), k3 = await createWasmKernels({ threads: 3 });
  try {
    const [H, W] = [13, 13];
    const rng = new Rng(8);
    const t = Float32Array.from({ length: 92_928 }, () => rng.normal());
    const run = (k: Kernels): number[][] => {
      const f = k as Full;
      const put = (a: Float32Array): Float32Array => { const b = k.alloc(a.length); b.set(a); return b; };
      // max pooling over 400 planes of 13×13 (67,600 floats, odd: uncovered last row/column), then ReLU on 90K elements
      const planes = 400, pm = planes * 36;
      const px = put(Float32Array.from({ length: planes * H * W }, (_, i) => Math.sin(i * 0.37) * 3));
      const py = k.alloc(pm), parg = f.allocInt32(pm), pdx = k.alloc(planes * H * W).fill(9);
      f.maxPoolForward(px, py, parg, planes, H, W, 2, 2);
      f.maxPoolBackward(put(t.subarray(0, pm)), parg, pdx, planes, H, W, 2, 2);
      const rn = 90_001, rx = put(t.subarray(0, rn)), ry = k.alloc(rn), rdx = k.alloc(rn);
      f.reluForward(rx, ry, rn);
      f.reluBackward(ry, put(t.subarray(1, rn + 1)), rdx, rn);
      return [py, parg, pdx, ry, rdx].map((a) => Array.from(a));
    };
    const [a, b] = [run(k1), run(k3)];
    for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i], `output ${i}`);
  } finally { k1.dispose(); k3.dispose(); }
});
