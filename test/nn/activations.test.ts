// The activation footprint a model reports is what its layers allocate per sample, and a batch past the
// activations limit is refused before anything of its size is allocated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, parseModelSpec } from '../../src/core/nn/models.js';
import { DEFAULT_LIMITS, useLimits } from '../../src/core/util/limits.js';

const mlp = (hidden: number[]) => buildModel(parseModelSpec({ kind: 'mlp', hidden }), { inShape: [1, 28, 28], classes: 10, seed: 0 });

test('an MLP needs, per sample, each layer output, each input gradient, each ReLU mask and the logits gradient', () => {
  // 784 → 64 (ReLU) → 10: dx₁ 784, y₁ 64, ReLU-masked dy₁ 64, y₂ 10, dx₂ 64, dlogits 10.
  assert.equal(mlp([64]).activationsPerSample(), 784 + 64 + 64 + 10 + 64 + 10);
  // 784 → 64 → 32 → 10 adds y 32, masked dy 32 and dx 64 for the middle layer.
  assert.equal(mlp([64, 32]).activationsPerSample(), 784 + 64 + 64 + (32 + 32 + 64) + 10 + 32 + 10);
});

test('a batch past the activations limit is refused in one line naming the limit and its variable', () => {
  const m = mlp([64]);
  try {
    useLimits({ activations: 996 * 100 });
    m.setup(100); // exactly at the limit
    assert.throws(() => m.setup(101), /model mlp: the activation count \(values\) for batches of 101 samples is 100,596, over the limit of 99,600 \(raise it with MOMENTUM_LAB_MAX_ACTIVATIONS=N\)/);
  } finally {
    useLimits({ activations: DEFAULT_LIMITS.activations });
  }
});
