import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchStream,
  CropFlipAugmenter,
  DATA_SEEDS,
  PairedBatchStream,
  deriveSeed,
  gatherBatch,
  holdOut,
  kShotIndices,
  standardization,
} from '../../src/core/data/index.js';
import { Rng } from '../../src/core/util/rng.js';
import { UserError } from '../../src/core/util/errors.js';

const take = (s: { next(): Int32Array }, k: number): number[][] => Array.from({ length: k }, () => Array.from(s.next()));

test('epoch mode: each epoch is a permutation of 0..n−1, batches of B with a short last one', () => {
  // n = 10, B = 4 → ⌈10/4⌉ = 3 batches per epoch of sizes 4, 4, 2
  const s = new BatchStream({ n: 10, batchSize: 4, seed: 7 });
  assert.equal(s.stepsPerEpoch, 3);
  for (let e = 0; e < 3; e++) {
    const bs = take(s, 3);
    assert.deepEqual(bs.map((b) => b.length), [4, 4, 2]);
    assert.deepEqual(bs.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(s.epoch, e);
  }
  // epoch 0's order is exactly Rng(7).permutation(10), the documented shuffle
  const first = take(new BatchStream({ n: 10, batchSize: 4, seed: 7 }), 3).flat();
  assert.deepEqual(first, Array.from(new Rng(7).permutation(10)));
  // dropLast: ⌊10/4⌋ = 2 full batches per epoch, 8 distinct samples each epoch
  const d = new BatchStream({ n: 10, batchSize: 4, seed: 7, dropLast: true });
  assert.equal(d.stepsPerEpoch, 2);
  for (let e = 0; e < 3; e++) {
    const bs = take(d, 2);
    assert.deepEqual(bs.map((b) => b.length), [4, 4]);
    assert.equal(new Set(bs.flat()).size, 8);
  }
  // successive epochs are shuffled differently
  const e2 = new BatchStream({ n: 100, batchSize: 100, seed: 1 });
  assert.notDeepEqual(Array.from(e2.next()), Array.from(e2.next()));
});

test('replacement mode: indices in range, roughly uniform', () => {
  const s = new BatchStream({ n: 5, batchSize: 1000, seed: 3, mode: 'replacement' });
  const counts = [0, 0, 0, 0, 0];
  for (let k = 0; k < 10; k++) for (const i of s.next()) counts[i]!++;
  // 10,000 draws, p = 1/5: mean 2,000, sd √(10⁴·0.2·0.8) = 40 → all within ±5 sd = ±200
  for (const c of counts) assert.ok(Math.abs(c - 2000) < 200, `count ${c}`);
  // batch larger than n is allowed with replacement, not without
  assert.throws(() => new BatchStream({ n: 5, batchSize: 6, seed: 0 }), UserError);
});

test('two replays with the same seed are identical; a different seed differs', () => {
  for (const mode of ['epoch', 'replacement'] as const) {
    const a = take(new BatchStream({ n: 37, batchSize: 8, seed: 42, mode }), 25);
    const b = take(new BatchStream({ n: 37, batchSize: 8, seed: 42, mode }), 25);
    assert.deepEqual(a, b);
    const c = take(new BatchStream({ n: 37, batchSize: 8, seed: 43, mode }), 25);
    assert.notDeepEqual(a, c);
    // reset() replays from step 0
    const s = new BatchStream({ n: 37, batchSize: 8, seed: 42, mode });
    take(s, 11);
    s.reset();
    assert.deepEqual(take(s, 25), a);
  }
});

test('getState/setState through JSON and clone() continue exactly (checkpoint/resume)', () => {
  for (const mode of ['epoch', 'replacement'] as const) {
    for (const dropLast of [false, true]) {
      const ref = new BatchStream({ n: 23, batchSize: 5, seed: 9, mode, dropLast });
      const all = take(ref, 40);
      for (const at of [0, 1, 4, 5, 13, 39]) {
        const s = new BatchStream({ n: 23, batchSize: 5, seed: 9, mode, dropLast });
        take(s, at);
        const saved = JSON.parse(JSON.stringify(s.getState()));
        const r = new BatchStream({ n: 23, batchSize: 5, seed: 9, mode, dropLast });
        r.setState(saved);
        assert.equal(r.step, at);
        assert.deepEqual(take(r, 40 - at), all.slice(at), `${mode} dropLast=${dropLast} resume at ${at}`);
        assert.deepEqual(take(s.clone(), 40 - at), all.slice(at));
      }
    }
  }
  const s = new BatchStream({ n: 23, batchSize: 5, seed: 9 });
  assert.throws(() => new BatchStream({ n: 23, batchSize: 6, seed: 9 }).setState(s.getState()), /batchSize/);
});

test('SVAG pairs: first batch = the ℓ=1 stream, second independent, replayable', () => {
  const p = new PairedBatchStream({ n: 50, batchSize: 10, seed: 5 });
  const single = new BatchStream({ n: 50, batchSize: 10, seed: 5 });
  const other = new BatchStream({ n: 50, batchSize: 10, seed: deriveSeed(5, 1) });
  for (let k = 0; k < 12; k++) {
    const [a, b] = p.next();
    assert.deepEqual(Array.from(a), Array.from(single.next()));
    assert.deepEqual(Array.from(b), Array.from(other.next()));
  }
  assert.notEqual(deriveSeed(5, 1), 5);
  const saved = JSON.parse(JSON.stringify(p.getState()));
  const q = new PairedBatchStream({ n: 50, batchSize: 10, seed: 5 });
  q.setState(saved);
  const r = p.clone();
  for (let k = 0; k < 7; k++) {
    const [a, b] = p.next();
    const [c, d] = q.next();
    const [e, f] = r.next();
    assert.deepEqual([Array.from(c), Array.from(d)], [Array.from(a), Array.from(b)]);
    assert.deepEqual([Array.from(e), Array.from(f)], [Array.from(a), Array.from(b)]);
  }
  // the two batches are not the same sample order (independent streams)
  const [a, b] = new PairedBatchStream({ n: 1000, batchSize: 100, seed: 5 }).next();
  assert.notDeepEqual(Array.from(a), Array.from(b));
});

test('gatherBatch copies images and labels into preallocated buffers', () => {
  // 4 samples of 3 values: sample i = [10i, 10i+1, 10i+2], label 100+i
  const split = { images: Float32Array.from({ length: 12 }, (_, j) => 10 * Math.floor(j / 3) + (j % 3)), labels: Int32Array.from([100, 101, 102, 103]), n: 4 };
  const img = new Float32Array(9);
  const lab = new Int32Array(3);
  gatherBatch(split, Int32Array.from([3, 0, 2]), 3, img, lab);
  assert.deepEqual(Array.from(img), [30, 31, 32, 0, 1, 2, 20, 21, 22]);
  assert.deepEqual(Array.from(lab), [103, 100, 102]);
  const img64 = new Float64Array(3);
  gatherBatch(split, Int32Array.from([1]), 1, img64, lab);
  assert.deepEqual(Array.from(img64), [10, 11, 12]);
  assert.throws(() => gatherBatch(split, Int32Array.from([4]), 1, img, lab), RangeError);
  assert.throws(() => gatherBatch(split, Int32Array.from([0, 1, 2, 3]), 4, img, lab), RangeError);
});

test('K-shot subsets: K per class, seeded, different seeds differ', () => {
  // 30 samples, label i mod 3 → 10 per class
  const labels = Int32Array.from({ length: 30 }, (_, i) => i % 3);
  assert.deepEqual(DATA_SEEDS, [13, 21, 42, 87, 100]);
  const picks = DATA_SEEDS.map((seed) => kShotIndices(labels, 3, 4, seed));
  for (const idx of picks) {
    assert.equal(idx.length, 12);
    assert.equal(new Set(idx).size, 12);
    for (let c = 0; c < 3; c++) for (let j = 0; j < 4; j++) assert.equal(labels[idx[c * 4 + j]!], c);
  }
  assert.deepEqual(Array.from(kShotIndices(labels, 3, 4, 13)), Array.from(picks[0]!));
  assert.notDeepEqual(Array.from(picks[0]!), Array.from(picks[1]!));
  assert.throws(() => kShotIndices(labels, 3, 11, 13), /class 0 has only 10/);
});

test('train/validation split is a seeded partition', () => {
  const split = { images: Float32Array.from({ length: 20 }, (_, i) => i), labels: Int32Array.from({ length: 20 }, (_, i) => i), n: 20 };
  const { train, validation, trainIndices, validationIndices } = holdOut(split, 0.25, 4);
  // 0.25 · 20 = 5 validation samples, 15 train
  assert.equal(validation.n, 5);
  assert.equal(train.n, 15);
  assert.deepEqual([...trainIndices, ...validationIndices].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(Array.from(validation.labels), Array.from(validationIndices));
  assert.deepEqual(Array.from(holdOut(split, 5, 4).validationIndices), Array.from(validationIndices));
  assert.throws(() => holdOut(split, 20, 4), UserError);
});

test('hold-out without a seed: the last samples, as views of the split', () => {
  const split = { images: Float32Array.from({ length: 20 }, (_, i) => i), labels: Int32Array.from({ length: 10 }, (_, i) => i), n: 10 };
  const { train, validation, validationIndices } = holdOut(split, 3);
  // 10 samples of 2 values: train = samples 0..6, validation = 7..9 (values 14..19)
  assert.equal(train.n, 7);
  assert.deepEqual(Array.from(validation.labels), [7, 8, 9]);
  assert.deepEqual(Array.from(validation.images), [14, 15, 16, 17, 18, 19]);
  assert.deepEqual(Array.from(validationIndices), [7, 8, 9]);
  assert.equal(train.images.buffer, split.images.buffer, 'a view, not a copy');
  assert.throws(() => holdOut(split, 10), UserError);
});

test('stream mode: the epoch permutations of Rng(seed) read as one sequence, batches spanning epochs', () => {
  const s = new BatchStream({ n: 5, batchSize: 4, seed: 9, mode: 'stream' });
  const rng = new Rng(9);
  const expected = [...rng.permutation(5), ...rng.permutation(5), ...rng.permutation(5)];
  const got = [...s.next(), ...s.next(), ...s.next(3)];
  assert.deepEqual(got, expected.slice(0, 11));
  const copy = new BatchStream({ n: 5, batchSize: 4, seed: 9, mode: 'stream' });
  copy.setState(JSON.parse(JSON.stringify(s.getState())));
  assert.deepEqual([...copy.next()], expected.slice(11, 15));
  assert.throws(() => s.next(5), RangeError);
});

test('gatherBatch applies the standardisation per channel: x·(1/std) − mean/std', () => {
  // one sample, 2 channels × 2 pixels; channel 0: mean 0.5, std 0.25 → (x − 0.5)·4; channel 1: mean 0, std 2 → x/2
  const split = { images: Float32Array.from([0.5, 0.75, 1, 3]), labels: Int32Array.from([1]), n: 1 };
  const out = new Float64Array(4);
  const lab = new Int32Array(1);
  gatherBatch(split, Int32Array.from([0]), 1, out, lab, standardization({ mean: [0.5, 0], std: [0.25, 2] }, 2));
  assert.deepEqual(Array.from(out), [0, 1, 0.5, 1.5]);
  assert.deepEqual(Array.from(lab), [1]);
  // 'reciprocal' computes the shift as −mean·(1/std): the same here, where 1/std is exact
  gatherBatch(split, Int32Array.from([0]), 1, out, lab, standardization({ mean: [0.5, 0], std: [0.25, 2] }, 2, 'reciprocal'));
  assert.deepEqual(Array.from(out), [0, 1, 0.5, 1.5]);
});

test('crop+flip: pad 0 with flip mirrors rows; a shift moves pixels and fills the border', () => {
  // one 1×2×3 image [[1,2,3],[4,5,6]]
  const img = (): Float32Array => Float32Array.from([1, 2, 3, 4, 5, 6]);
  // flip only: over 200 images about half are mirrored, the rest unchanged
  const aug = new CropFlipAugmenter([1, 2, 3], { pad: 0, flip: true }, 11);
  let flipped = 0;
  for (let k = 0; k < 200; k++) {
    const x = img();
    aug.apply(x, 1);
    if (x[0] === 3) {
      assert.deepEqual(Array.from(x), [3, 2, 1, 6, 5, 4]);
      flipped++;
    } else assert.deepEqual(Array.from(x), [1, 2, 3, 4, 5, 6]);
  }
  // Binomial(200, ½): 100 ± 5·√50 ≈ 100 ± 35
  assert.ok(flipped > 65 && flipped < 135, `flipped ${flipped}`);
  // crop only: every output is the image shifted by (dy, dx) ∈ {−1,0,1}², zeros (fill) outside; all 9 shifts occur
  const crop = new CropFlipAugmenter([1, 2, 3], { pad: 1, flip: false, fill: -9 }, 12);
  const src = [[1, 2, 3], [4, 5, 6]];
  const seen = new Set<string>();
  for (let k = 0; k < 300; k++) {
    const x = img();
    crop.apply(x, 1);
    let match = '';
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const want = [0, 1].flatMap((y) => [0, 1, 2].map((xx) => src[y + dy]?.[xx + dx] ?? -9));
        if (want.every((v, i) => v === x[i])) match = `${dy},${dx}`;
      }
    }
    assert.notEqual(match, '', `unexpected output ${Array.from(x)}`);
    seen.add(match);
  }
  assert.equal(seen.size, 9);
  // seeded and checkpointable
  const a = new CropFlipAugmenter([1, 2, 3], { pad: 1, flip: true }, 5);
  const st = a.getState();
  const x1 = img();
  a.apply(x1, 1);
  a.setState(st);
  const x2 = img();
  a.apply(x2, 1);
  assert.deepEqual(Array.from(x1), Array.from(x2));
});
