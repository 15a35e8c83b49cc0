import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointPath, configHash, executeRun, loadCheckpoint, modelSignature, optimizerStateToCheckpoint, resolveRunConfig,
  resolveTaskParams, restoreOptimizerState, runGridSweeps, runSweep, saveCheckpoint, type MetricRows,
} from '../../src/experiments/index.js';
import { initOptimizer, optimizerConfig } from '../../src/core/optim/index.js';
import { Rng } from '../../src/core/util/rng.js';
import { UserError } from '../../src/core/util/errors.js';
import { tempDir } from './helpers.js';

test('checkpoint round trip: buffers bit for bit, optimizer state with momentum buffer and step, RNG state, meta', () => {
  const d = tempDir('ckpt');
  const p = join(d, 'a.ckpt');
  const rng = new Rng(7);
  rng.normal(); // leaves a spare normal in the state
  const params = Float64Array.from({ length: 13 }, () => rng.normal());
  params[3] = -0; // signed zero must survive
  const opt = optimizerConfig({ lr: 0.1, momentum: 0.9 });
  const st = initOptimizer(opt, 13, 'float32');
  st.buffer!.set(Float32Array.from({ length: 13 }, (_, i) => i / 3));
  st.step = 42;
  const o = optimizerStateToCheckpoint(st);
  const sig = modelSignature({ w: [13] }, 'toy');
  saveCheckpoint(p, { signature: sig, buffers: { params, ...o.buffers, pos: Int32Array.of(5, -1) }, meta: { ...o.meta, rng: rng.getState(), epoch: 3 } });
  assert.deepEqual(readdirSync(d), ['a.ckpt']); // the temp file was renamed away
  const back = loadCheckpoint(p, { expectSignature: sig });
  assert.ok(back.buffers.params instanceof Float64Array);
  assert.ok(Object.is(back.buffers.params[3], -0));
  assert.deepEqual(Array.from(back.buffers.params), Array.from(params));
  assert.deepEqual(Array.from(back.buffers.pos!), [5, -1]);
  const st2 = initOptimizer(opt, 13, 'float32');
  restoreOptimizerState(back, st2);
  assert.equal(st2.step, 42);
  assert.deepEqual(Array.from(st2.buffer!), Array.from(st.buffer!));
  const r2 = new Rng(0);
  r2.setState(back.meta.rng as number[]);
  assert.equal(r2.normal(), rng.normal()); // the spare normal was restored
  assert.equal(r2.uniform(), rng.uniform());
});

test('a damaged checkpoint, a truncated one and one from another model are refused with one-line errors', () => {
  const d = tempDir('ckpt');
  const p = join(d, 'a.ckpt');
  const sig = modelSignature({ W: [4, 16], b: [4] }, 'synthetic-softmax');
  saveCheckpoint(p, { signature: sig, buffers: { x: new Float64Array(100) }, meta: { step: 1 } });
  const bytes = readFileSync(p);
  const flipped = Buffer.from(bytes);
  flipped[200] = flipped[200]! ^ 1; // one bit in the buffer data
  writeFileSync(p, flipped);
  assert.throws(() => loadCheckpoint(p), (e: unknown) => e instanceof UserError && /damaged \(checksum mismatch\)/.test(e.message) && !e.message.includes('\n'));
  writeFileSync(p, bytes.subarray(0, 20));
  assert.throws(() => loadCheckpoint(p), /damaged|truncated/);
  writeFileSync(p, bytes);
  const other = modelSignature({ W: [3, 16], b: [3] }, 'synthetic-softmax');
  assert.notEqual(other, sig);
  assert.throws(() => loadCheckpoint(p, { expectSignature: other }), /is from another model/);
  assert.throws(() => loadCheckpoint(join(d, 'none.ckpt')), /no such file/);
});

function rowsEqual(a: MetricRows, b: MetricRows): void {
  const flat = (r: MetricRows) => Array.from(r.values, (v, i) => `${r.tags[r.tagIndex[i]!]}@${r.steps[i]}:${r.epochs[i]}=${v}`);
  assert.deepEqual(flat(a), flat(b));
  for (let i = 0; i < a.values.length; i++) assert.ok(Object.is(a.values[i], b.values[i]));
}

test('a run interrupted after a checkpoint resumes from it and ends bit-identical (SGDM, SVAG ℓ=2)', async () => {
  const cfg = resolveRunConfig({
    task: 'synthetic', steps: 150, batchSize: 16, svag: 2, evalEvery: 40, checkpointEvery: 70,
    optimizer: { form: 'pytorch', lr: 0.05, momentum: 0.9, dampening: 0.1, schedule: { kind: 'multistep', milestones: [100], gamma: 0.1 } },
  }, resolveTaskParams);
  const hash = configHash(cfg);
  const ref = await executeRun(cfg, hash, {});
  assert.equal(ref.status, 'done');
  const dir = tempDir('resume');
  // "Kill" at step 200 of 300 (ℓ=2 doubles 150 steps): the last checkpoint is at step 140.
  const killed = await executeRun(cfg, hash, { checkpointDir: dir, progressIntervalMs: 0, onProgress: (e) => { if (e.step === 200) throw new Error('killed'); } });
  assert.equal(killed.status, 'failed');
  assert.equal(loadCheckpoint(checkpointPath(dir, hash)).meta.step, 140);
  // A torn temp file from a kill inside saveCheckpoint is ignored and removed.
  writeFileSync(join(dir, `.${hash}.ckpt.tmp-1-deadbeef`), 'torn');
  const resumed = await executeRun(cfg, hash, { checkpointDir: dir });
  assert.deepEqual(readdirSync(dir), [`${hash}.ckpt`]);
  assert.equal(resumed.status, 'done');
  assert.equal(resumed.resumedFromStep, 140);
  rowsEqual(resumed.rows, ref.rows);
  assert.deepEqual(resumed.summary, ref.summary);
});

test('runSweep and runGridSweeps refuse a checkpoint folder that is a file before the store is created', async () => {
  const d = tempDir('ckpt-file');
  writeFileSync(join(d, 'ckpt'), 'a file');
  const sweep = { name: 's', task: 'synthetic', base: { steps: 4 }, grid: { lr: [0.1] } };
  const db = join(d, 'r.db');
  const why = /^--checkpoint-dir .*ckpt: it is a file, not a folder; give another folder$/;
  await assert.rejects(runSweep(sweep, { db, workers: 0, checkpointDir: join(d, 'ckpt') }), (e: Error) => e instanceof UserError && why.test(e.message));
  await assert.rejects(runGridSweeps([sweep], { db, workers: 0, checkpointDir: join(d, 'ckpt') }), (e: Error) => e instanceof UserError && why.test(e.message));
  assert.equal(existsSync(db), false);
});
