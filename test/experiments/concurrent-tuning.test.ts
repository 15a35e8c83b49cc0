// Two tuning sweeps on one store: the lr is selected only once every tuning run has a result, whether the other
// process finishes the run it holds or dies holding it (then this sweep takes the run over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expandGrid } from '../../src/experiments/grid.js';
import { runRecord } from '../../src/experiments/config.js';
import { parseSweepConfig, ResultsStore, runSweep, type SweepConfigInput } from '../../src/experiments/index.js';
import { writeFileSync } from 'node:fs';
import { cliCommand, tempDir } from './helpers.js';

const sweep: SweepConfigInput = {
  name: 'tuned',
  task: 'synthetic',
  base: { steps: 30, batchSize: 16, evalEvery: 10, params: { train: 256, valid: 64, test: 64 } },
  grid: { form: ['sgd'], lr: [0.003, 0.03, 0.3] },
  protocol: { tune: true, metric: 'valid/loss', finalSeeds: 2 },
};

/** The reference: the same sweep alone on its own store. */
async function reference(): Promise<{ db: string; selected: number; runs: number }> {
  const db = join(tempDir('tune-ref'), 'r.db');
  const r = await runSweep(sweep, { db, workers: 0 });
  const s = new ResultsStore(db, { readonly: true });
  const runs = s.listRuns().length;
  s.close();
  return { db, selected: r.selections[0]!.gridLr, runs };
}

/** A store with the sweep's tuning runs registered and the run of lr `gridLr` held by the live process `pid`. */
function storeWithHeldRun(gridLr: number, pid: number): { store: ResultsStore; hash: string } {
  const store = new ResultsStore(join(tempDir('tune'), 'r.db'));
  const planned = expandGrid(parseSweepConfig(sweep));
  for (const p of planned) store.ensureRun(p.hash, p.config, runRecord(p.config));
  const held = planned.find((p) => p.labels.gridLr === gridLr)!;
  store.db.prepare(`UPDATE runs SET status = 'running', owner = ? WHERE hash = ?`).run(`${pid}@${hostname()}#other`, held.hash);
  return { store, hash: held.hash };
}

test('a tuning sweep waits for the run another live process holds, and selects on its result', async () => {
  const ref = await reference();
  // The held run is the best one: selecting without it would pick another lr.
  const other = spawn('sleep', ['60']);
  const { store, hash } = storeWithHeldRun(ref.selected, other.pid!);
  const waits: number[] = [];
  const t0 = Date.now();
  // The other process finishes its run after 1.5 s: its row and metrics are copied from the reference store.
  const finisher = setTimeout(() => {
    const src = new ResultsStore(ref.db, { readonly: true });
    const row = src.db.prepare('SELECT status, summary, finished_at FROM runs WHERE hash = ?').get(hash) as { status: string; summary: string; finished_at: string };
    const ins = store.db.prepare('INSERT INTO metrics (hash, tag, step, epoch, value) VALUES (@hash, @tag, @step, @epoch, @value)');
    for (const m of src.db.prepare('SELECT hash, tag, step, epoch, value FROM metrics WHERE hash = ?').all(hash)) ins.run(m);
    store.db.prepare('UPDATE runs SET status = ?, summary = ?, owner = NULL, finished_at = ? WHERE hash = ?').run(row.status, row.summary, row.finished_at, hash);
    src.close();
  }, 1500);
  try {
    const r = await runSweep(sweep, { db: store, workers: 0, waitPollMs: 100, onProgress: (e) => { if (e.type === 'wait') waits.push(e.runs); } });
    assert.ok(Date.now() - t0 >= 1500, 'selected before the held run finished');
    assert.deepEqual(waits, [1]);
    assert.equal(r.selections[0]!.gridLr, ref.selected);
    // The two tuning runs it could claim, and final seed 1 (final seed 0 is the tuning run itself, by config hash).
    assert.equal(r.executed, 2 + 1);
    assert.equal(store.listRuns().length, ref.runs);
  } finally {
    clearTimeout(finisher);
    other.kill();
    store.close();
  }
});

test('a tuning sweep takes over the held run when its owner dies, then selects on every result', async () => {
  const ref = await reference();
  const other = spawn('sleep', ['60']);
  const { store, hash } = storeWithHeldRun(ref.selected, other.pid!);
  setTimeout(() => other.kill('SIGKILL'), 1000);
  try {
    const r = await runSweep(sweep, { db: store, workers: 0, waitPollMs: 100 });
    assert.equal(r.selections[0]!.gridLr, ref.selected);
    assert.equal(store.getRun(hash)!.status, 'done');
    assert.equal(store.getRun(hash)!.attempts, 1);
    assert.equal(r.executed, 3 + 1);
    assert.equal(store.listRuns().length, ref.runs);
  } finally {
    other.kill();
    store.close();
  }
});

test('two sweep processes started together on one store select the same lr and store each run once', async () => {
  const ref = await reference();
  const d = tempDir('tune-two');
  const cfg = join(d, 'sweep.json');
  writeFileSync(cfg, JSON.stringify(sweep));
  const db = join(d, 'r.db');
  // 30 ms per step: each run takes about a second, so the two processes interleave their claims.
  const env = { ...process.env, MOMENTUM_LAB_STEP_DELAY_MS: '30' };
  const start = (): Promise<{ code: number | null; out: string; err: string }> => new Promise((resolve) => {
    const p = spawn(process.execPath, [...cliCommand(), 'sweep', cfg, '--db', db, '--workers', '1', '--json'], { env });
    let out = '', err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
  const [a, b] = await Promise.all([start(), start()]);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const s = new ResultsStore(db, { readonly: true });
  const runs = s.listRuns();
  assert.equal(runs.length, ref.runs);
  assert.ok(runs.every((x) => x.status === 'done'), runs.map((x) => x.status).join(' '));
  for (const out of [a.out, b.out]) {
    const sel = (JSON.parse(out) as { selections: { gridLr: number }[] }).selections;
    assert.equal(sel[0]!.gridLr, ref.selected);
  }
  s.close();
});
