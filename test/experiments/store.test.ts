import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportRuns, ResultsStore, runGridSweeps, runSweep, type SweepConfigInput } from '../../src/experiments/index.js';
import { tempDir } from './helpers.js';

const sweep: SweepConfigInput = {
  name: 'small',
  task: 'synthetic',
  base: { steps: 60, batchSize: 16, evalEvery: 20, checkpointEvery: 30, params: { train: 512, valid: 128, test: 128 } },
  // lr 3000 diverges: the loss passes 100× its initial value (divergence.factor) within a few steps.
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.1, 3000] },
};

test('re-running a sweep skips finished runs; a run left running by a dead process is re-done', async () => {
  const d = tempDir('store');
  const db = join(d, 'r.db');
  const first = await runSweep(sweep, { db, workers: 0 });
  assert.equal(first.runs.length, 4); // sgd × 2 lr + pytorch(β=0.9) × 2 lr
  assert.equal(first.executed, 4);
  const again = await runSweep(sweep, { db, workers: 0 });
  assert.equal(again.executed, 0);
  assert.deepEqual(again.runs.map((r) => r.status), first.runs.map((r) => r.status));

  // Simulate a run interrupted by a crash: status running, owned by a process that no longer exists.
  const s = new ResultsStore(db);
  const victim = first.runs.find((r) => r.status === 'done')!.hash;
  const before = s.metrics(victim);
  s.db.prepare(`UPDATE runs SET status = 'running', owner = '999999999@' || ? || '#dead' WHERE hash = ?`).run((await import('node:os')).hostname(), victim);
  // And one held by a live process (this one, another owner token): it must be left alone.
  const busy = first.runs.find((r) => r.status === 'done' && r.hash !== victim)!.hash;
  s.db.prepare(`UPDATE runs SET status = 'running', owner = ? WHERE hash = ?`).run(`${process.ppid}@${(await import('node:os')).hostname()}#live`, busy);
  const third = await runSweep(sweep, { db: s, workers: 0 });
  assert.equal(third.executed, 1);
  assert.equal(third.runs.find((r) => r.hash === busy)!.status, 'busy');
  const after = s.getRun(victim)!;
  assert.equal(after.status, 'done');
  assert.equal(after.attempts, 2);
  assert.deepEqual(s.metrics(victim), before); // same rows, none duplicated
  s.close();
});

test('diverged runs are stored as diverged with their step, never dropped; export keeps them', async () => {
  const d = tempDir('store');
  const db = join(d, 'r.db');
  const r = await runSweep(sweep, { db, workers: 0 });
  const s = new ResultsStore(db, { readonly: true });
  const runs = s.listRuns();
  assert.equal(runs.length, 4);
  const diverged = runs.filter((x) => x.status === 'diverged');
  assert.equal(diverged.length, 2); // both lr = 3000 runs
  for (const x of diverged) {
    assert.equal(x.config.optimizer.form === 'sgd' ? x.config.optimizer.lr : x.config.optimizer.lr / (1 - 0.9), 3000);
    assert.ok(typeof x.divergedAtStep === 'number' && x.divergedAtStep > 0 && x.divergedAtStep < 60);
    assert.ok(s.metrics(x.hash).length > 0); // its initial evaluation is kept
  }
  for (const x of runs) assert.equal(x.record.firstStep !== undefined && x.record.weightDecayPlacement !== undefined, true);
  let csv = '';
  exportRuns(s, 'csv', (t) => { csv += t; });
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'hash,task,status,diverged_at_step,form,lr,momentum,effective_lr,dampening,nesterov,weight_decay,weight_decay_mode,batch_size,svag,seed,steps,tag,step,epoch,value');
  assert.equal(lines.length - 1, s.metrics().length);
  assert.ok(lines.some((l) => l.includes(',diverged,')));
  let jsonl = '';
  exportRuns(s, 'jsonl', (t) => { jsonl += t; });
  const objs = jsonl.trim().split('\n').map((l) => JSON.parse(l) as { status: string; metrics: Record<string, { values: number[] }> });
  assert.equal(objs.length, 4);
  assert.equal(objs.filter((o) => o.status === 'diverged').length, 2);
  const done = objs.find((o) => o.status === 'done')!;
  // steps 0, 20, 40, 60 ⇒ 4 points per tag
  assert.equal(done.metrics['valid/loss']!.values.length, 4);
  s.close();
  assert.equal(r.runs.length, 4);
});

test('DeepOBS protocol: tune lr per setting, then re-run the best with the final seeds', async () => {
  const d = tempDir('store');
  const db = join(d, 'r.db');
  const r = await runSweep({ ...sweep, grid: { ...sweep.grid, lr: [0.01, 0.3, 3000] }, protocol: { tune: true, metric: 'valid/loss', finalSeeds: 3 } }, { db, workers: 0 });
  assert.equal(r.selections.length, 2);
  const s = new ResultsStore(db, { readonly: true });
  for (const sel of r.selections) {
    // The chosen lr has the smallest final valid/loss among the candidates; diverged (3000) scores +∞.
    const min = Math.min(...sel.candidates.map((c) => c.score));
    assert.equal(sel.score, min);
    assert.equal(sel.candidates.find((c) => c.gridLr === 3000)!.score, Infinity);
  }
  const finals = r.runs.filter((x) => x.phase === 'final');
  assert.equal(finals.length, 6); // 2 settings × seeds 0, 1, 2 (seed 0 shared with the tuning run)
  assert.equal(new Set(finals.map((x) => x.labels.seed)).size, 3);
  assert.equal(s.listRuns().length, 6 + 4); // 6 tuning runs + 4 new final runs
  s.close();
});

test('the train task adapter runs the engine (synthetic data, held-out validation) and stores valid/* per epoch', async () => {
  const d = tempDir('train');
  const db = join(d, 'r.db');
  const r = await runSweep({
    name: 'engine',
    task: 'train',
    base: { batchSize: 50, steps: 20, params: { dataset: 'synthetic', model: 'mlp', epochs: 1, validation: 500, evalLimit: 200 }, optimizer: { lr: 0.1 } },
    grid: { form: ['sgd', 'pytorch'], momentum: [0.9] },
  }, { db, workers: 0 });
  assert.deepEqual(r.runs.map((x) => x.status), ['done', 'done']);
  const s = new ResultsStore(db, { readonly: true });
  for (const run of s.listRuns()) {
    const series = s.metricSeries(run.hash);
    // steps = 20 caps the single epoch, so the engine evaluates once, at step 20.
    assert.deepEqual(Object.keys(series).sort(), ['train/loss', 'valid/accuracy', 'valid/loss']);
    assert.deepEqual(series['valid/loss']!.map((p) => p.step), [20]);
    assert.ok(run.summary!['final/valid/accuracy']! >= 0 && run.summary!['final/valid/accuracy']! <= 1);
  }
  s.close();
});

test('a protocol metric the task never logs is a one-line error naming the logged ones', async () => {
  const d = tempDir('store');
  await assert.rejects(runSweep({ ...sweep, grid: { lr: [0.1] }, protocol: { tune: true, metric: 'valid/acc' } }, { db: join(d, 'r.db'), workers: 0 }),
    /protocol\.metric: valid\/acc was not logged by these runs \(logged: .*valid\/accuracy/);
});

test('runGridSweeps: several sweeps share one pool, each gets its own planned runs, shared runs execute once', async () => {
  const d = tempDir('grids');
  const db = join(d, 'r.db');
  const a: SweepConfigInput = { ...sweep, name: 'a', grid: { form: ['sgd'], lr: [0.1], seed: [0, 1, 2] } };
  const b: SweepConfigInput = { ...sweep, name: 'b', grid: { form: ['pytorch'], momentum: [0.9], lr: [0.1], seed: [0, 1, 2] } };
  // c repeats a's seed 0: the same config hash, so it must run once and be reported to both sweeps.
  const c: SweepConfigInput = { ...sweep, name: 'c', grid: { form: ['sgd'], lr: [0.1], seed: [0] } };
  const planned = await runGridSweeps([a, b, c], { db, workers: 2 });
  assert.deepEqual(planned.map((p) => p.length), [3, 3, 1]);
  assert.equal(planned[2]![0]!.hash, planned[0]![0]!.hash);
  const s = new ResultsStore(db);
  const all = new Set(planned.flat().map((p) => p.hash));
  assert.equal(all.size, 6);
  for (const h of all) {
    const r = s.getRun(h)!;
    assert.equal(r.status, 'done');
    assert.equal(r.attempts, 1);
  }
  // Same results as running each sweep on its own, and nothing left to do on a second call.
  const alone = await runSweep(b, { db: join(d, 'alone.db'), workers: 0 });
  assert.deepEqual(alone.runs.map((r) => r.hash), planned[1]!.map((p) => p.hash));
  const again = await runSweep(a, { db: s, workers: 0 });
  assert.equal(again.executed, 0);
  s.close();
});

test('runGridSweeps refuses a tuning sweep (its final phase needs runSweep)', async () => {
  await assert.rejects(runGridSweeps([{ ...sweep, protocol: { tune: true } }], { db: join(tempDir('grids2'), 'r.db'), workers: 0 }), /protocol\.tune; use runSweep/);
});
