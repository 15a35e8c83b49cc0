// fastOptimizerStep (wasm sgdMomentumStep) against src/optim's optimizerStep: bit-identical by construction
// (same float64 expression, same order), so the expected values are optimizerStep's own outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels } from '../../src/node/kernels.js';
import { fastOptimizerStep } from '../../src/core/engine/kernels/optimizer-step.js';
import { initOptimizer, optimizerConfig, optimizerStep, type OptimizerConfig } from '../../src/core/optim/index.js';
import { Rng } from '../../src/core/util/rng.js';

async function compare(cfg: OptimizerConfig, n: number, steps: number, threads = 1): Promise<boolean> {
  const k = await createWasmKernels({ threads });
  try {
    const rng = new Rng(n);
    const x = k.alloc(n), g = k.alloc(n);
    for (let i = 0; i < n; i++) x[i] = rng.normal();
    const xRef = Float32Array.from(x);
    const sFast = initOptimizer(cfg, n, 'float32'), sRef = initOptimizer(cfg, n, 'float32');
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < n; i++) g[i] = rng.normal() + 0.1 * x[i]!;
      fastOptimizerStep(k, cfg, x, g, sFast, 0.5);
      optimizerStep(cfg, xRef, g, sRef, 0.5);
      assert.deepEqual(Array.from(x), Array.from(xRef), `params after step ${s}`);
      assert.deepEqual(Array.from(sFast.buffer ?? []), Array.from(sRef.buffer ?? []), `buffer after step ${s}`);
      assert.equal(sFast.step, sRef.step);
    }
    // The fast path moves the buffer into kernel memory (a SharedArrayBuffer view); the fallback leaves it alone.
    return sFast.buffer !== null && sFast.buffer.buffer instanceof SharedArrayBuffer;
  } finally { k.dispose(); }
}

test('heavy-ball SGDM with a multistep schedule: kernel path taken and bit-identical to optimizerStep', async () => {
  const cfg = optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9, schedule: { kind: 'multistep', milestones: [2, 4], gamma: 0.1 } });
  assert.equal(await compare(cfg, 1001, 6), true);
  const perStep = optimizerConfig({ form: 'pytorch', lr: 0.05, momentum: 0, betas: [0.5, 0.6, 0.7, 0.8] });
  assert.equal(await compare(perStep, 7, 4), true);
  // 200 003 parameters on 3 threads: split into 16K-element chunks, still the same bits.
  assert.equal(await compare(cfg, 200_003, 3, 3), true);
});

test('configs outside the fast path fall back to optimizerStep (same results, buffer untouched)', async () => {
  for (const c of [
    { form: 'pytorch' as const, lr: 0.1, momentum: 0.9, nesterov: true },
    { form: 'pytorch' as const, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    { form: 'pytorch' as const, lr: 0.1, momentum: 0.9, dampening: 0.5 },
    { form: 'normalized' as const, lr: 0.1, momentum: 0.9 },
    { form: 'sgd' as const, lr: 0.1 },
  ]) {
    assert.equal(await compare(optimizerConfig(c), 33, 3), false, JSON.stringify(c));
  }
});
