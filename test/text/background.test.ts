/**
 * The text experiment on its own thread (runTextInBackground, as the paper suite runs it) gives runText's result and
 * log, and a failure inside the thread comes back as the caller's error.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../helpers.js';
import { isUserError } from '../../src/core/util/errors.js';
import { runText, runTextInBackground, textPlan, type TextPlan } from '../../src/experiments/text/index.js';

// The real corpus with a tiny model and a few steps: seconds, yet every stage of the experiment runs.
const base = textPlan('quick');
const plan: TextPlan = {
  ...base,
  model: { seqLen: 32, dim: 16, heads: 2, layers: 1 },
  pretrain: { ...base.pretrain, maxPerDoc: 1, slots: 2, steps: 20, batch: 8, evalEvery: 10 },
  fineTune: { ...base.fineTune, shots: [4], dataSeeds: [13, 21], lr: [0.03], steps: 5, batch: 4, maxValidationShot: 4, controls: ['random-init'] },
};
// Lines carry elapsed seconds, which differ between runs.
const untimed = (lines: string[]): string[] => lines.map((l) => l.replace(/\d+(\.\d+)? s\b/g, 'N s'));

test('on its own thread the text experiment gives the same result and log as in the caller', async () => {
  const dirA = mkdtempSync(join(tmpdir(), 'text-bg-'));
  const dirB = mkdtempSync(join(tmpdir(), 'text-bg-'));
  try {
    const inline: string[] = [];
    const a = await runText('quick', dirA, (l) => inline.push(l), plan);
    const job = runTextInBackground('quick', dirB, plan);
    const background: string[] = [];
    const b = await job.finish((l) => background.push(l));
    assert.equal(b.cached, false);
    const strip = (r: typeof a.result): unknown => JSON.parse(JSON.stringify({ ...r, pretraining: { ...r.pretraining, seconds: 0 }, seconds: 0 }, (k, v: unknown) => (k === 'seconds' || k === 'checkpoint' ? 0 : v)));
    assert.deepEqual(strip(b.result), strip(a.result));
    assert.deepEqual(untimed(background), untimed(inline));
    assert.ok(background.length > 5, background.join('\n'));
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test("a user error in the text experiment's thread is the caller's UserError, and cancel() stops a thread nobody waits for", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'text-bg-'));
  try {
    // A plan the experiment refuses (a vocabulary too small for the label word "ham"): the caller gets that UserError.
    const job = runTextInBackground('quick', dir, { ...plan, tokenizer: { vocabSize: 200, minCount: 2 } });
    await assert.rejects(job.finish(() => {}), (e: Error) => isUserError(e) && /"ham" is \d tokens/.test(e.message));
    const other = runTextInBackground('quick', join(dir, 'out'), plan);
    other.cancel();
    // Cancelled before it finished: finish() reports the stopped thread instead of waiting for ever.
    await assert.rejects(other.finish(() => {}), /exited/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
