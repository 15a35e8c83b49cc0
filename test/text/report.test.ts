/** The paper report's text section and claims.json fields, from a suite result holding only the text part. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../helpers.js';
import { textFineTuneClaim } from '../../src/experiments/paper/claims.js';
import { paperPlan } from '../../src/experiments/paper/plan.js';
import type { PaperResult } from '../../src/experiments/paper/suite.js';
import { ResultsStore } from '../../src/node/store.js';
import { writePaperReport } from '../../src/report/paper.js';

test('report: section 3b with the pre-training curve and accuracy vs K; claims.json carries pretraining and text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'text-report-'));
  try {
    const db = join(dir, 'runs.db');
    new ResultsStore(db).close();
    const runs = { seeds: [13, 21, 42], sgd: [0.80, 0.82, 0.81], sgdm: [0.81, 0.82, 0.80] };
    const rows = [{ task: 'spam', k: 16, validationShot: 16, sgdEta: 0.03, sgdmEta: 0.03, sgdValid: 0.9, sgdmValid: 0.9, runs }];
    const controls = [{ task: 'spam', variant: 'random-init' as const, k: 16, eta: 0.01, seeds: [13, 21, 42], accuracies: [0.7, 0.68, 0.69] }];
    const tasks = [{ task: 'spam', classes: ['ham', 'spam'], labelWords: ['ham', 'spam'], majority: 0.728, testExamples: 1127, trainPool: [1443, 587] }];
    const pretraining = { mlmLoss: 6.06, unigramLoss: 6.41, steps: 300 };
    const claim = textFineTuneClaim(rows, controls, tasks, pretraining);
    const r: PaperResult = {
      plan: paperPlan('quick', 'mnist'), claims: [claim], db,
      details: {
        batchSelections: [], batchBudgets: [], svagEta: null, fineTuneShift: null, fineTuneSelections: [], theory: [], seconds: 1,
        text: {
          pretraining: { ...pretraining, curve: [{ step: 0, loss: 6.42 }, { step: 300, loss: 6.06 }], trainSequences: 13974, heldOutTokens: 3001, vocab: 3000, parameters: 301432, seconds: 50, checkpoint: 'x.ckpt' },
          tasks, rows, controls, seconds: 100, reductions: ['a small transformer'],
        },
      },
    };
    const files = await writePaperReport(r, dir);
    const html = readFileSync(files.html, 'utf8');
    assert.match(html, /3b\. Fine-tuning a masked LM on text/);
    assert.match(html, /random-init K = 16: 69\.0%/);
    for (const c of ['text-pretraining', 'text-spam-vs-k']) assert.ok(existsSync(join(dir, 'charts', `${c}.svg`)), c);
    const json = JSON.parse(readFileSync(files.claims, 'utf8')) as { claims: { id: string; pretraining: unknown }[]; text: { reductions: string[] } };
    assert.deepEqual(json.claims[0]!.pretraining, pretraining);
    assert.deepEqual(json.text.reductions, ['a small transformer']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
