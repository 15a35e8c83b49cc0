/**
 * Crash recovery: a sweep (and a single run) started in a child process is killed with SIGKILL mid-run, started
 * again, and the final store is compared with an uninterrupted run: same run set, same statuses and diverged steps,
 * same metric rows bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsStore, runSweep, type SweepConfigInput } from '../../src/experiments/index.js';
import { cliCommand, repoRoot, storeLines, storeStatuses, tempDir } from './helpers.js';

function startSweep(cfg: string, db: string, delayMs: number): ChildProcess {
  return spawn(process.execPath, [...cliCommand(), 'sweep', cfg, '--db', db, '--workers', '2'], {
    cwd: repoRoot(),
    env: { ...process.env, MOMENTUM_LAB_STEP_DELAY_MS: String(delayMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exited = (c: ChildProcess): Promise<number | null> => new Promise((r) => {
  if (c.exitCode !== null || c.signalCode !== null) r(c.exitCode);
  else c.on('exit', (code) => r(code));
});

async function waitFor(cond: () => boolean, child: ChildProcess, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (child.exitCode !== null) throw new Error(`child exited (code ${child.exitCode}) before ${what}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Everything that must match an uninterrupted run: run set, status, divergence step, summary, metric rows. */
function assertSameStore(a: string, b: string): void {
  assert.deepEqual(storeLines(a), storeLines(b));
}

test('a sweep killed with SIGKILL mid-run and restarted ends with the same store as an uninterrupted one', async () => {
  const d = tempDir('crash');
  const sweep: SweepConfigInput = {
    name: 'crash',
    task: 'synthetic',
    base: { steps: 300, batchSize: 16, evalEvery: 25, checkpointEvery: 40, params: { train: 512, valid: 128, test: 128 } },
    // 4 × 2 = 8 runs; lr 3000 diverges (recorded with its step).
    grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.03, 0.1, 0.3, 3000] },
  };
  const cfg = join(d, 'sweep.json');
  writeFileSync(cfg, JSON.stringify(sweep));
  const ref = join(d, 'ref.db');
  await runSweep(sweep, { db: ref, workers: 0, checkpointDir: join(d, 'ref.ckpt') });

  const db = join(d, 'crash.db');
  // 2 ms per step: a 300-step run takes ≥ 0.6 s, so the kill lands mid-run.
  const child = startSweep(cfg, db, 2);
  await waitFor(() => (storeStatuses(db).done ?? 0) >= 1 && (storeStatuses(db).running ?? 0) >= 1, child, 'a finished run and a running one');
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGKILL');
  await exited(child);
  const mid = storeStatuses(db);
  assert.ok((mid.running ?? 0) >= 1, `killed state should have interrupted runs: ${JSON.stringify(mid)}`);
  assert.ok((mid.done ?? 0) + (mid.diverged ?? 0) < 8, `killed too late: ${JSON.stringify(mid)}`);

  const again = spawnSync(process.execPath, [...cliCommand(), 'sweep', cfg, '--db', db, '--workers', '2', '--json', '--quiet'], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  const out = JSON.parse(again.stdout) as { executed: number; counts: Record<string, number> };
  assert.deepEqual(out.counts, { done: 6, diverged: 2 });
  assert.equal(out.executed, 8 - (mid.done ?? 0) - (mid.diverged ?? 0));
  assertSameStore(db, ref);
});

test('a single run killed between checkpoints resumes from its last checkpoint and ends bit-identical', async () => {
  const d = tempDir('crash1');
  const sweep: SweepConfigInput = {
    name: 'one',
    task: 'synthetic',
    base: {
      steps: 500, batchSize: 16, evalEvery: 25, checkpointEvery: 60, params: { train: 512, valid: 128, test: 128 },
      optimizer: { form: 'pytorch', lr: 0.02, momentum: 0.9, schedule: { kind: 'multistep', milestones: [300], gamma: 0.1 } },
    },
  };
  const cfg = join(d, 'one.json');
  writeFileSync(cfg, JSON.stringify(sweep));
  const ref = join(d, 'ref.db');
  await runSweep(sweep, { db: ref, workers: 0, checkpointDir: join(d, 'ref.ckpt') });

  const db = join(d, 'one.db');
  const ckptDir = `${db}.ckpt`;
  const child = startSweep(cfg, db, 3);
  // Wait for the first checkpoint (step 60), then kill ~100 ms later: between checkpoints 60 and 120 or later ones.
  await waitFor(() => existsSync(ckptDir) && readdirSync(ckptDir).some((f) => f.endsWith('.ckpt')), child, 'the first checkpoint');
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGKILL');
  await exited(child);
  assert.deepEqual(storeStatuses(db), { running: 1 });

  const again = spawnSync(process.execPath, [...cliCommand(), 'sweep', cfg, '--db', db, '--workers', '2', '--quiet'], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  const s = new ResultsStore(db, { readonly: true });
  const run = s.listRuns()[0]!;
  s.close();
  assert.equal(run.status, 'done');
  assert.equal(run.attempts, 2);
  // It resumed from a checkpoint step (a multiple of 60 below 500), not from scratch.
  assert.ok(run.resumedFromStep !== null && run.resumedFromStep > 0 && run.resumedFromStep % 60 === 0 && run.resumedFromStep < 500, `resumedFromStep ${run.resumedFromStep}`);
  assertSameStore(db, ref);
});
