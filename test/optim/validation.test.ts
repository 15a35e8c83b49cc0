// Bad hyper-parameters are refused with a UserError naming the field, before anything is changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initOptimizer, optimizerConfig, optimizerStep, parseOptimizerConfig } from '../../src/core/optim/index.js';
import { learningRateAt, parseSchedule } from '../../src/core/optim/schedules.js';
import { UserError } from '../../src/core/util/errors.js';

function refuses(raw: unknown, field: RegExp): void {
  assert.throws(() => parseOptimizerConfig(raw), (e: unknown) => e instanceof UserError && field.test(e.message), `expected a UserError matching ${field}`);
}

test('optimizer hyper-parameters outside their domain name their field', () => {
  refuses({ form: 'pytorch', lr: 0.1, momentum: 1 }, /optimizer\.momentum: must be in \[0, 1\)/);
  refuses({ form: 'pytorch', lr: 0.1, momentum: -0.1 }, /optimizer\.momentum/);
  refuses({ form: 'pytorch', lr: 0 }, /optimizer\.lr: must be > 0/);
  refuses({ form: 'pytorch', lr: -1 }, /optimizer\.lr/);
  refuses({ form: 'pytorch' }, /optimizer\.lr: must be a finite number/);
  refuses({ form: 'pytorch', lr: 0.1, nesterov: true }, /optimizer\.nesterov: Nesterov momentum requires momentum > 0/);
  refuses({ form: 'pytorch', lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }, /optimizer\.nesterov: .*dampening = 0/);
  refuses({ form: 'adam', lr: 0.1 }, /optimizer\.form: unknown optimizer form "adam"/);
  refuses({ form: 'sgd', lr: 0.1, momentum: 0.9 }, /optimizer\.momentum: form "sgd" has no momentum/);
  refuses({ form: 'normalized', lr: 0.1, momentum: 0.9, dampening: 0.5 }, /optimizer\.dampening: dampening applies to the pytorch form only/);
  refuses({ form: 'normalized', lr: 0.1, betas: [0.5, 1.0] }, /optimizer\.betas\[1\]: β_k must be in \[0, 1\)/);
  refuses({ form: 'pytorch', lr: 0.1, weightDecay: -1 }, /optimizer\.weightDecay/);
  refuses({ form: 'pytorch', lr: 0.1, lrr: 1 }, /optimizer\.lrr: unknown key/);
  refuses({ form: 'pytorch', lr: 0.1, maximize: 'yes' }, /optimizer\.maximize: must be true or false/);
});

test('schedules reject malformed specs by path', () => {
  assert.throws(() => parseSchedule({ kind: 'multistep', milestones: [10, 5], gamma: 0.1 }), /schedule\.milestones: must be strictly increasing/);
  assert.throws(() => parseSchedule({ kind: 'cosine', total: 0 }), /schedule\.total/);
  assert.throws(() => parseSchedule({ kind: 'exp' }), /schedule\.kind: unknown schedule kind "exp"/);
  assert.throws(() => parseSchedule({ kind: 'constant', gamma: 1 }), /schedule\.gamma: unknown key/);
});

test('a step that cannot run leaves parameters and state untouched (nothing half-applied)', () => {
  const cfg = optimizerConfig({ form: 'normalized', lr: 0.1, betas: [0.9], weightDecay: 0.1, weightDecayMode: 'decoupled' });
  const x = Float64Array.of(1, 2);
  const s = initOptimizer(cfg, 2);
  optimizerStep(cfg, x, Float64Array.of(1, 1), s);
  const before = Array.from(x);
  assert.throws(() => optimizerStep(cfg, x, Float64Array.of(1, 1), s), /betas has 1 entries but step 1/);
  assert.deepEqual(Array.from(x), before);
  assert.equal(s.step, 1);
});

test('schedule formulas (the optim trace contract) at hand-computed points', () => {
  // multistep: ×γ for each milestone ≤ k.
  const ms = { kind: 'multistep', milestones: [10, 25], gamma: 0.1 } as const;
  assert.equal(learningRateAt(1, ms, 9), 1);
  assert.ok(Math.abs(learningRateAt(1, ms, 10) - 0.1) < 1e-17);
  assert.ok(Math.abs(learningRateAt(1, ms, 25) - 0.01) < 1e-17);
  // cosine: min + (lr − min)(1 + cos(π·min(k,T)/T))/2 — at k = T/2 it is the midpoint, and it holds at min past T.
  const cos = { kind: 'cosine', total: 30, min: 0.001 } as const;
  assert.ok(Math.abs(learningRateAt(0.1, cos, 15) - (0.001 + 0.099 / 2)) < 1e-16);
  assert.equal(learningRateAt(0.1, cos, 45), 0.001);
  // warm-up: lr·min(1, (k+1)/w).
  assert.equal(learningRateAt(0.1, { kind: 'warmup-linear', warmup: 10 }, 0), 0.01);
  assert.equal(learningRateAt(0.1, { kind: 'warmup-linear', warmup: 10 }, 50), 0.1);
});
