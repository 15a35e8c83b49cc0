// adviseConfigs: probes on worker threads give exactly what the same probes give one after the other in this
// thread, and a probe that fails rejects its own promise only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAdviseConfig } from '../../src/core/advisor/config.js';
import { adviseConfigs, type AdviseJob } from '../../src/node/advise-pool.js';
import { adviseConfig } from '../../src/node/advise.js';
import { isUserError } from '../../src/core/util/errors.js';

// An MLP on the advisor's 8×8 synthetic set (4,096 training samples) at three batch sizes, 30-step probes.
const jobs: AdviseJob[] = [16, 64, 256].map((batch) => ({
  config: parseAdviseConfig({ model: 'mlp', dataset: 'synthetic', batch, lr: 0.01, momentum: 0.9, epochs: 2, seed: 1 }),
  options: { probeSteps: 30, checkpoints: 2, lanczosSteps: 6, threads: 1 },
}));

/** The result without its checkpoints' wall times, the one reading that differs from run to run. */
function untimed(r: unknown): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'seconds' ? undefined : v)));
}

test('probes on two worker threads equal the same probes run in this thread, value for value', async () => {
  const pooled = await Promise.all(adviseConfigs(jobs, 2));
  assert.equal(pooled.length, 3);
  for (const [i, job] of jobs.entries()) {
    const here = await adviseConfig(job.config, job.options);
    assert.deepEqual(untimed(pooled[i]!.result), untimed(here), `batch ${job.config.batch}`);
    assert.ok(pooled[i]!.seconds > 0);
  }
  // The λ_max readings differ between batch sizes, so equal results are not one probe repeated.
  assert.notEqual(pooled[0]!.result.lambdaMax, pooled[2]!.result.lambdaMax);
});

test('a failing probe rejects its own promise with its one-line error; the others finish, on threads and in this thread', async () => {
  const bad: AdviseJob = { ...jobs[0]!, config: { ...jobs[0]!.config, batch: 5000 } };
  for (const workers of [2, 1]) {
    const [a, b, c] = adviseConfigs([jobs[0]!, bad, jobs[1]!], workers);
    await assert.rejects(b!, (e: unknown) => isUserError(e) && e.field === 'batch' && /larger than the training split \(4096 samples\)/.test(e.message));
    assert.equal((await a!).result.steps, 30);
    assert.equal((await c!).result.steps, 30);
  }
});
