// The README's main command end to end: `momentum-lab paper --quick` on the embedded MNIST digits writes
// claims.json with a computed verdict for every claim and a report that headless Chromium renders with every chart
// drawn; a second invocation resumes from the results store instead of training again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReportInBrowser, chromiumAvailable } from '../../src/report/browser.js';
import { repoRoot } from '../helpers.js';
import { compareJson } from '../../scripts/compare-claims.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const out = mkdtempSync(join(tmpdir(), 'mlab-paper-'));
const VERDICTS = ['supported', 'not supported', 'inconclusive'];

interface ClaimsFile { mode: string; dataset: string; margin: number; fineTuneSelections: { k: number; validationShot: number; sgdValid: number; sgdmValid: number }[]; batchSelections: { optimizer: string; batch: number; eta: number }[]; claims: { id: string; verdict: string; criterion: string; measurements: unknown[] }[] }

test('paper --quick runs every experiment and computes a verdict for each claim', { timeout: 30 * 60_000 }, () => {
  const r = spawnSync(process.execPath, [cli, 'paper', '--quick', '--out', out, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const claims = JSON.parse(r.stdout) as ClaimsFile;
  assert.equal(claims.mode, 'quick');
  assert.equal(claims.dataset, 'mnist');
  const ids = claims.claims.map((c) => c.id);
  for (const id of ['matched-lr', 'batch-size', 'batch-size/stricter', 'advisor', 'svag', 'fine-tuning', 'fine-tuning-text', 'theory/stationary', 'theory/weak-approx', 'theory/coupling', 'theory/slow-sde', 'theory/svag', 'theory/curvature-vs-noise', 'memory']) {
    assert.ok(ids.includes(id), `claim ${id} missing from claims.json`);
  }
  for (const c of claims.claims) {
    assert.ok(VERDICTS.includes(c.verdict), `${c.id}: verdict ${c.verdict}`);
    assert.ok(c.criterion.length > 20, `${c.id} states its criterion`);
    assert.ok(c.measurements.length > 0, `${c.id} carries its measurements`);
  }
  // The training experiments measured something: 4 batch sizes (3 matched η at each), 3 SVAG levels, 3 values of K.
  assert.equal(claims.claims.find((c) => c.id === 'batch-size')!.measurements.length, 4);
  assert.equal(claims.claims.find((c) => c.id === 'matched-lr')!.measurements.length, 12);
  // Every SGD/SGDM comparison carries its statistics and one of the three outcomes, at the declared margin.
  assert.equal(claims.margin, 0.01);
  for (const id of ['matched-lr', 'batch-size', 'batch-size/stricter', 'svag', 'fine-tuning']) {
    for (const m of claims.claims.find((c) => c.id === id)!.measurements as Record<string, unknown>[]) {
      for (const k of ['diff', 'ci95', 'pValue', 'test', 'margin', 'n', 'outcome']) assert.ok(k in m, `${id}: a comparison lacks ${k}`);
      assert.ok(['different', 'equivalent', 'inconclusive'].includes(m.outcome as string), `${id}: outcome ${String(m.outcome)}`);
    }
  }
  // Fine-tuning chose its lr on validation runs: one choice per K, each with its validation accuracy.
  assert.equal(claims.fineTuneSelections.length, 3);
  assert.ok(claims.fineTuneSelections.every((s) => s.validationShot === Math.min(s.k, 128) && s.sgdValid > 0 && s.sgdmValid > 0));
  // The tuned effective lr of both optimisers at each of the 4 batch sizes, on the grid's η values.
  assert.equal(claims.batchSelections.length, 8);
  assert.ok(claims.batchSelections.every((b) => b.eta > 0 && ['sgd', 'sgdm'].includes(b.optimizer)), JSON.stringify(claims.batchSelections));
  assert.equal(claims.claims.find((c) => c.id === 'svag')!.measurements.length, 3);
  assert.equal(claims.claims.find((c) => c.id === 'fine-tuning')!.measurements.length, 3);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'claims.json'), 'utf8')), claims);
  // Same code, same seeds, same numbers: every value of the committed run comes out again, bit for bit, except the
  // time and peak-memory readings (scripts/compare-claims.ts).
  const committed: unknown = JSON.parse(readFileSync(join(repoRoot(), 'results/paper-quick/claims.json'), 'utf8'));
  const diff = compareJson(committed, claims);
  assert.deepEqual(diff.differences, [], 'paper --quick no longer reproduces results/paper-quick/claims.json');
  assert.ok(diff.compared > 500, `only ${diff.compared} values compared`);
});

test('the paper report renders in headless Chromium with every chart drawn and no console errors', { timeout: 120_000 }, async (t) => {
  assert.ok(chromiumAvailable(), '/usr/bin/chromium not installed: run ./scripts/setup-debian.sh');
  const html = join(out, 'report.html');
  assert.ok(existsSync(html));
  const page = await checkReportInBrowser(html);
  assert.deepEqual(page.consoleErrors, []);
  assert.deepEqual(page.externalRequests, []);
  const charts = Object.entries(page.marks);
  // 2 batch-size charts, 2 SVAG charts, 1 fine-tuning chart, 6 theory charts.
  assert.ok(charts.length >= 11, `only ${charts.length} charts: ${JSON.stringify(page.marks)}`);
  for (const [name, marks] of charts) assert.ok(marks > 0, `chart ${name} drew no marks`);
});

test('re-running paper --quick resumes from the results store and the kept probes (no training repeated, same claims)', { timeout: 10 * 60_000 }, () => {
  // Every run's row, finish time included, must be untouched by the second invocation (a re-run would rewrite it).
  const snapshot = (): string => {
    const db = new Database(join(out, 'runs.db'), { readonly: true });
    try {
      return JSON.stringify(db.prepare('SELECT hash, status, finished_at FROM runs ORDER BY hash').all());
    } finally {
      db.close();
    }
  };
  const before = snapshot();
  const first = JSON.parse(readFileSync(join(out, 'claims.json'), 'utf8')) as ClaimsFile;
  const r = spawnSync(process.execPath, [cli, 'paper', '--quick', '--out', out, '--skip', 'theory,memory'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.doesNotMatch(r.stderr, /\bstart\b/, 'a finished run was started again');
  assert.equal(snapshot(), before);
  // The regime and advisor probes come from their probe-*.json files (src/experiments/paper/probe-cache.ts), and
  // the claims built on them are the first run's, value for value.
  const output = r.stdout + r.stderr;
  assert.match(output, /regime probes: .*\(4 of 4 kept from an earlier run\)/);
  assert.match(output, /advisor: .*\(4 of 4 probes kept from an earlier run\)/);
  const again = JSON.parse(readFileSync(join(out, 'claims.json'), 'utf8')) as ClaimsFile;
  for (const id of ['matched-lr', 'batch-size', 'batch-size/stricter', 'advisor']) {
    const diff = compareJson(first.claims.find((c) => c.id === id), again.claims.find((c) => c.id === id));
    assert.deepEqual(diff.differences, [], id);
    assert.ok(diff.compared > 10, `${id}: ${diff.compared} values compared`);
  }
});
