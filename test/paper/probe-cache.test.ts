// The paper suite's probe cache (src/experiments/paper/probe-cache.ts): a probe's result read back from its file is
// the one computed, non-finite numbers and −0 included, and a damaged file is computed again and rewritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdviseConfig } from '../../src/core/advisor/config.js';
import type { AdviseJob } from '../../src/node/advise-pool.js';
import { cachedProbes, decodeProbe, encodeProbe, probeFile } from '../../src/experiments/paper/probe-cache.js';

test('encodeProbe/decodeProbe keep Infinity, −Infinity, NaN and −0 that JSON alone turns into null and 0', () => {
  const p = { seconds: 1.5, result: { evalLoss: Infinity, low: -Infinity, lambda: NaN, zero: -0, plus: 0, list: [1, NaN, -0], name: 'x' } };
  const back = decodeProbe(encodeProbe(p as never)) as unknown as typeof p;
  assert.equal(back.result.evalLoss, Infinity);
  assert.equal(back.result.low, -Infinity);
  assert.ok(Number.isNaN(back.result.lambda));
  assert.ok(Object.is(back.result.zero, -0) && Object.is(back.result.plus, 0));
  assert.ok(Number.isNaN(back.result.list[1]!) && Object.is(back.result.list[2], -0));
  assert.equal(back.result.name, 'x');
  // Plain JSON would have lost them: the test above can fail.
  assert.equal((JSON.parse(JSON.stringify(p)) as typeof p).result.evalLoss, null);
});

test('cachedProbes: the second call reads every probe back unchanged; a damaged file is computed again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlab-probe-cache-'));
  // Two 20-step MLP probes on the advisor's 8×8 synthetic set; B = 16 and 256.
  const jobs: AdviseJob[] = [16, 256].map((batch) => ({
    config: parseAdviseConfig({ model: 'mlp', dataset: 'synthetic', batch, lr: 0.05, momentum: 0.9, epochs: 1, seed: 2 }),
    options: { probeSteps: 20, checkpoints: 2, lanczosSteps: 5, threads: 1 },
  }));
  const a = cachedProbes(jobs, 1, dir);
  assert.equal(a.reused, 0);
  const first = await Promise.all(a.probes);
  const b = cachedProbes(jobs, 1, dir);
  assert.equal(b.reused, 2);
  assert.deepEqual(await Promise.all(b.probes), first);
  // A file cut short is no cache: that probe runs again, gives the same result, and the file is whole again.
  const file = probeFile(dir, jobs[1]!);
  writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
  const c = cachedProbes(jobs, 1, dir);
  assert.equal(c.reused, 1);
  const third = await Promise.all(c.probes);
  assert.deepEqual(third[1]!.result.verdict, first[1]!.result.verdict);
  assert.deepEqual(decodeProbe(readFileSync(file, 'utf8')).result.lambdaMax, first[1]!.result.lambdaMax);
});

test('cachedProbes: probes that fail and are never awaited are no unhandled rejections', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlab-probe-cache-'));
  // Batch 5000 > the synthetic set's 4,096 training samples: both probes fail before training.
  const bad: AdviseJob[] = [5000, 6000].map((batch) => ({
    config: parseAdviseConfig({ model: 'mlp', dataset: 'synthetic', batch, lr: 0.05, momentum: 0.9, epochs: 1, seed: 2 }),
    options: { probeSteps: 5, threads: 1 },
  }));
  const unhandled: unknown[] = [];
  const note = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', note);
  try {
    const { probes } = cachedProbes(bad, 1, dir);
    // A caller that stops at the first failure, as the suite does, never awaits the second.
    await assert.rejects(probes[0]!, /larger than the training split/);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', note);
  }
});
