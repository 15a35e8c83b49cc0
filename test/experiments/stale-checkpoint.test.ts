/**
 * Checkpoints belong to the store whose runs wrote them: a finished run's checkpoint is removed once its results
 * are committed, and a checkpoint written for another store (or for none) is never resumed, so deleting the results
 * store and sweeping again trains every run again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { executeRun, expandGrid, parseSweepConfig, ResultsStore, runSweep, type SweepConfigInput } from '../../src/experiments/index.js';
import { tempDir } from './helpers.js';
import { withStderrLines } from '../helpers.js';

const sweep: SweepConfigInput = {
  name: 'stale',
  task: 'synthetic',
  base: { steps: 60, batchSize: 16, evalEvery: 20, checkpointEvery: 20, params: { train: 512, valid: 128, test: 128 } },
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.05, 0.1] },
};

function storeContents(db: string): { runs: unknown[]; metrics: unknown[] } {
  const s = new ResultsStore(db, { readonly: true });
  try {
    const runs = s.listRuns().map((r) => ({ hash: r.hash, status: r.status, summary: r.summary, resumedFromStep: r.resumedFromStep }))
      .sort((a, b) => a.hash.localeCompare(b.hash));
    return { runs, metrics: s.metrics() };
  } finally {
    s.close();
  }
}

const ckptFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ckpt')) : []);

function removeStore(db: string): void {
  for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
}

test('sweep, delete the store, keep its checkpoint folder, sweep again: every run trains again and matches a clean run', async () => {
  const d = tempDir('stale');
  const clean = join(d, 'clean.db');
  await runSweep(sweep, { db: clean, workers: 0 });

  const db = join(d, 'r.db');
  const first = await runSweep(sweep, { db, workers: 1 });
  assert.equal(first.executed, 4);
  // Committed runs keep no checkpoint.
  assert.deepEqual(ckptFiles(`${db}.ckpt`), []);
  removeStore(db);
  assert.ok(existsSync(`${db}.ckpt`));
  const again = await runSweep(sweep, { db, workers: 1 });
  assert.equal(again.executed, 4);
  const got = storeContents(db);
  // resumedFromStep null: each run started at step 0 (a resumed run would report its checkpoint step, 60).
  assert.deepEqual(got.runs.map((r) => (r as { resumedFromStep: number | null }).resumedFromStep), [null, null, null, null]);
  assert.deepEqual(got, storeContents(clean));
});

test('a checkpoint not written for this store is not resumed: the run starts afresh, says so on stderr, and matches a clean run', async () => {
  const d = tempDir('foreign');
  const clean = join(d, 'clean.db');
  await runSweep(sweep, { db: clean, workers: 0 });

  // Checkpoints left by runs of the same configs outside this store (here: straight executeRun calls).
  const db = join(d, 'r.db');
  const ckptDir = `${db}.ckpt`;
  for (const p of expandGrid(parseSweepConfig(sweep))) await executeRun(p.config, p.hash, { checkpointDir: ckptDir });
  assert.equal(ckptFiles(ckptDir).length, 4);

  const { lines } = await withStderrLines(() => runSweep(sweep, { db, workers: 0 }));
  const got = storeContents(db);
  assert.deepEqual(got.runs.map((r) => (r as { resumedFromStep: number | null }).resumedFromStep), [null, null, null, null]);
  assert.deepEqual(got, storeContents(clean));
  assert.equal(lines.length, 4, lines.join('\n'));
  for (const l of lines) assert.match(l, /checkpoint .*\.ckpt was not written for results store .*r\.db; starting the run afresh/);
  assert.deepEqual(ckptFiles(ckptDir), []);
});
