/**
 * `fastOptimizerStep`: a drop-in for src/optim's `optimizerStep` that runs the common case — PyTorch heavy-ball
 * SGDM (form 'pytorch', no weight decay, no dampening, no Nesterov, not maximising, after step 0) — through the
 * kernels' `sgdMomentumStep` (WebAssembly SIMD, about 3× faster than the TypeScript loop), and every other case
 * through `optimizerStep` itself. Both paths give bit-identical results (the kernel evaluates the same float64
 * expression in the same order), so switching never changes a run.
 *
 * On the fast path the momentum buffer must live in kernel memory: the first such call replaces `state.buffer`
 * by a kernel-memory copy (same values), which is what checkpoints will then read.
 */
import type { Kernels } from './api.js';
import { learningRateAt, momentumAt, optimizerStep, type OptimizerConfig, type OptimizerState, type FloatBuffer } from '../../optim/index.js';

const kernelBuffers = new WeakSet<Float32Array>();

export function fastOptimizerStep(kernels: Kernels, c: OptimizerConfig, params: FloatBuffer, grads: FloatBuffer,
  state: OptimizerState, lrScale = 1): void {
  const k = state.step;
  const b = state.buffer;
  const fast = kernels.sgdMomentumStep !== undefined && c.form === 'pytorch' && k > 0 && b !== null
    && params instanceof Float32Array && grads instanceof Float32Array && b instanceof Float32Array
    && params.length === grads.length && b.length === params.length
    && c.weightDecay === 0 && 1 - c.dampening === 1 && !c.nesterov && !c.maximize;
  if (!fast) {
    optimizerStep(c, params, grads, state, lrScale);
    return;
  }
  const lr = learningRateAt(c.lr, c.schedule, k) * lrScale;
  const beta = momentumAt(c, k);
  let buf = b;
  if (!kernelBuffers.has(buf)) {
    buf = kernels.alloc(b.length);
    buf.set(b);
    kernelBuffers.add(buf);
    state.buffer = buf;
  }
  kernels.sgdMomentumStep!(params, grads, buf, params.length, lr, beta);
  state.step = k + 1;
}
