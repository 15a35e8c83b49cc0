import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceSpec, runTrace } from '../../src/core/optim/trace.js';
import { UserError } from '../../src/core/util/errors.js';

test('runTrace: a non-finite iterate is a UserError naming the step and coordinate', () => {
  // SGD on h = [1, 1]: x_{k+1} = (1 − γ) x_k with γ = 10²⁰⁰, so |x_k| = (10²⁰⁰ − 1)^k: 10²⁰⁰ at step 1, 10⁴⁰⁰ = ∞ at
  // step 2; coordinate 0 starts at 0 and stays 0, coordinate 1 overflows first.
  const spec = parseTraceSpec({ x0: [0, 1], problem: { kind: 'quadratic', h: [1, 1] }, optimizer: { form: 'sgd', lr: 1e200 }, steps: 4 });
  assert.throws(() => runTrace(spec), (e: unknown) => e instanceof UserError && /step 2/.test(e.message) && /x_2\[1\] = Infinity/.test(e.message));
  // The first step alone is finite: x_1 = [0, 1 − 10²⁰⁰].
  assert.deepEqual(runTrace({ ...spec, steps: 1 }), [[0, 1 - 1e200]]);
});
