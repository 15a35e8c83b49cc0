// Leakage: the fine-tuning lr is chosen on a validation split drawn from the training pool, disjoint from both the
// K-shot training sample and the test split on which the claim is scored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { kShotIndices, selectClasses } from '../../src/core/data/splits.js';
import type { Split } from '../../src/core/data/dataset.js';
import { loadDataset } from '../../src/node/data/load.js';
import { fewShotSplits } from '../../src/experiments/tasks/finetune.js';
import { chooseLr } from '../../src/experiments/paper/fine-tuning.js';

const imageHashes = (s: Split): string[] => {
  const pixels = s.images.length / s.n;
  return Array.from({ length: s.n }, (_, i) => createHash('sha1').update(Buffer.from(s.images.buffer, s.images.byteOffset + i * pixels * s.images.BYTES_PER_ELEMENT, pixels * s.images.BYTES_PER_ELEMENT)).digest('hex'));
};

test('validation, K-shot training and test splits of the paper\'s fine-tuning share no image (embedded MNIST, digits 5–9)', async () => {
  const ds = await loadDataset('mnist');
  const classes = [5, 6, 7, 8, 9];
  const pool = selectClasses(ds.train, classes);
  const test = new Set(imageHashes(selectClasses(ds.test, classes)));
  // The quick protocol's K and validation sizes: V = min(K, 128).
  for (const [k, v] of [[16, 16], [64, 64], [512, 128]] as const) {
    for (const seed of [13, 21, 42, 87, 100]) {
      const s = fewShotSplits(pool, classes.length, k, v, seed);
      assert.equal(s.trainIndices.length, 5 * k);
      assert.equal(s.validationIndices.length, 5 * v);
      // Index-disjoint within the training pool, and the training sample is the plain K-shot draw.
      const train = new Set(s.trainIndices);
      assert.ok([...s.validationIndices].every((i) => !train.has(i)), `K = ${k}, seed ${seed}: a validation index is also a training index`);
      assert.deepEqual([...s.trainIndices], [...kShotIndices(pool.labels, classes.length, k, seed)]);
      // Content-disjoint from the test split: no validation image equals a test image pixel for pixel.
      const shared = imageHashes(s.validation!).filter((h) => test.has(h));
      assert.deepEqual(shared, [], `K = ${k}, seed ${seed}: ${shared.length} validation images are also test images`);
      // Every class is represented V times in validation.
      const perClass = new Array<number>(5).fill(0);
      for (const l of s.validation!.labels) perClass[l]!++;
      assert.deepEqual(perClass, [v, v, v, v, v]);
    }
  }
});

test('the lr is chosen on validation accuracy alone', () => {
  // Mean validation accuracy: 0.003 → 0.70, 0.01 → 0.80, 0.03 → 0.75; the choice is 0.01 whatever test would say.
  const valid = new Map([[0.003, [0.69, 0.71]], [0.01, [0.79, 0.81]], [0.03, [0.74, 0.76]]]);
  assert.deepEqual(chooseLr(valid), { eta: 0.01, mean: 0.8 });
  assert.ok(Number.isNaN(chooseLr(new Map([[0.01, []]])).eta));
});
