// `train --checkpoint F --resume`: a run killed with SIGKILL and started again with the same flags ends with the
// same results, to the bit, as an uninterrupted run (with dropout too: its generators are in the checkpoint); a
// checkpoint of another run or model is refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'mlab-resume-'));
const flags = ['train', '--dataset', 'mnist', '--model', 'mlp', '--optimizer', 'sgdm', '--lr', '0.02', '--batch', '32', '--epochs', '2', '--seed', '3', '--threads', '1', '--json'];

function final(stdout: string): { testLoss: number; testAccuracy: number; trainLoss: number; steps: number } {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/**
 * Runs `flags` uninterrupted, then with `--checkpoint F --checkpoint-every every --resume` killed (SIGKILL) as soon as
 * its first checkpoint is on disk and started again with the same flags; returns both runs' outputs.
 */
async function killAndResume(flags: string[], ckpt: string, every: number): Promise<{ ref: SpawnSyncReturns<string>; again: SpawnSyncReturns<string> }> {
  const ref = spawnSync(process.execPath, [cli, ...flags], { encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const args = [cli, ...flags, '--checkpoint', ckpt, '--checkpoint-every', String(every), '--resume'];
  // Kill the first attempt as soon as its first checkpoint is on disk (if it finishes first, resuming still replays
  // from its last checkpoint, which is the same test).
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(ckpt) || child.exitCode !== null) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
  });
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  const again = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resuming from step \d+/);
  return { ref, again };
}

function assertSameResults(ref: SpawnSyncReturns<string>, again: SpawnSyncReturns<string>): void {
  const a = final(ref.stdout), b = final(again.stdout);
  assert.equal(b.steps, a.steps);
  assert.equal(b.testLoss, a.testLoss);
  assert.equal(b.testAccuracy, a.testAccuracy);
  assert.equal(b.trainLoss, a.trainLoss);
}

test('a run killed between checkpoints resumes and ends bit-identical to an uninterrupted run', { timeout: 180_000 }, async () => {
  const { ref, again } = await killAndResume(flags, join(dir, 'run.ckpt'), 40);
  assertSameResults(ref, again);
});

test('a run with dropout killed mid-run resumes with its dropout generators and ends bit-identical', { timeout: 180_000 }, async () => {
  // 498 steps of ≈1 ms with 256 hidden units: checkpoints 100 steps apart leave ample time to kill the run mid-way.
  const model = '{"kind":"mlp","hidden":[256],"dropout":0.3}';
  const { ref, again } = await killAndResume(flags.map((f) => (f === 'mlp' ? model : f)), join(dir, 'dropout.ckpt'), 100);
  const from = Number(/resuming from step (\d+)/.exec(again.stderr)![1]);
  assert.ok(from > 0 && from < final(ref.stdout).steps, `resumed from step ${from}`);
  assertSameResults(ref, again);
});

test('resume refuses a checkpoint written with other flags, and init-from one of another model', () => {
  const ckpt = join(dir, 'run.ckpt');
  const other = spawnSync(process.execPath, [cli, ...flags.map((f) => (f === '0.02' ? '0.03' : f)), '--checkpoint', ckpt, '--resume'], { encoding: 'utf8' });
  assert.equal(other.status, 2);
  assert.match(other.stderr, /^error: checkpoint .* was written by a run with other flags/);
  const cnn = spawnSync(process.execPath, [cli, ...flags.map((f) => (f === 'mlp' ? 'cnn' : f)), '--init-from', ckpt, '--max-steps', '1'], { encoding: 'utf8' });
  assert.equal(cnn.status, 2);
  assert.equal(cnn.stderr.trim().split('\n').length, 1, cnn.stderr);
  const bad = join(dir, 'garbage.ckpt');
  writeFileSync(bad, 'not a checkpoint');
  const g = spawnSync(process.execPath, [cli, ...flags, '--init-from', bad], { encoding: 'utf8' });
  assert.equal(g.status, 2);
  assert.match(g.stderr, /not a momentum-lab checkpoint/);
});
